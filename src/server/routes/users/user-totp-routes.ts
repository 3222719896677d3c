import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../../shared/errors.ts';
import { requireCap } from '../../plugins/auth.ts';
import { actorName, actorType, type Principal } from '../../services/access/principal.ts';
import type { AuditService } from '../../services/audit/audit-service.ts';
import type { UserRecord } from '../../services/identity/identity-records.ts';
import type { TotpService } from '../../services/identity/totp-service.ts';
import type { UserService } from '../../services/identity/user-service.ts';
import { errors } from '../common-schemas.ts';
import { NoContent, TotpStatusSchema } from './me-totp-routes.ts';
import { UserIdParams } from './user-schemas.ts';

export interface UserTotpRouteDeps {
  readonly users: Pick<UserService, 'get' | 'findByUsername'>;
  readonly totp: Pick<TotpService, 'status' | 'remove'>;
  readonly audit: Pick<AuditService, 'record'>;
}

/** The account a caller acts as: a signed-in user, or the user who minted the calling token. */
function ownUserId(principal: Principal): string | undefined {
  if (principal.kind === 'token') return principal.token.created_by_user_id;
  return principal.user?.id;
}

/**
 * Admin side of two-factor sign-in (`users.manage`, upstream-pika.md §8.7): see whether a user
 * has it and reset it for someone who lost their device and their recovery codes. Resetting
 * your own is refused — that must go through `DELETE /api/v1/me/totp` with your password, or an
 * admin session (or its tokens) could strip its own second factor without knowing the password.
 * Like every other change to a superadmin, only a superadmin may reset one.
 */
export function registerUserTotpRoutes(app: FastifyInstance, deps: UserTotpRouteDeps): void {
  async function findUser(ref: string): Promise<UserRecord> {
    const user = (await deps.users.get(ref)) ?? (await deps.users.findByUsername(ref));
    if (!user) throw new AppError('ERR_USER_NOT_FOUND', `no user "${ref}"`);
    return user;
  }

  function audit(request: FastifyRequest, principal: Principal, target: UserRecord, outcome: { status: number; detail?: string }) {
    deps.audit.record({ action: 'totp.reset', actor: actorName(principal), actor_type: actorType(principal), target: target.username, ...outcome, ip: request.ip, request_id: request.id });
  }

  app.get('/api/v1/users-totp/:id', { schema: { tags: ['users'], summary: "A user's two-factor sign-in state", params: UserIdParams, response: { 200: TotpStatusSchema, ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'users.manage');
    const target = await findUser((request.params as { id: string }).id);
    return deps.totp.status(target.id);
  });

  app.delete('/api/v1/users-totp/:id', { schema: { tags: ['users'], summary: "Reset a user's two-factor sign-in (not your own)", params: UserIdParams, response: { 204: NoContent, ...errors(401, 403, 404, 409) } } }, async (request, reply) => {
    const principal = requireCap(request, 'users.manage');
    const target = await findUser((request.params as { id: string }).id);
    try {
      if (ownUserId(principal) === target.id) throw new AppError('ERR_TOTP_SELF_RESET');
      if (target.is_superadmin && !principal.perms.superadmin) throw new AppError('ERR_FORBIDDEN', 'only a superadmin can reset the two-factor sign-in of a superadmin');
      await deps.totp.remove(target.id);
    } catch (err) {
      if (err instanceof AppError) audit(request, principal, target, { status: err.status, detail: err.code });
      throw err;
    }
    audit(request, principal, target, { status: 204 });
    return reply.code(204).send();
  });
}
