import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { requireUser } from '../../plugins/auth.ts';
import type { SessionService } from '../../services/identity/session-service.ts';
import type { UserService } from '../../services/identity/user-service.ts';
import { errors } from '../common-schemas.ts';
import { ChangePasswordBody, UserSchema, userView } from './user-schemas.ts';

export interface MeRouteDeps {
  readonly users: Pick<UserService, 'verifyPassword' | 'update'>;
  readonly sessions: Pick<SessionService, 'revokeAllForUser'>;
}

/** Self-service for the signed-in user (`/api/v1/me/*` passes the lockgate, SPEC §7.3). */
export function registerMeRoutes(app: FastifyInstance, deps: MeRouteDeps): void {
  app.get('/api/v1/me', { schema: { tags: ['me'], summary: 'The signed-in user and their permissions', response: { 200: Type.Object({ user: UserSchema, permissions: Type.Array(Type.String()) }), ...errors(401) } } }, async (request) => {
    const principal = requireUser(request);
    return { user: userView(principal.user), permissions: principal.perms.report().capabilities };
  });

  app.post('/api/v1/me/password', { schema: { tags: ['me'], summary: 'Change your own password (other sessions end)', body: ChangePasswordBody, response: { 200: Type.Object({ ok: Type.Boolean(), sessions_revoked: Type.Integer() }), ...errors(400, 401, 403) } } }, async (request) => {
    const principal = requireUser(request);
    const body = request.body as { current_password: string; new_password: string };
    const verified = await deps.users.verifyPassword(principal.user.username, body.current_password);
    if (!verified || verified.id !== principal.user.id) throw new AppError('ERR_INVALID_CREDENTIALS', 'the current password is wrong');
    await deps.users.update(principal.user.id, { password: body.new_password });
    // Other sessions end; the one that proved the current password stays signed in.
    const revoked = await deps.sessions.revokeAllForUser(principal.user.id, principal.sessionHandle);
    return { ok: true, sessions_revoked: revoked };
  });
}
