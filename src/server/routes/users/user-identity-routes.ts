import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { requireCap } from '../../plugins/auth.ts';
import type { IdentityLinks } from '../../services/identity/identity-links.ts';
import type { UserService } from '../../services/identity/user-service.ts';
import { errors, OkSchema } from '../common-schemas.ts';

const UserParam = Type.Object({ user: Type.String({ minLength: 1, maxLength: 64 }) });
const Link = Type.Object({ provider: Type.String({ minLength: 1, maxLength: 64 }), subject: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
const IdentitySchema = Type.Object({ provider: Type.String(), subject: Type.String(), email: Type.Optional(Type.String()), created_at: Type.String(), last_login_at: Type.Optional(Type.String()) });

/**
 * External identities linked to a user (`users.manage`, seed 002). Linking is how an admin lets
 * an unknown OIDC/LDAP/gateway identity in when auto-create is off (fail-closed by default).
 */
export function registerUserIdentityRoutes(app: FastifyInstance, deps: { readonly users: Pick<UserService, 'get' | 'findByUsername'>; readonly links: IdentityLinks }): void {
  async function findUser(ref: string) {
    const user = (await deps.users.get(ref)) ?? (await deps.users.findByUsername(ref));
    if (!user) throw new AppError('ERR_USER_NOT_FOUND', `no user "${ref}"`);
    return user;
  }

  app.get('/api/v1/users-identities/:user', { schema: { tags: ['users'], summary: 'External identities linked to a user', params: UserParam, response: { 200: Type.Object({ identities: Type.Array(IdentitySchema) }), ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'users.manage');
    const user = await findUser((request.params as { user: string }).user);
    const identities = await deps.links.listForUser(user.id);
    return { identities: identities.map(({ user_id: _id, ...rest }) => rest) };
  });

  app.post('/api/v1/users-identities/:user', { schema: { tags: ['users'], summary: 'Link an external identity (provider + subject) to a user', params: UserParam, body: Link, response: { 201: OkSchema, ...errors(400, 401, 403, 404, 409) } } }, async (request, reply) => {
    requireCap(request, 'users.manage');
    const user = await findUser((request.params as { user: string }).user);
    const { provider, subject } = request.body as { provider: string; subject: string };
    if (!(await deps.links.link(user.id, provider, subject))) throw new AppError('ERR_IDENTITY_LINKED', `${provider} identity "${subject}" is already linked to a user`);
    return reply.code(201).send({ ok: true });
  });

  app.delete('/api/v1/users-identities/:user', { schema: { tags: ['users'], summary: 'Unlink an external identity from a user', params: UserParam, querystring: Link, response: { 200: OkSchema, ...errors(400, 401, 403, 404) } } }, async (request) => {
    requireCap(request, 'users.manage');
    const user = await findUser((request.params as { user: string }).user);
    const { provider, subject } = request.query as { provider: string; subject: string };
    if (!(await deps.links.unlink(user.id, provider, subject))) throw new AppError('ERR_IDENTITY_NOT_FOUND');
    return { ok: true };
  });
}
