import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { requireUser } from '../../plugins/auth.ts';
import type { Principal } from '../../services/access/principal.ts';
import type { AuditService } from '../../services/audit/audit-service.ts';
import type { TotpService } from '../../services/identity/totp-service.ts';
import type { UserService } from '../../services/identity/user-service.ts';
import { retryAfterSeconds } from '../../services/security/attempt-limiter.ts';
import type { LoginGuard } from '../../services/security/login-guard.ts';
import { errors } from '../common-schemas.ts';

export interface MeTotpRouteDeps {
  readonly totp: Pick<TotpService, 'status' | 'begin' | 'finish' | 'remove' | 'regenerateRecoveryCodes'>;
  readonly users: Pick<UserService, 'verifyPassword'>;
  readonly loginGuard: Pick<LoginGuard, 'attempt'>;
  readonly audit: Pick<AuditService, 'record'>;
}

export const TotpStatusSchema = Type.Object({
  enabled: Type.Boolean(),
  created_at: Type.Optional(Type.String()),
  last_used_at: Type.Optional(Type.String()),
  recovery_codes_left: Type.Integer(),
  pending_enrollment: Type.Boolean(),
});
const Enrollment = Type.Object({ secret_base32: Type.String(), otpauth_url: Type.String(), period: Type.Integer(), digits: Type.Integer(), algorithm: Type.Literal('SHA1') });
const RecoveryCodes = Type.Object({ recovery_codes: Type.Array(Type.String()) });
const FinishBody = Type.Object({ code: Type.String({ minLength: 6, maxLength: 16 }) }, { additionalProperties: false });
const PasswordBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });
export const NoContent = Type.Null({ description: 'No content' });

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/**
 * Two-factor self-service (upstream-pika.md §1.15): enroll with an authenticator app, turn it
 * off, get new recovery codes. Under `/api/v1/me/`, so it works while the server is locked.
 * Turning it off and new codes need the password again: a stolen session alone must not be
 * enough to strip the second factor. Those password checks share the sign-in rate limits.
 */
export function registerMeTotpRoutes(app: FastifyInstance, deps: MeTotpRouteDeps): void {
  function audit(request: FastifyRequest, principal: UserPrincipal, entry: { action: string; status: number; detail?: string }) {
    deps.audit.record({ ...entry, actor: principal.user.username, actor_type: 'user', target: principal.user.username, ip: request.ip, request_id: request.id });
  }

  async function reauthenticate(request: FastifyRequest, principal: UserPrincipal, action: string): Promise<void> {
    const attempt = await deps.loginGuard.attempt(request.ip, principal.user.username);
    if (!attempt.verdict.allowed) {
      audit(request, principal, { action: 'login.rate_limited', status: 429, detail: action });
      throw new AppError('ERR_RATE_LIMITED', 'too many wrong passwords; wait before trying again', { headers: { 'retry-after': retryAfterSeconds(attempt.verdict.retryAfterMs) } });
    }
    const verified = await deps.users.verifyPassword(principal.user.username, (request.body as { password: string }).password);
    if (!verified || verified.id !== principal.user.id) {
      attempt.fail();
      audit(request, principal, { action, status: 401, detail: 'wrong password' });
      throw new AppError('ERR_INVALID_CREDENTIALS', 'the password is wrong');
    }
    attempt.succeed();
  }

  app.get('/api/v1/me/totp', { schema: { tags: ['me'], summary: 'Your two-factor sign-in state', response: { 200: TotpStatusSchema, ...errors(401, 403) } } }, async (request) => {
    return deps.totp.status(requireUser(request).user.id);
  });

  app.post('/api/v1/me/totp/begin', { schema: { tags: ['me'], summary: 'Start TOTP enrollment: a new secret and otpauth URL for an authenticator app', response: { 200: Enrollment, ...errors(401, 403, 409) } } }, async (request) => {
    const principal = requireUser(request);
    return deps.totp.begin(principal.user);
  });

  app.post('/api/v1/me/totp/finish', { schema: { tags: ['me'], summary: 'Confirm enrollment with a current code; returns 10 recovery codes, shown once', body: FinishBody, response: { 200: RecoveryCodes, ...errors(400, 401, 403, 409) } } }, async (request) => {
    const principal = requireUser(request);
    try {
      const codes = await deps.totp.finish(principal.user.id, (request.body as { code: string }).code);
      audit(request, principal, { action: 'totp.enabled', status: 200 });
      return { recovery_codes: codes };
    } catch (err) {
      if (err instanceof AppError) audit(request, principal, { action: 'totp.enable_failed', status: err.status, detail: err.code });
      throw err;
    }
  });

  app.delete('/api/v1/me/totp', { schema: { tags: ['me'], summary: 'Turn off two-factor sign-in (needs your password)', body: PasswordBody, response: { 204: NoContent, ...errors(400, 401, 403, 409, 429) } } }, async (request, reply) => {
    const principal = requireUser(request);
    await reauthenticate(request, principal, 'totp.disabled');
    await deps.totp.remove(principal.user.id);
    audit(request, principal, { action: 'totp.disabled', status: 204 });
    return reply.code(204).send();
  });

  app.post('/api/v1/me/totp/recovery-codes', { schema: { tags: ['me'], summary: 'New recovery codes (needs your password); the old ones stop working', body: PasswordBody, response: { 200: RecoveryCodes, ...errors(400, 401, 403, 409, 429) } } }, async (request) => {
    const principal = requireUser(request);
    await reauthenticate(request, principal, 'totp.recovery_codes_regenerated');
    const codes = await deps.totp.regenerateRecoveryCodes(principal.user.id);
    audit(request, principal, { action: 'totp.recovery_codes_regenerated', status: 200 });
    return { recovery_codes: codes };
  });
}
