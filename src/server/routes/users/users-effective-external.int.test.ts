import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';

/**
 * Capabilities of a user signed in through an external strategy (issue 5 acceptance 4): the
 * session carries the groups the IdP reported; `users-effective` shows what they map to and why.
 * The session is written through the store port, as the OIDC/LDAP sign-in routes do.
 */
let t: TestApp;
let admin: Client;
beforeEach(async () => {
  t = await startTestApp();
  admin = await t.bootstrapAdmin();
});
afterEach(async () => {
  await t.close();
});

async function externalSession(userId: string, roles: string[], subject = 'sub-123'): Promise<string> {
  const cookie = randomBytes(32).toString('base64url');
  const handle = createHash('sha256').update(cookie).digest('hex');
  const now = Date.now();
  const record = { user_id: userId, created_at: new Date(now).toISOString(), expires_at: new Date(now + 3_600_000).toISOString(), provider: 'corp-idp', roles, subject };
  await t.store.batch([
    { type: 'put', key: `id/session/${handle}`, value: new TextEncoder().encode(JSON.stringify(record)) },
    { type: 'put', key: `id/usersession/${userId}\u0000${handle}`, value: new Uint8Array() },
  ]);
  return `pika_session=${cookie}`;
}

describe('external sessions and users-effective', () => {
  it('keeps the user’s own rights when not enforced, adds mapped roles when enforced, and explains both', async () => {
    const bundle = await admin.post('/api/v1/permissions', { key: 'readers', name: 'Readers', keys: ['files.read'] });
    const carol = await admin.post('/api/v1/users', { username: 'carol', password: 'carol-password', permission_ids: [bundle.json.id] });
    const cookie = await externalSession(carol.json.id, ['auditors', 'unknown-group']);
    const info = () => t.request({ url: '/api/v1/info', cookie });

    expect((await info()).json.permissions).toEqual(['files.read']);
    await admin.post('/api/v1/settings', { auth: { permissions: { enforce: true, mapping: { auditors: ['settings.manage'] } } } });
    expect((await info()).json.permissions.sort()).toEqual(['files.read', 'key.unlock', 'settings.manage']);

    const effective = (await admin.get(`/api/v1/users-effective/carol`)).json;
    expect(effective.roles.sort()).toEqual(['auditors', 'unknown-group']);
    expect(effective.sources).toEqual(expect.arrayContaining([
      { capability: 'files.read', kind: 'db_bundle', bundle: 'readers' },
      { capability: 'settings.manage', kind: 'role', role: 'auditors' },
    ]));
    expect(effective.superadmin).toBe(false);
  });

  it('reports the superadmin allowlist as the reason', async () => {
    const dave = await admin.post('/api/v1/users', { username: 'dave', password: 'dave-password' });
    await externalSession(dave.json.id, [], 'dave-sub');
    await admin.post('/api/v1/settings', { auth: { permissions: { enforce: true, superadmins: ['corp-idp:dave-sub'] } } });
    const effective = (await admin.get('/api/v1/users-effective/dave')).json;
    expect(effective.superadmin).toBe(true);
    expect(effective.superadmin_reason).toBe('allowlist');
    expect(effective.capabilities).toContain('users.manage');
  });
});
