import { afterEach, describe, expect, it } from 'vitest';
import { readArchive } from '../../services/backup/archive.ts';
import { ADMIN, type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { save } from '../../test-support/config-fixtures.ts';
import { expectError, mint } from '../../test-support/identity-fixtures.ts';

/**
 * Backups of a server with encryption at rest (SPEC §7.4, seed 003): sealed values travel as
 * ciphertext, and a restored server is unlocked with the key that was active at backup time.
 */
const KEY = 'correct horse battery staple';
const SECRET = 'oauth-client-secret-value';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

/** Targets get their own admin name: a merge restore replaces a local user whose name the archive uses. */
async function start(username?: string): Promise<{ t: TestApp; admin: Client }> {
  const t = await startTestApp();
  apps.push(t);
  return { t, admin: await t.bootstrapAdmin(username) };
}

async function restore(t: TestApp, client: Client, archive: Buffer, headers: Record<string, string> = {}) {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/backup', headers: { 'content-type': 'application/octet-stream', cookie: client.cookie ?? '', ...headers }, payload: archive });
  return { status: res.statusCode, json: JSON.parse(res.body) as Record<string, unknown> };
}

/** A server with the key initialized, a secret in the settings, a config and a read token. */
async function encryptedSource() {
  const { t, admin } = await start();
  expect((await admin.post('/api/v1/key/initialize', { key: KEY })).status).toBe(200);
  expect((await admin.post('/api/v1/settings', { auth: { oauth2: [{ name: 'x', client_id: 'c', client_secret: SECRET }] } })).status).toBe(200);
  await save(admin, 'apps/api', { content: '{"db":"postgres"}' });
  const token = await mint(admin, { scopes: [{ path: '**', operations: ['read'] }] });
  return { t, admin, token: token.raw };
}

describe('backups of an encrypted server', () => {
  it('restores into a fresh server that stays locked until unlocked with the original key', async () => {
    const source = await encryptedSource();
    const backup = await source.admin.get('/api/v1/backup', { 'x-encryption-password': 'archive password' });
    expect(backup.status).toBe(200);
    // Inside the archive the settings are exactly what the store holds: sealed, not plaintext.
    const archive = await readArchive(backup.rawPayload, { password: 'archive password' });
    const sealed = archive.entries.find((e) => e.key === 'settings/auth');
    expect(Buffer.from(sealed!.value).toString('base64')).toBe(Buffer.from((await source.t.store.get('settings/auth'))!.value).toString('base64'));
    expect(Buffer.from(sealed!.value).toString('utf8')).not.toContain(SECRET);
    expect(archive.entries.some((e) => e.key === 'sys/key')).toBe(true);

    const { t, admin } = await start();
    expect(await restore(t, admin, backup.rawPayload, { 'x-encryption-password': 'archive password', 'x-pika-wipe': 'true' })).toMatchObject({ status: 200, json: { ok: true, mode: 'wipe' } });
    expect((await t.request({ url: '/api/v1/key/status' })).json).toEqual({ initialized: true, unlocked: false, server_id: expect.any(String) });

    // Sessions were wiped; signing in works while locked, everything else answers 503.
    const restored = await t.login(ADMIN.username, ADMIN.password);
    const locked = await restored.get('/api/v1/settings');
    expectError(locked, 503, 'server_locked');
    expect(locked.headers['x-pika-locked']).toBe('true');
    expectError(await t.withToken(source.token).get('/data/apps/api'), 503, 'server_locked');
    expectError(await restored.post('/api/v1/key/unlock', { key: 'some other key' }), 403, 'ERR_KEY_WRONG');

    expect((await restored.post('/api/v1/key/unlock', { key: KEY })).json).toEqual({ initialized: true, unlocked: true });
    expect((await restored.get('/api/v1/settings')).json.auth.oauth2[0]).toMatchObject({ name: 'x', client_id: 'c', client_secret_set: true });
    const data = await t.withToken(source.token).get('/data/apps/api');
    expect([data.status, data.json]).toEqual([200, { db: 'postgres' }]);
  });

  it('also locks an unlocked target whose own key record the restore replaced (merge)', async () => {
    const source = await encryptedSource();
    const archive = (await source.admin.get('/api/v1/backup')).rawPayload;
    const { t, admin } = await start('target-admin');
    expect((await admin.post('/api/v1/key/initialize', { key: 'the target server own key' })).status).toBe(200);
    expect((await restore(t, admin, archive)).status).toBe(200);
    expect((await t.request({ url: '/api/v1/key/status' })).json).toEqual({ initialized: true, unlocked: false, server_id: expect.any(String) });
    // Merge kept the target's admin and session: it can unlock, but only with the backup's key.
    expectError(await admin.post('/api/v1/key/unlock', { key: 'the target server own key' }), 403, 'ERR_KEY_WRONG');
    expect((await admin.post('/api/v1/key/unlock', { key: KEY })).status).toBe(200);
    expect((await t.withToken(source.token).get('/data/apps/api')).json).toEqual({ db: 'postgres' });
  });

  it('stays unlocked when the archive carries the very key record in use', async () => {
    const source = await encryptedSource();
    const archive = (await source.admin.get('/api/v1/backup')).rawPayload;
    await save(source.admin, 'apps/api', { content: '{"db":"mysql"}' });
    expect((await source.t.withToken(source.token).get('/data/apps/api')).json).toEqual({ db: 'mysql' });
    expect((await restore(source.t, source.admin, archive, { 'x-pika-wipe': 'true' })).status).toBe(200);
    expect((await source.t.request({ url: '/api/v1/key/status' })).json).toEqual({ initialized: true, unlocked: true, server_id: expect.any(String) });
    // The /data cache held v2 ("mysql"): it was dropped with the restore.
    expect((await source.t.withToken(source.token).get('/data/apps/api')).json).toEqual({ db: 'postgres' });
  });

  it('returns an encrypted server to plaintext when the backup predates encryption (wipe)', async () => {
    const { t, admin } = await start();
    expect((await admin.post('/api/v1/settings', { auth: { oauth2: [{ name: 'x', client_id: 'c', client_secret: SECRET }] } })).status).toBe(200);
    const archive = (await admin.get('/api/v1/backup')).rawPayload;
    expect((await admin.post('/api/v1/key/initialize', { key: KEY })).status).toBe(200);
    expect(await restore(t, admin, archive, { 'x-pika-wipe': 'true' })).toMatchObject({ status: 200 });
    expect((await t.request({ url: '/api/v1/key/status' })).json).toEqual({ initialized: false, unlocked: false, server_id: expect.any(String) });
    const again = await t.login(ADMIN.username, ADMIN.password);
    expect((await again.get('/api/v1/settings')).json.auth.oauth2[0]).toMatchObject({ client_secret_set: true });
    expect(Buffer.from((await t.store.get('settings/auth'))!.value).toString('utf8')).toContain(SECRET);
    // New secrets are stored in plaintext again rather than sealed with a key nobody holds.
    expect((await again.post('/api/v1/settings', { auth: { oauth2: [{ name: 'y', client_id: 'd', client_secret: 'another-secret' }] } })).status).toBe(200);
    expect(Buffer.from((await t.store.get('settings/auth'))!.value).toString('utf8')).toContain('another-secret');
  });

  it('answers 503 on a locked server: unlock first, then restore', async () => {
    const source = await encryptedSource();
    const archive = (await source.admin.get('/api/v1/backup')).rawPayload;
    expect((await source.admin.post('/api/v1/key/lock')).status).toBe(200);
    const res = await restore(source.t, source.admin, archive);
    expect([res.status, res.json.code]).toEqual([503, 'server_locked']);
    expectError(await source.admin.get('/api/v1/backup'), 503, 'server_locked');
  });
});
