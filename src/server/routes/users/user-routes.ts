import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Capability } from '../../../shared/capabilities.ts';
import { AppError } from '../../../shared/errors.ts';
import { requireCap } from '../../plugins/auth.ts';
import type { Principal } from '../../services/access/principal.ts';
import type { BundleService } from '../../services/identity/bundle-service.ts';
import type { UserRecord } from '../../services/identity/identity-records.ts';
import type { IdentityLinks } from '../../services/identity/identity-links.ts';
import { isAllowlisted, mappingSources } from '../../services/access/external-permissions.ts';
import type { SettingsService } from '../../services/settings/settings-service.ts';
import type { PermissionResolver } from '../../services/identity/permission-resolver.ts';
import type { SessionService } from '../../services/identity/session-service.ts';
import type { UserService } from '../../services/identity/user-service.ts';
import { errors, OkSchema } from '../common-schemas.ts';
import { CreateUserBody, DeniedBody, EffectiveSchema, ListUsersQuery, PatchUserBody, PermissionIdsBody, SessionsSchema, UserIdParams as IdParams, UserParams as UserParam, UserSchema, UserSessionParams, userView } from './user-schemas.ts';

export interface UserRouteDeps {
  readonly users: UserService;
  readonly sessions: Pick<SessionService, 'listForUser' | 'revokeAllForUser' | 'revoke'>;
  readonly bundles: Pick<BundleService, 'get'>;
  readonly permissions: Pick<PermissionResolver, 'forUser' | 'forExternal' | 'sourcesForUser'>;
  readonly settings: Pick<SettingsService, 'auth'>;
  readonly links: Pick<IdentityLinks, 'removeForUser'>;
}

/** User administration (`users.manage`; grants and denies need `permissions.manage`). */
export function registerUserRoutes(app: FastifyInstance, deps: UserRouteDeps): void {
  const { users, sessions } = deps;

  /** Accepts a user id or a username. */
  async function findUser(ref: string) {
    const user = (await users.get(ref)) ?? (await users.findByUsername(ref));
    if (!user) throw new AppError('ERR_USER_NOT_FOUND', `no user "${ref}"`);
    return user;
  }

  /**
   * Only a superadmin may change, delete or restrict a superadmin: otherwise `users.manage` would
   * be enough to reset a superadmin's password and sign in as them.
   */
  function assertMayManage(principal: Principal, target: UserRecord, action: string) {
    if (target.is_superadmin && !principal.perms.superadmin) throw new AppError('ERR_FORBIDDEN', `only a superadmin can ${action} a superadmin`);
  }

  async function assertBundles(ids: readonly string[]) {
    for (const id of ids) if (!(await deps.bundles.get(id))) throw new AppError('ERR_BUNDLE_NOT_FOUND', `no permission bundle with id "${id}"`);
  }

  app.get('/api/v1/users', { schema: { tags: ['users'], summary: 'List users (filter by username, disabled, permission_id)', querystring: ListUsersQuery, response: { 200: Type.Object({ users: Type.Array(UserSchema), total: Type.Integer() }), ...errors(401, 403) } } }, async (request) => {
    requireCap(request, 'users.manage');
    const q = request.query as { _limit?: number; _offset?: number; username?: string; disabled?: boolean; permission_id?: string };
    const result = await users.list({ limit: q._limit ?? 50, offset: q._offset ?? 0, username: q.username, disabled: q.disabled, permission_id: q.permission_id });
    return { users: result.users.map(userView), total: result.total };
  });

  app.post('/api/v1/users', { schema: { tags: ['users'], summary: 'Create a user', body: CreateUserBody, response: { 201: UserSchema, ...errors(400, 401, 403, 404, 409) } } }, async (request, reply) => {
    requireCap(request, 'users.manage');
    const body = request.body as { username: string; password: string; email?: string; display_name?: string; is_superadmin?: boolean; permission_ids?: string[] };
    if (body.is_superadmin === true || body.permission_ids !== undefined) requireCap(request, 'permissions.manage');
    if (body.is_superadmin === true && !request.principal?.perms.superadmin) throw new AppError('ERR_FORBIDDEN', 'only a superadmin can create a superadmin');
    await assertBundles(body.permission_ids ?? []);
    let user = await users.create(body);
    if (body.permission_ids) user = await users.setGrants(user.id, body.permission_ids);
    return reply.code(201).send(userView(user));
  });

  app.get('/api/v1/users/:id', { schema: { tags: ['users'], summary: 'One user, by id or username', params: IdParams, response: { 200: UserSchema, ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'users.manage');
    return userView(await findUser((request.params as { id: string }).id));
  });

  app.patch('/api/v1/users/:id', { schema: { tags: ['users'], summary: 'Edit a user; disabling or a new password ends their sessions', params: IdParams, body: PatchUserBody, response: { 200: UserSchema, ...errors(400, 401, 403, 404, 409) } } }, async (request) => {
    const principal = requireCap(request, 'users.manage');
    const patch = request.body as { is_superadmin?: boolean; disabled?: boolean; password?: string };
    if (patch.is_superadmin !== undefined && !principal.perms.superadmin) throw new AppError('ERR_FORBIDDEN', 'only a superadmin can change superadmin status');
    const target = await findUser((request.params as { id: string }).id);
    assertMayManage(principal, target, 'change');
    const { user, passwordChanged, disabledNow } = await users.update(target.id, patch);
    // A disabled user or a changed password ends every session (an admin's change keeps none).
    if (passwordChanged || disabledNow) await sessions.revokeAllForUser(user.id);
    return userView(user);
  });

  app.delete('/api/v1/users/:id', { schema: { tags: ['users'], summary: 'Delete a user and end their sessions', params: IdParams, response: { 200: OkSchema, ...errors(401, 403, 404, 409) } } }, async (request) => {
    const principal = requireCap(request, 'users.manage');
    const target = await findUser((request.params as { id: string }).id);
    assertMayManage(principal, target, 'delete');
    await users.remove(target.id);
    await deps.links.removeForUser(target.id);
    await sessions.revokeAllForUser(target.id);
    return { ok: true };
  });

  app.post('/api/v1/users-kick/:id', { schema: { tags: ['users'], summary: 'End every session of a user', params: IdParams, response: { 200: Type.Object({ revoked: Type.Integer() }), ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'users.manage');
    const target = await findUser((request.params as { id: string }).id);
    return { revoked: await sessions.revokeAllForUser(target.id) };
  });

  app.get('/api/v1/users-sessions/:user', { schema: { tags: ['users'], summary: "A user's live sessions (by hashed handle)", params: UserParam, response: { 200: SessionsSchema, ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'users.manage');
    const target = await findUser((request.params as { user: string }).user);
    const list = await sessions.listForUser(target.id);
    return { sessions: list.map((s) => ({ handle: s.handle, created_at: s.record.created_at, expires_at: s.record.expires_at, provider: s.record.provider, ip: s.record.ip, user_agent: s.record.user_agent })) };
  });

  app.delete('/api/v1/users-sessions/:user/:handle', { schema: { tags: ['users'], summary: 'End one session', params: UserSessionParams, response: { 200: OkSchema, ...errors(400, 401, 403, 404) } } }, async (request) => {
    requireCap(request, 'users.manage');
    const params = request.params as { user: string; handle: string };
    const target = await findUser(params.user);
    const owned = (await sessions.listForUser(target.id)).some((s) => s.handle === params.handle);
    if (!owned) throw new AppError('ERR_SESSION_NOT_FOUND');
    await sessions.revoke(params.handle, target.id);
    return { ok: true };
  });

  app.get('/api/v1/users-effective/:user', { schema: { tags: ['users'], summary: "A user's effective capabilities and where each comes from", params: UserParam, response: { 200: EffectiveSchema, ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'users.manage');
    const target = await findUser((request.params as { user: string }).user);
    const live = await sessions.listForUser(target.id);
    // Roles come from the user's live external sessions (what their IdP said at sign-in).
    const external = live.find((s) => s.record.provider !== 'local');
    const roles = [...new Set(live.flatMap((s) => s.record.roles ?? []))];
    const settings = (await deps.settings.auth()).permissions;
    const who = { provider: external?.record.provider ?? 'local', subject: external?.record.subject, username: target.username, groups: roles, user: target };
    const allowlisted = external !== undefined && isAllowlisted(who, settings.superadmins);
    const perms = external ? await deps.permissions.forExternal(who, settings) : await deps.permissions.forUser(target);
    const report = perms.report();
    const roleSources = external && settings.enforce ? mappingSources(roles, settings.mapping).map((s) => ({ ...s, kind: 'role' })) : [];
    return {
      username: target.username,
      user_id: target.id,
      online: live.length > 0,
      superadmin: allowlisted || target.is_superadmin,
      superadmin_reason: allowlisted ? 'allowlist' : target.is_superadmin ? 'column' : undefined,
      roles,
      capabilities: report.capabilities,
      patterns: report.patterns,
      sources: [...(allowlisted ? report.capabilities.map((capability) => ({ capability, kind: 'superadmin' })) : []), ...(await deps.permissions.sourcesForUser(target)), ...roleSources],
      denied: target.denied_capabilities,
    };
  });

  app.get('/api/v1/user-permissions/:id', { schema: { tags: ['permissions'], summary: 'The permission bundles granted to a user', params: IdParams, response: { 200: PermissionIdsBody, ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'permissions.manage');
    const target = await findUser((request.params as { id: string }).id);
    return { permission_ids: target.grants.map((g) => g.permission_id) };
  });

  app.put('/api/v1/user-permissions/:id', { schema: { tags: ['permissions'], summary: 'Replace the bundles granted to a user', params: IdParams, body: PermissionIdsBody, response: { 200: PermissionIdsBody, ...errors(400, 401, 403, 404) } } }, async (request) => {
    requireCap(request, 'permissions.manage');
    const target = await findUser((request.params as { id: string }).id);
    const ids = (request.body as { permission_ids: string[] }).permission_ids;
    await assertBundles(ids);
    const user = await users.setGrants(target.id, ids);
    return { permission_ids: user.grants.map((g) => g.permission_id) };
  });

  app.put('/api/v1/users-denied/:user', { schema: { tags: ['permissions'], summary: 'Set capabilities denied to a user (even a superadmin)', params: UserParam, body: DeniedBody, response: { 200: DeniedBody, ...errors(400, 401, 403, 404) } } }, async (request) => {
    const principal = requireCap(request, 'permissions.manage');
    const target = await findUser((request.params as { user: string }).user);
    assertMayManage(principal, target, 'restrict');
    const user = await users.setDenied(target.id, (request.body as { capability_keys: Capability[] }).capability_keys);
    return { capability_keys: user.denied_capabilities };
  });
}
