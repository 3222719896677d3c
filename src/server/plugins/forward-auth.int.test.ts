/**
 * Forward-auth and external permission mapping (issue 5 acceptance 3–4, seed 002). `inject`
 * requests come from 127.0.0.1, so trusting 127.0.0.1 makes the test client the gateway.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Client, startTestApp, type TestApp } from '../test-support/app-harness.ts';

let t: TestApp;
let admin: Client;

beforeEach(async () => {
  t = await startTestApp();
  admin = await t.bootstrapAdmin();
  await admin.post('/api/v1/file/team/app', { meta: { format: 'json' }, content: '{"a":1}' });
});
afterEach(async () => {
  await t.close();
});

async function configure(header: Record<string, unknown>, permissions: Record<string, unknown> = {}) {
  const res = await admin.post('/api/v1/settings', { auth: { header: { enabled: true, trusted_proxies: ['127.0.0.1'], ...header }, permissions } });
  expect(res.status, res.body).toBe(200);
}

const asGateway = (headers: Record<string, string>) => ({
  get: (url: string) => t.request({ url, headers }),
  post: (url: string, body: unknown, extra: Record<string, string> = {}) => t.request({ method: 'POST', url, body, headers: { ...headers, ...extra } }),
});

describe('forward-auth', () => {
  it('ignores identity headers until the strategy is enabled, and from untrusted peers', async () => {
    const alice = asGateway({ 'x-user': 'alice' });
    expect((await alice.get('/api/v1/info')).json.user).toBeUndefined();
    expect((await alice.get('/api/v1/folder')).status).toBe(401);

    await configure({ trusted_proxies: ['10.0.0.0/8', '192.168.1.1'] });
    expect((await alice.get('/api/v1/folder')).status).toBe(401);

    await configure({ trusted_proxies: ['127.0.0.0/8'] });
    const info = (await alice.get('/api/v1/info')).json;
    expect(info.user).toBe('header:alice');
    expect(info.actor_type).toBe('external');
  });

  it('trusts the gateway completely while enforcement is off (the seed default)', async () => {
    await configure({});
    const alice = asGateway({ 'x-user': 'alice' });
    expect((await alice.get('/api/v1/folder/team')).status).toBe(200);
    expect((await alice.get('/api/v1/info')).json.permissions).toContain('settings.manage');
  });

  it('maps groups to capabilities when enforced: union, unknown groups ignored, custom header and separator, repeated lines', async () => {
    await configure({}, { enforce: true, groups_header: 'X-Pika-Roles', groups_separator: '|', mapping: { readers: ['files.read'], tokeneers: ['tokens.manage'] } });
    const nobody = asGateway({ 'x-user': 'nobody', 'x-pika-roles': 'strangers|visitors' });
    expect((await nobody.get('/api/v1/folder/team')).status).toBe(403);
    expect((await nobody.get('/api/v1/info')).json.permissions).toEqual([]);

    const carol = await t.app.inject({ url: '/api/v1/info', headers: { 'x-user': 'carol', 'x-pika-roles': ['readers|strangers', 'tokeneers'] } });
    expect(JSON.parse(carol.body).permissions.sort()).toEqual(['files.read', 'tokens.manage']);
    const reader = asGateway({ 'x-user': 'dave', 'x-pika-roles': 'readers' });
    expect((await reader.get('/api/v1/file/team/app')).status).toBe(200);
    const write = await reader.post('/api/v1/file/team/app', { meta: { format: 'json' }, content: '{}' });
    expect(write.status).toBe(403);
  });

  it('gives allowlisted superadmins everything, even when enforced', async () => {
    await configure({}, { enforce: true, superadmins: ['header:root'], mapping: {} });
    const root = asGateway({ 'x-user': 'root' });
    expect((await root.get('/api/v1/info')).json.permissions).toContain('users.manage');
    expect((await root.get('/api/v1/users')).status).toBe(200);
  });

  it('applies a linked user’s own rights instead of trusting the gateway', async () => {
    const bundle = await admin.post('/api/v1/permissions', { key: 'readers', name: 'Readers', keys: ['files.read'] });
    const bob = await admin.post('/api/v1/users', { username: 'bob', password: 'bob-password', permission_ids: [bundle.json.id] });
    expect((await admin.post(`/api/v1/users-identities/${bob.json.id}`, { provider: 'header', subject: 'bob@corp' })).status).toBe(201);
    await configure({});
    const gatewayBob = asGateway({ 'x-user': 'bob@corp' });
    const info = (await gatewayBob.get('/api/v1/info')).json;
    expect(info.user).toBe('bob');
    expect(info.permissions).toEqual(['files.read']);
    expect((await gatewayBob.get('/api/v1/users')).status).toBe(403);
    // A disabled linked user is not let in through the gateway either.
    await admin.patch(`/api/v1/users/${bob.json.id}`, { disabled: true });
    expect((await gatewayBob.get('/api/v1/folder')).status).toBe(401);
  });

  it('keeps the session first: a signed-in user stays themselves whatever the headers say', async () => {
    await configure({});
    const res = await t.request({ url: '/api/v1/info', cookie: admin.cookie, headers: { 'x-user': 'mallory' } });
    expect(res.json.user).toBe('admin');
  });

  it('guards gateway-authenticated writes against cross-site requests', async () => {
    await configure({});
    const alice = asGateway({ 'x-user': 'alice' });
    const refused = await alice.post('/api/v1/file/team/app', { meta: { format: 'json' }, content: '{}' }, { origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.json.code).toBe('ERR_CSRF');
  });

  it('switches off without a restart', async () => {
    await configure({});
    const alice = asGateway({ 'x-user': 'alice' });
    expect((await alice.get('/api/v1/folder')).status).toBe(200);
    await admin.post('/api/v1/settings', { auth: { header: { enabled: false } } });
    expect((await alice.get('/api/v1/folder')).status).toBe(401);
  });
});
