import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { assertSameOrigin, requireUser } from '../../plugins/auth.ts';
import type { AuditService } from '../../services/audit/audit-service.ts';
import type { UserRecord } from '../../services/identity/identity-records.ts';
import type { SessionService } from '../../services/identity/session-service.ts';
import type { UserService } from '../../services/identity/user-service.ts';
import { errors } from '../common-schemas.ts';
import { UserSchema, userView } from '../users/user-schemas.ts';

export interface LoginRouteDeps {
  readonly users: Pick<UserService, 'hasAnyUser' | 'bootstrap' | 'verifyPassword'>;
  readonly sessions: Pick<SessionService, 'create' | 'revoke'>;
  readonly audit: Pick<AuditService, 'record'>;
  readonly cookie: { readonly name: string; readonly secure: boolean; readonly sameSite: 'lax' | 'strict' | 'none'; readonly path: string; readonly maxAgeSeconds: number };
  readonly basePath: string;
}

const Credentials = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 128 }), password: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);
const Registration = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 4096 }),
    password_confirm: Type.String({ minLength: 1, maxLength: 4096 }),
  },
  { additionalProperties: false },
);
const LoginResult = Type.Object({ user: UserSchema });

/**
 * Built-in sign-in (SPEC §6, seed 002): first-run registration, password login with a DB-backed
 * session cookie, logout. Login is refused from a foreign origin (login CSRF), and every attempt
 * is audited. External strategies join this list in a later issue.
 */
export function registerLoginRoutes(app: FastifyInstance, deps: LoginRouteDeps): void {
  const setCookie = (reply: FastifyReply, value: string, maxAge: number) =>
    reply.setCookie(deps.cookie.name, value, { path: deps.cookie.path, httpOnly: true, secure: deps.cookie.secure, sameSite: deps.cookie.sameSite, maxAge });

  async function startSession(request: FastifyRequest, reply: FastifyReply, user: UserRecord) {
    const session = await deps.sessions.create(user.id, { provider: 'local', ip: request.ip, userAgent: request.headers['user-agent'] });
    setCookie(reply, session.cookie, deps.cookie.maxAgeSeconds);
    return { user: userView(user) };
  }

  function audit(request: FastifyRequest, action: string, actor: string, status: number) {
    deps.audit.record({ action, actor, actor_type: 'user', status, ip: request.ip, request_id: request.id });
  }

  /** Runs a sign-in step and audits refusals too (a registration attempt after setup, a login CSRF). */
  async function auditRefusals<T>(request: FastifyRequest, action: string, actor: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      audit(request, action, actor, err instanceof AppError ? err.status : 500);
      throw err;
    }
  }

  app.post(
    '/login/register/local',
    { schema: { tags: ['login'], summary: 'Create the first user (superadmin); 409 afterwards', body: Registration, response: { 201: LoginResult, ...errors(400, 403, 409) } } },
    async (request, reply) => {
      const body = request.body as { username: string; password: string; password_confirm: string };
      const user = await auditRefusals(request, 'login.register', body.username.slice(0, 64), async () => {
        assertSameOrigin(request);
        if (body.password !== body.password_confirm) throw new AppError('ERR_PASSWORD_MISMATCH');
        return deps.users.bootstrap(body.username, body.password);
      });
      audit(request, 'login.register', user.username, 201);
      const result = await startSession(request, reply, user);
      return reply.code(201).send(result);
    },
  );

  app.post(
    '/login/pass/local',
    { schema: { tags: ['login'], summary: 'Password sign-in; sets the session cookie', body: Credentials, response: { 200: LoginResult, ...errors(400, 401, 403) } } },
    async (request, reply) => {
      const body = request.body as { username: string; password: string };
      const user = await auditRefusals(request, 'login.failure', body.username.slice(0, 128), async () => {
        assertSameOrigin(request);
        const verified = await deps.users.verifyPassword(body.username, body.password);
        if (!verified) throw new AppError('ERR_INVALID_CREDENTIALS');
        return verified;
      });
      audit(request, 'login.success', user.username, 200);
      return startSession(request, reply, user);
    },
  );

  app.get('/login/me', { schema: { tags: ['login'], summary: 'The signed-in user', response: { 200: LoginResult, ...errors(401) } } }, async (request) => ({
    user: userView(requireUser(request).user),
  }));

  app.post('/logout', { schema: { tags: ['login'], summary: 'End the session', response: { 200: Type.Object({ ok: Type.Boolean() }) } } }, async (request, reply) => {
    assertSameOrigin(request);
    const principal = request.principal;
    if (principal?.kind === 'user') {
      await deps.sessions.revoke(principal.sessionHandle, principal.user.id);
      audit(request, 'logout', principal.user.username, 200);
    }
    setCookie(reply, '', 0);
    return { ok: true };
  });
}
