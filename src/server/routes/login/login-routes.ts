import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { assertSameOrigin, requireUser } from '../../plugins/auth.ts';
import type { AuditService } from '../../services/audit/audit-service.ts';
import type { SessionService } from '../../services/identity/session-service.ts';
import type { UserService } from '../../services/identity/user-service.ts';
import { retryAfterSeconds } from '../../services/security/attempt-limiter.ts';
import { errors } from '../common-schemas.ts';
import { UserSchema, userView } from '../users/user-schemas.ts';
import { createPasswordLogin, type PasswordLoginDeps, PasswordLoginBody, PasswordLoginResponses, setSessionCookie } from './password-login.ts';

export interface LoginRouteDeps extends PasswordLoginDeps {
  readonly users: Pick<UserService, 'hasAnyUser' | 'bootstrap' | 'verifyPassword' | 'get'>;
  readonly sessions: Pick<SessionService, 'create' | 'revoke'>;
  readonly audit: Pick<AuditService, 'record'>;
  readonly basePath: string;
}

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
 * session cookie and an optional second factor (password-login.ts), logout. Sign-in is refused
 * from a foreign origin (login CSRF), rate limited (upstream-pika.md §8.6), and every attempt is
 * audited.
 */
export function registerLoginRoutes(app: FastifyInstance, deps: LoginRouteDeps): void {
  const passwordLogin = createPasswordLogin(deps);

  function audit(request: FastifyRequest, action: string, actor: string, status: number) {
    deps.audit.record({ action, actor, actor_type: 'user', status, ip: request.ip, request_id: request.id });
  }

  app.post(
    '/login/register/local',
    { schema: { tags: ['login'], summary: 'Create the first user (superadmin); 409 afterwards', body: Registration, response: { 201: LoginResult, ...errors(400, 403, 409, 429) } } },
    async (request, reply) => {
      const body = request.body as { username: string; password: string; password_confirm: string };
      const actor = body.username.slice(0, 64);
      const attempt = await deps.loginGuard.attempt(request.ip, body.username);
      try {
        assertSameOrigin(request);
        if (!attempt.verdict.allowed) throw new AppError('ERR_RATE_LIMITED', 'too many refused registrations; wait before trying again', { headers: { 'retry-after': retryAfterSeconds(attempt.verdict.retryAfterMs) } });
        if (body.password !== body.password_confirm) throw new AppError('ERR_PASSWORD_MISMATCH');
        const user = await deps.users.bootstrap(body.username, body.password);
        attempt.succeed();
        audit(request, 'login.register', user.username, 201);
        const session = await deps.sessions.create(user.id, { provider: 'local', ip: request.ip, userAgent: request.headers['user-agent'] });
        setSessionCookie(reply, deps.cookie, session.cookie, deps.cookie.maxAgeSeconds);
        return await reply.code(201).send({ user: userView(user) });
      } catch (err) {
        // Probing the endpoint after setup (409) counts like a wrong password; a refusal for
        // being rate limited or cross-origin checked nothing and does not.
        const status = err instanceof AppError ? err.status : 500;
        if (status < 500 && status !== 429 && status !== 403) attempt.fail();
        audit(request, status === 429 ? 'login.rate_limited' : 'login.register', actor, status);
        throw err;
      }
    },
  );

  app.post(
    '/login/pass/local',
    {
      schema: {
        tags: ['login'],
        summary: 'Password sign-in; sets the session cookie, or answers totp_required and then takes {totp_session_id, code}',
        body: PasswordLoginBody,
        response: PasswordLoginResponses,
      },
    },
    async (request, reply) => passwordLogin.handle(request, reply, { strategy: 'local', verify: (username, password) => deps.users.verifyPassword(username, password) }),
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
    setSessionCookie(reply, deps.cookie, '', 0);
    return { ok: true };
  });
}
