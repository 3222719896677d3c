import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { createBundle, createUser, expectError, PASSWORD, saveConfig, signedInUser } from '../../test-support/identity-fixtures.ts';

let t: TestApp;
let admin: Client;
beforeEach(async () => {
  t = await startTestApp();
  admin = await t.bootstrapAdmin();
  for (const path of ['team-a/x', 'team-a/deep/y', 'team-b/x', 'team-c/x']) await saveConfig(admin, path);
});
afterEach(async () => {
  await t.close();
});

const readStatus = async (client: Client, path: string) => (await client.get(`/api/v1/file/${path}`)).status;

describe('permission bundle CRUD', () => {
  it('creates, lists, reads, updates and deletes bundles', async () => {
    const created = await admin.post('/api/v1/permissions', {
      key: 'team-a',
      name: 'Team A',
      description: 'reads team A',
      keys: ['files.read', 'files.write', 'files.read'],
      key_patterns: { 'files.read': ['team-a/**', ' team-a/** '] },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ key: 'team-a', name: 'Team A', description: 'reads team A', keys: ['files.read', 'files.write'], key_patterns: { 'files.read': ['team-a/**'] } });
    const id = created.json.id as string;
    await createBundle(admin, { key: 'admins', keys: ['users.manage'] });

    const list = await admin.get('/api/v1/permissions');
    expect(list.json.map((b: { key: string }) => b.key)).toEqual(['admins', 'team-a']);
    expect((await admin.get(`/api/v1/permissions/${id}`)).json).toEqual(created.json);

    const patched = await admin.patch(`/api/v1/permissions/${id}`, { name: 'Team A readers', key_patterns: { 'files.read': ['team-a/**', 'shared/**'] } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ key: 'team-a', name: 'Team A readers', key_patterns: { 'files.read': ['team-a/**', 'shared/**'] } });
    const renamed = await admin.patch(`/api/v1/permissions/${id}`, { key: 'team-a2' });
    expect(renamed.json.key).toBe('team-a2');
    // The old key is free again, the new one taken.
    await createBundle(admin, { key: 'team-a', keys: ['files.read'] });
    expectError(await admin.post('/api/v1/permissions', { key: 'team-a2', name: 'dup', keys: [] }), 409, 'ERR_BUNDLE_KEY_TAKEN');

    expect((await admin.delete(`/api/v1/permissions/${id}`)).json).toEqual({ ok: true });
    expectError(await admin.get(`/api/v1/permissions/${id}`), 404, 'ERR_BUNDLE_NOT_FOUND');
    expectError(await admin.patch(`/api/v1/permissions/${id}`, { name: 'x' }), 404, 'ERR_BUNDLE_NOT_FOUND');
    expectError(await admin.delete(`/api/v1/permissions/${id}`), 404, 'ERR_BUNDLE_NOT_FOUND');
    await createBundle(admin, { key: 'team-a2', keys: [] });
  });

  it('keeps keys unique, also when renaming onto a taken key', async () => {
    await createBundle(admin, { key: 'one', keys: ['files.read'] });
    const two = await createBundle(admin, { key: 'two', keys: ['files.read'] });
    expectError(await admin.post('/api/v1/permissions', { key: 'one', name: 'again', keys: [] }), 409, 'ERR_BUNDLE_KEY_TAKEN');
    expectError(await admin.patch(`/api/v1/permissions/${two}`, { key: 'one' }), 409, 'ERR_BUNDLE_KEY_TAKEN');
    expect((await admin.get(`/api/v1/permissions/${two}`)).json.key).toBe('two');
  });

  it('validates keys, capabilities and patterns', async () => {
    const post = (body: Record<string, unknown>) => admin.post('/api/v1/permissions', { key: 'k', name: 'n', keys: ['files.read'], ...body });
    expectError(await post({ keys: ['users.manage'], key_patterns: { 'users.manage': ['a/**'] } }), 400, 'ERR_VALIDATION');
    expectError(await post({ keys: ['settings.manage'], key_patterns: { 'settings.manage': ['**'] } }), 400, 'ERR_VALIDATION');
    expectError(await post({ key_patterns: { 'files.write': ['a/**'] } }), 400, 'ERR_VALIDATION');
    expectError(await post({ key_patterns: { 'no.such': ['a/**'] } }), 400, 'ERR_VALIDATION');
    expectError(await post({ keys: ['files.everything'] }), 400, 'ERR_VALIDATION');
    expectError(await post({ key: 'Has Spaces' }), 400, 'ERR_VALIDATION');
    expectError(await post({ key: '' }), 400, 'ERR_VALIDATION');
    expect((await post({ keys: ['external.read'], key_patterns: { 'external.read': ['vault'] } })).status).toBe(201);
    expect((await admin.get('/api/v1/permissions')).json.length).toBe(1);
  });

  it('drops the patterns of a capability a patch removes from keys', async () => {
    const id = await createBundle(admin, { key: 'b', keys: ['files.read', 'files.write'], key_patterns: { 'files.read': ['team-a/**'], 'files.write': ['team-a/**'] } });
    const res = await admin.patch(`/api/v1/permissions/${id}`, { keys: ['files.read'] });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ keys: ['files.read'], key_patterns: { 'files.read': ['team-a/**'] } });
  });

  it('needs permissions.manage', async () => {
    const user = await signedInUser(t, admin, 'bob', [{ key: 'users', keys: ['users.manage'] }]);
    const id = user.bundleIds[0] ?? '';
    expectError(await user.client.get('/api/v1/permissions'), 403, 'ERR_FORBIDDEN');
    expectError(await user.client.post('/api/v1/permissions', { key: 'x', name: 'x', keys: [] }), 403, 'ERR_FORBIDDEN');
    expectError(await user.client.get(`/api/v1/permissions/${id}`), 403, 'ERR_FORBIDDEN');
    expectError(await user.client.patch(`/api/v1/permissions/${id}`, { name: 'x' }), 403, 'ERR_FORBIDDEN');
    expectError(await user.client.delete(`/api/v1/permissions/${id}`), 403, 'ERR_FORBIDDEN');
    expectError(await user.client.put(`/api/v1/user-permissions/${user.id}`, { permission_ids: [] }), 403, 'ERR_FORBIDDEN');
    expectError(await user.client.put(`/api/v1/users-denied/${user.id}`, { capability_keys: [] }), 403, 'ERR_FORBIDDEN');
    // users.manage alone cannot hand out bundles while creating a user either.
    expectError(await user.client.post('/api/v1/users', { username: 'carol', password: PASSWORD, permission_ids: [id] }), 403, 'ERR_FORBIDDEN');
    expectError(await t.request({ url: '/api/v1/permissions' }), 401, 'ERR_UNAUTHENTICATED');
  });
});

describe('what bundles grant', () => {
  it('limits files.read to its patterns and grants nothing else', async () => {
    const bob = await signedInUser(t, admin, 'bob', [{ key: 'team-a', keys: ['files.read'], key_patterns: { 'files.read': ['team-a/**'] } }]);
    expect(await readStatus(bob.client, 'team-a/x')).toBe(200);
    expect(await readStatus(bob.client, 'team-a/deep/y')).toBe(200);
    const denied = await bob.client.get('/api/v1/file/team-b/x');
    expectError(denied, 403, 'ERR_FORBIDDEN');
    expectError(await bob.client.post('/api/v1/file/team-a/new', { meta: { format: 'json' }, content: '{}' }), 403, 'ERR_FORBIDDEN');
    expectError(await bob.client.get('/api/v1/users'), 403, 'ERR_FORBIDDEN');
    expectError(await bob.client.get('/api/v1/tokens'), 403, 'ERR_FORBIDDEN');
    expectError(await bob.client.get('/api/v1/audit'), 403, 'ERR_FORBIDDEN');
    const info = await bob.client.get('/api/v1/info');
    expect(info.json).toMatchObject({ user: 'bob', is_superadmin: false, permissions: ['files.read'], patterns: { 'files.read': ['team-a/**'] } });
    const root = await bob.client.get('/api/v1/folder');
    expect(root.status).toBe(200);
    expect(root.json.folders).toEqual(['team-a']);
  });

  it('limits files.write to its patterns', async () => {
    const bob = await signedInUser(t, admin, 'bob', [{ key: 'w', keys: ['files.read', 'files.write'], key_patterns: { 'files.write': ['team-a/**'] } }]);
    expect((await bob.client.post('/api/v1/file/team-a/new', { meta: { format: 'json' }, content: '{}' })).status).toBe(201);
    expectError(await bob.client.post('/api/v1/file/team-b/new', { meta: { format: 'json' }, content: '{}' }), 403, 'ERR_FORBIDDEN');
    expectError(await bob.client.delete('/api/v1/file/team-b/x'), 403, 'ERR_FORBIDDEN');
    expect(await readStatus(bob.client, 'team-b/x')).toBe(200);
    expect((await bob.client.get('/api/v1/info')).json.patterns).toEqual({ 'files.write': ['team-a/**'] });
  });

  it('grants the union of several bundles', async () => {
    const bob = await signedInUser(t, admin, 'bob', [
      { key: 'a', keys: ['files.read'], key_patterns: { 'files.read': ['team-a/**'] } },
      { key: 'b', keys: ['files.read', 'tokens.manage'], key_patterns: { 'files.read': ['team-b/**'] } },
    ]);
    expect(await readStatus(bob.client, 'team-a/x')).toBe(200);
    expect(await readStatus(bob.client, 'team-b/x')).toBe(200);
    expect(await readStatus(bob.client, 'team-c/x')).toBe(403);
    expect((await bob.client.get('/api/v1/tokens')).status).toBe(200);
    const info = await bob.client.get('/api/v1/info');
    expect(info.json.permissions).toEqual(['files.read', 'tokens.manage']);
    expect(info.json.patterns).toEqual({ 'files.read': ['team-a/**', 'team-b/**'] });
  });

  it('lets an unrestricted grant win over a restricted one', async () => {
    const bob = await signedInUser(t, admin, 'bob', [
      { key: 'a', keys: ['files.read'], key_patterns: { 'files.read': ['team-a/**'] } },
      { key: 'all', keys: ['files.read'] },
    ]);
    expect(await readStatus(bob.client, 'team-c/x')).toBe(200);
    expect((await bob.client.get('/api/v1/info')).json).toMatchObject({ permissions: ['files.read'], patterns: {} });
  });

  it('covers the variants of a granted config, but a variant pattern covers only that variant', async () => {
    await saveConfig(admin, 'app/config', '{"v":0}');
    await saveConfig(admin, 'app/config', '{"v":1}', 'prod');
    const bob = await signedInUser(t, admin, 'bob', [{ key: 'a', keys: ['files.read'], key_patterns: { 'files.read': ['app/config'] } }]);
    expect((await bob.client.get('/api/v1/file/app/config?variant=prod')).status).toBe(200);
    const carol = await signedInUser(t, admin, 'carol', [{ key: 'b', keys: ['files.read'], key_patterns: { 'files.read': ['app/config@prod'] } }]);
    expect((await carol.client.get('/api/v1/file/app/config?variant=prod')).status).toBe(200);
    expectError(await carol.client.get('/api/v1/file/app/config'), 403, 'ERR_FORBIDDEN');
  });

  it('applies grant, bundle and deny changes to signed-in users at once', async () => {
    const bob = await signedInUser(t, admin, 'bob', []);
    expect(await readStatus(bob.client, 'team-a/x')).toBe(403);
    const bundle = await createBundle(admin, { key: 'a', keys: ['files.read'], key_patterns: { 'files.read': ['team-a/**'] } });
    const put = await admin.put(`/api/v1/user-permissions/${bob.id}`, { permission_ids: [bundle, bundle] });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ permission_ids: [bundle] });
    expect((await admin.get(`/api/v1/user-permissions/${bob.id}`)).json).toEqual({ permission_ids: [bundle] });
    expect((await admin.get('/api/v1/users/bob')).json.permission_ids).toEqual([bundle]);
    expect(await readStatus(bob.client, 'team-a/x')).toBe(200);

    expect((await admin.patch(`/api/v1/permissions/${bundle}`, { key_patterns: { 'files.read': ['team-b/**'] } })).status).toBe(200);
    expect(await readStatus(bob.client, 'team-a/x')).toBe(403);
    expect(await readStatus(bob.client, 'team-b/x')).toBe(200);

    expect((await admin.put(`/api/v1/users-denied/${bob.id}`, { capability_keys: ['files.read'] })).json).toEqual({ capability_keys: ['files.read'] });
    expect(await readStatus(bob.client, 'team-b/x')).toBe(403);
    expect((await admin.put(`/api/v1/users-denied/${bob.id}`, { capability_keys: [] })).status).toBe(200);
    expect(await readStatus(bob.client, 'team-b/x')).toBe(200);

    expect((await admin.delete(`/api/v1/permissions/${bundle}`)).status).toBe(200);
    expect(await readStatus(bob.client, 'team-b/x')).toBe(403);
    // A deleted bundle no longer shows up as granted.
    expect((await admin.get(`/api/v1/user-permissions/${bob.id}`)).json).toEqual({ permission_ids: [] });
    expect((await admin.get(`/api/v1/users?permission_id=${bundle}`)).json.total).toBe(0);

    expectError(await admin.put(`/api/v1/user-permissions/${bob.id}`, { permission_ids: ['missing'] }), 404, 'ERR_BUNDLE_NOT_FOUND');
    expectError(await admin.put('/api/v1/user-permissions/nobody', { permission_ids: [] }), 404, 'ERR_USER_NOT_FOUND');
  });

  it('removes a denied capability even from a superadmin', async () => {
    const rootId = await createUser(admin, 'root2', { is_superadmin: true });
    const root = await t.login('root2', PASSWORD);
    expect((await root.get('/api/v1/users')).status).toBe(200);
    const res = await admin.put('/api/v1/users-denied/root2', { capability_keys: ['users.manage', 'files.write', 'users.manage'] });
    expect(res.json).toEqual({ capability_keys: ['users.manage', 'files.write'] });
    expectError(await root.get('/api/v1/users'), 403, 'ERR_FORBIDDEN');
    expectError(await root.post('/api/v1/file/team-a/z', { meta: { format: 'json' }, content: '{}' }), 403, 'ERR_FORBIDDEN');
    expect(await readStatus(root, 'team-c/x')).toBe(200);
    const info = await root.get('/api/v1/info');
    expect(info.json.is_superadmin).toBe(true);
    expect(info.json.permissions).not.toContain('users.manage');
    expect(info.json.permissions).not.toContain('files.write');
    expect(info.json.permissions).toContain('permissions.manage');
    const effective = await admin.get(`/api/v1/users-effective/${rootId}`);
    expect(effective.json).toMatchObject({ username: 'root2', superadmin: true, superadmin_reason: 'column', denied: ['users.manage', 'files.write'] });
    expect(effective.json.capabilities).not.toContain('users.manage');
    expectError(await admin.put('/api/v1/users-denied/root2', { capability_keys: ['no.such'] }), 400, 'ERR_VALIDATION');
  });

  it('reports effective capabilities with their sources', async () => {
    const bob = await signedInUser(t, admin, 'bob', [
      { key: 'a', keys: ['files.read', 'settings.manage'], key_patterns: { 'files.read': ['team-a/**'] } },
      { key: 'b', keys: ['files.read'], key_patterns: { 'files.read': ['team-b/**'] } },
    ]);
    const res = await admin.get('/api/v1/users-effective/bob');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ username: 'bob', user_id: bob.id, online: true, superadmin: false, denied: [] });
    expect(res.json.capabilities).toEqual(['files.read', 'settings.manage', 'key.unlock']);
    expect(res.json.patterns).toEqual({ 'files.read': ['team-a/**', 'team-b/**'] });
    expect(res.json.sources).toEqual(
      expect.arrayContaining([
        { capability: 'files.read', kind: 'db_bundle', bundle: 'a' },
        { capability: 'settings.manage', kind: 'db_bundle', bundle: 'a' },
        { capability: 'key.unlock', kind: 'db_bundle', bundle: 'a' },
        { capability: 'files.read', kind: 'db_bundle', bundle: 'b' },
      ]),
    );
    expect(res.json.sources).toHaveLength(4);
    const adminReport = await admin.get('/api/v1/users-effective/admin');
    expect(adminReport.json.sources).toContainEqual({ capability: 'users.manage', kind: 'superadmin' });
    expect(adminReport.json.capabilities).toHaveLength(9);
    await admin.post(`/api/v1/users-kick/${bob.id}`);
    expect((await admin.get('/api/v1/users-effective/bob')).json.online).toBe(false);
    expectError(await admin.get('/api/v1/users-effective/nobody'), 404, 'ERR_USER_NOT_FOUND');
  });

  it('implies key.unlock by settings.manage, and key.unlock alone is only key.unlock', async () => {
    const ops = await signedInUser(t, admin, 'ops', [{ key: 'settings', keys: ['settings.manage'] }]);
    const info = await ops.client.get('/api/v1/info');
    expect(info.json.permissions).toEqual(['settings.manage', 'key.unlock']);
    expect((await ops.client.get('/api/v1/audit')).status).toBe(200);
    const unlocker = await signedInUser(t, admin, 'unlocker', [{ key: 'unlock', keys: ['key.unlock'] }]);
    expect((await unlocker.client.get('/api/v1/info')).json.permissions).toEqual(['key.unlock']);
    expectError(await unlocker.client.get('/api/v1/audit'), 403, 'ERR_FORBIDDEN');
  });
});
