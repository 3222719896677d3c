// Token scopes and the bounds a token's creator puts on it (SPEC §6, upstream-pika.md §3).
import { afterEach, describe, expect, it } from 'vitest';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { expectError, manualClock, mint, saveConfig, signedInUser } from '../../test-support/identity-fixtures.ts';

const PATHS = ['team-a/x', 'team-a/deep/y', 'team-b/x', 'app/config'];

let t: TestApp | undefined;
let admin: Client;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start(options: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  t = await startTestApp(options);
  admin = await t.bootstrapAdmin();
  for (const path of PATHS) await saveConfig(admin, path, `{"path":"${path}"}`);
  await saveConfig(admin, 'app/config', '{"variant":"prod"}', 'prod');
  return t;
}

const scope = (path: string, ...operations: string[]) => ({ path, operations: operations.length > 0 ? operations : ['read'] });
const dataStatus = async (app: TestApp, raw: string, path: string) => (await app.withToken(raw).get(`/data/${path}`)).status;
const fileBody = { meta: { format: 'json' }, content: '{"new":true}' };

describe('token scopes', () => {
  it('matches * as one segment, ** as any depth and literal paths exactly', async () => {
    const app = await start();
    const one = await mint(admin, { scopes: [scope('team-a/*')] });
    expect(await dataStatus(app, one.raw, 'team-a/x')).toBe(200);
    expect(await dataStatus(app, one.raw, 'team-a/deep/y')).toBe(403);
    expect(await dataStatus(app, one.raw, 'team-b/x')).toBe(403);
    const any = await mint(admin, { scopes: [scope('team-a/**')] });
    expect(await dataStatus(app, any.raw, 'team-a/x')).toBe(200);
    expect(await dataStatus(app, any.raw, 'team-a/deep/y')).toBe(200);
    expect(await dataStatus(app, any.raw, 'team-b/x')).toBe(403);
    const exact = await mint(admin, { scopes: [scope('team-a/x')] });
    expect(await dataStatus(app, exact.raw, 'team-a/x')).toBe(200);
    expect(await dataStatus(app, exact.raw, 'team-a/deep/y')).toBe(403);
    const middle = await mint(admin, { scopes: [scope('*/x')] });
    expect(await dataStatus(app, middle.raw, 'team-a/x')).toBe(200);
    expect(await dataStatus(app, middle.raw, 'team-b/x')).toBe(200);
    expect(await dataStatus(app, middle.raw, 'team-a/deep/y')).toBe(403);
    const everything = await mint(admin, { scopes: [scope('*')] });
    expect(await dataStatus(app, everything.raw, 'team-a/deep/y')).toBe(200);
    const denied = await app.withToken(one.raw).get('/data/team-b/x');
    expectError(denied, 403, 'ERR_FORBIDDEN');
    expect(denied.body).not.toContain('team-b/x"}');
  });

  it('lets a base pattern cover the variants, and a variant pattern only that variant', async () => {
    const app = await start();
    const base = await mint(admin, { scopes: [scope('app/config')] });
    expect((await app.withToken(base.raw).get('/data/app/config?variant=prod')).body).toBe('{"variant":"prod"}');
    const variant = await mint(admin, { scopes: [scope('app/config@prod')] });
    expect((await app.withToken(variant.raw).get('/data/app/config?variant=prod')).status).toBe(200);
    expect(await dataStatus(app, variant.raw, 'app/config')).toBe(403);
  });

  it('enforces read, write, delete and * separately', async () => {
    const app = await start();
    const reader = app.withToken((await mint(admin, { scopes: [scope('team-a/**', 'read')] })).raw);
    const writer = app.withToken((await mint(admin, { scopes: [scope('team-a/**', 'write')] })).raw);
    const deleter = app.withToken((await mint(admin, { scopes: [scope('team-a/**', 'delete')] })).raw);
    const all = app.withToken((await mint(admin, { scopes: [scope('team-a/**', '*')] })).raw);

    expect((await reader.get('/api/v1/file/team-a/x')).status).toBe(200);
    expectError(await reader.post('/api/v1/file/team-a/new', fileBody), 403, 'ERR_FORBIDDEN');
    expectError(await reader.delete('/api/v1/file/team-a/x'), 403, 'ERR_FORBIDDEN');

    expect((await writer.post('/api/v1/file/team-a/new', fileBody)).status).toBe(201);
    expectError(await writer.post('/api/v1/file/team-b/new', fileBody), 403, 'ERR_FORBIDDEN');
    expectError(await writer.get('/data/team-a/new'), 403, 'ERR_FORBIDDEN');
    expectError(await writer.get('/api/v1/file/team-a/new'), 403, 'ERR_FORBIDDEN');
    expectError(await writer.delete('/api/v1/file/team-a/new'), 403, 'ERR_FORBIDDEN');

    expectError(await deleter.post('/api/v1/file/team-a/other', fileBody), 403, 'ERR_FORBIDDEN');
    expectError(await deleter.get('/data/team-a/x'), 403, 'ERR_FORBIDDEN');
    expect((await deleter.delete('/api/v1/file/team-a/new')).status).toBe(200);
    expectError(await deleter.delete('/api/v1/file/team-b/x'), 403, 'ERR_FORBIDDEN');

    expect((await all.post('/api/v1/file/team-a/z', fileBody)).status).toBe(201);
    expect((await all.get('/data/team-a/z')).body).toBe('{"new":true}');
    expect((await all.delete('/api/v1/file/team-a/z')).status).toBe(200);
    expectError(await all.get('/data/team-b/x'), 403, 'ERR_FORBIDDEN');
  });

  it('gives tokens files.* from scopes only: management needs explicit capabilities', async () => {
    const app = await start();
    const scoped = app.withToken((await mint(admin, { scopes: [scope('**', '*')] })).raw);
    for (const url of ['/api/v1/users', '/api/v1/tokens', '/api/v1/permissions', '/api/v1/audit']) expectError(await scoped.get(url), 403, 'ERR_FORBIDDEN');
    expectError(await scoped.post('/api/v1/tokens', { name: 'child', scopes: [scope('**')] }), 403, 'ERR_FORBIDDEN');
    const info = await scoped.get('/api/v1/info');
    expect(info.json).toMatchObject({ actor_type: 'token', is_superadmin: false, permissions: ['files.read', 'files.write'], patterns: { 'files.read': ['**'], 'files.write': ['**'] } });

    const userAdmin = app.withToken((await mint(admin, { scopes: [], capabilities: ['users.manage'] })).raw);
    expect((await userAdmin.get('/api/v1/users')).status).toBe(200);
    expectError(await userAdmin.get('/api/v1/tokens'), 403, 'ERR_FORBIDDEN');
    expectError(await userAdmin.get('/data/team-a/x'), 403, 'ERR_FORBIDDEN');
    expect((await userAdmin.get('/api/v1/info')).json.permissions).toEqual(['users.manage']);
    const unlocker = app.withToken((await mint(admin, { scopes: [], capabilities: ['settings.manage'] })).raw);
    expect((await unlocker.get('/api/v1/info')).json.permissions).toEqual(['settings.manage', 'key.unlock']);
  });

  it('refuses capabilities the creator lacks', async () => {
    const app = await start();
    const bob = await signedInUser(app, admin, 'bob', [{ key: 'tok', keys: ['tokens.manage', 'files.read'] }]);
    expectError(await bob.client.post('/api/v1/tokens', { name: 'x', scopes: [], capabilities: ['users.manage'] }), 403, 'ERR_CAPABILITY_EXCEEDS_CREATOR');
    const own = await mint(bob.client, { scopes: [scope('**')], capabilities: ['tokens.manage'] });
    expectError(await bob.client.patch(`/api/v1/tokens/${own.id}`, { capabilities: ['settings.manage'] }), 403, 'ERR_CAPABILITY_EXCEEDS_CREATOR');
    expect((await admin.get(`/api/v1/tokens/${own.id}`)).json.capabilities).toEqual(['tokens.manage']);
    expect((await admin.get('/api/v1/tokens')).json).toHaveLength(1);
  });
});

describe('tokens are bounded by their creator', () => {
  it('never reads more than the creating user may, even with a ** scope', async () => {
    const app = await start();
    const bob = await signedInUser(app, admin, 'bob', [{ key: 'a', keys: ['files.read', 'tokens.manage'], key_patterns: { 'files.read': ['team-a/**'] } }]);
    const token = await mint(bob.client, { scopes: [scope('**', '*')] });
    expect((await app.withToken(token.raw).get('/data/team-a/x')).status).toBe(200);
    expectError(await app.withToken(token.raw).get('/data/team-b/x'), 403, 'ERR_FORBIDDEN');
    expectError(await app.withToken(token.raw).get('/api/v1/file/team-b/x'), 403, 'ERR_FORBIDDEN');
    expectError(await app.withToken(token.raw).post('/api/v1/file/team-a/new', fileBody), 403, 'ERR_FORBIDDEN');
    expect((await app.withToken(token.raw).get('/api/v1/info')).json.permissions).toEqual(['files.read']);

    // Losing the bundle takes the token's rights with it at once.
    expect((await admin.put(`/api/v1/user-permissions/${bob.id}`, { permission_ids: [] })).status).toBe(200);
    expectError(await app.withToken(token.raw).get('/data/team-a/x'), 403, 'ERR_FORBIDDEN');
  });

  it('stops a token whose creator is disabled or deleted', async () => {
    const app = await start();
    const bob = await signedInUser(app, admin, 'bob', [{ key: 'all', keys: ['files.read', 'tokens.manage'] }]);
    const token = await mint(bob.client, { scopes: [scope('**')] });
    expect(await dataStatus(app, token.raw, 'team-a/x')).toBe(200);
    expect((await admin.patch(`/api/v1/users/${bob.id}`, { disabled: true })).status).toBe(200);
    expectError(await app.withToken(token.raw).get('/data/team-a/x'), 403, 'ERR_TOKEN_CREATOR_INACTIVE');
    expectError(await app.withToken(token.raw).get('/api/v1/info'), 403, 'ERR_TOKEN_CREATOR_INACTIVE');
    expect((await admin.patch(`/api/v1/users/${bob.id}`, { disabled: false })).status).toBe(200);
    expect(await dataStatus(app, token.raw, 'team-a/x')).toBe(200);
    expect((await admin.delete(`/api/v1/users/${bob.id}`)).status).toBe(200);
    expectError(await app.withToken(token.raw).get('/data/team-a/x'), 403, 'ERR_TOKEN_CREATOR_INACTIVE');
  });

  it('bounds a token minted by a token by its parent, and stops it with the parent', async () => {
    const app = await start();
    const parent = await mint(admin, { name: 'parent', scopes: [scope('team-a/**')], capabilities: ['tokens.manage'] });
    const childRes = await app.withToken(parent.raw).post('/api/v1/tokens', { name: 'child', scopes: [scope('**')] });
    expect(childRes.status).toBe(201);
    expect(childRes.json.created_by).toBe('token:parent');
    const child = childRes.json.raw_key as string;
    expect(await dataStatus(app, child, 'team-a/x')).toBe(200);
    expect(await dataStatus(app, child, 'team-b/x')).toBe(403);
    expectError(await app.withToken(parent.raw).post('/api/v1/tokens', { name: 'c2', scopes: [], capabilities: ['users.manage'] }), 403, 'ERR_CAPABILITY_EXCEEDS_CREATOR');
    expect((await admin.patch(`/api/v1/tokens/${parent.id}`, { active: false })).status).toBe(200);
    expectError(await app.withToken(child).get('/data/team-a/x'), 403, 'ERR_TOKEN_CREATOR_INACTIVE');
  });

  it('stops a token minted by a token once the parent expires', async () => {
    const clock = manualClock();
    const app = await start({ deps: { clock: clock.now } });
    const parent = await mint(admin, { name: 'parent', scopes: [scope('**')], capabilities: ['tokens.manage'], expires_at: new Date(clock.now() + 60_000).toISOString() });
    const child = await mint(app.withToken(parent.raw), { name: 'child', scopes: [scope('**')] });
    expect(await dataStatus(app, child.raw, 'team-a/x')).toBe(200);
    clock.advance(60_000);
    expectError(await app.withToken(parent.raw).get('/data/team-a/x'), 403, 'ERR_TOKEN_EXPIRED');
    expectError(await app.withToken(child.raw).get('/data/team-a/x'), 403, 'ERR_TOKEN_CREATOR_INACTIVE');
    // Also when nothing was cached (a fresh lookup after an unrelated change).
    await mint(admin, { name: 'unrelated', scopes: [] });
    expectError(await app.withToken(child.raw).get('/data/team-a/x'), 403, 'ERR_TOKEN_CREATOR_INACTIVE');
  });
});
