import { afterEach, describe, expect, it } from 'vitest';
import { readArchive } from '../../services/backup/archive.ts';
import type { Store } from '../../storage/store.ts';
import { type Client, startTestApp, type TestApp, type TestResponse } from '../../test-support/app-harness.ts';
import { save } from '../../test-support/config-fixtures.ts';
import { createBundle, createUser, expectError, mint, PASSWORD } from '../../test-support/identity-fixtures.ts';

/**
 * Backup and restore through the API (SPEC §7.4, issue acceptance): a lossless round trip into a
 * fresh server, merge versus wipe, and the download itself.
 */
const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function start(): Promise<TestApp> {
  const t = await startTestApp();
  apps.push(t);
  return t;
}

function download(client: Client, headers: Record<string, string> = {}, query = ''): Promise<TestResponse> {
  return client.get(`/api/v1/backup${query}`, headers);
}

/** POST the archive bytes as the signed-in client (the harness only sends text bodies). */
async function restore(t: TestApp, client: Client, archive: Buffer, options: { query?: string; headers?: Record<string, string> } = {}) {
  const res = await t.app.inject({ method: 'POST', url: `/api/v1/backup${options.query ?? ''}`, headers: { 'content-type': 'application/octet-stream', cookie: client.cookie ?? '', ...options.headers }, payload: archive });
  return { status: res.statusCode, json: JSON.parse(res.body) as Record<string, unknown> };
}

const isSession = (key: string) => key.startsWith('id/session/') || key.startsWith('id/usersession/');

/** Every key but sessions, values as base64: the entities a backup must carry. */
async function entities(store: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const item of store.iterate('')) if (!isSession(item.key)) out.set(item.key, Buffer.from(item.value).toString('base64'));
  return out;
}

/** A source server with every kind of entity (the acceptance list). Returns what to check later. */
async function populate(t: TestApp) {
  const admin = await t.bootstrapAdmin();
  await save(admin, 'shared/base', { content: '{"region":"eu","replicas":1}' });
  await save(admin, 'apps/web', { content: '{"name":"web","v":1}', inherits: [{ source: 'shared/base' }] });
  await save(admin, 'apps/web', { content: '{"name":"web","v":2}', inherits: [{ source: 'shared/base' }] });
  await save(admin, 'apps/web', { content: '{"name":"web","v":3}', inherits: [{ source: 'shared/base' }] });
  expect((await admin.delete('/api/v1/file/apps/web?version=2')).status).toBe(200);
  expect((await admin.patch('/api/v1/versions/apps/web', { version: 1, constraint: '>=1.0.0' })).status).toBe(200);
  await save(admin, 'apps/web', { content: '{"name":"web-prod"}', variant: 'prod' });
  await save(admin, 'blobs/raw', { format: 'raw', data: Buffer.from([0, 0xff, 0xfe, 10, 13]).toString('base64') });
  const bundle = await createBundle(admin, { key: 'readers', keys: ['files.read'], key_patterns: { 'files.read': ['apps/**'] } });
  await createUser(admin, 'alice', { permission_ids: [bundle] });
  const token = await mint(admin, { name: 'reader', scopes: [{ path: '**', operations: ['read'] }] });
  await mint(admin, { name: 'expiring', scopes: [{ path: 'apps/**', operations: ['read'] }], expires_at: '2099-01-01T00:00:00Z' });
  expect((await admin.post('/api/v1/settings', { auth: { oauth2: [{ name: 'x', client_id: 'c', client_secret: 's' }] } })).status).toBe(200);
  expect((await t.withToken(token.raw).get('/data/apps/web')).status).toBe(200);
  return { admin, token };
}

describe('backup and restore', () => {
  it('round-trips every entity but sessions into a fresh server', async () => {
    const source = await start();
    const { admin, token } = await populate(source);
    expect((await admin.get('/api/v1/audit')).status).toBe(200); // flushes queued audit entries
    const before = await entities(source.store);
    const backup = await download(admin);
    expect(backup.status, backup.body).toBe(200);

    // The archive is exactly the store minus sessions, values byte for byte.
    const archive = await readArchive(backup.rawPayload);
    expect(new Map(archive.entries.map((e) => [e.key, Buffer.from(e.value).toString('base64')]))).toEqual(before);
    expect([...before.keys()].filter((k) => k.startsWith('audit/')).length).toBeGreaterThan(10);
    for (const prefix of ['cfg/file/', 'cfg/ver/', 'cfg/tree/', 'id/user/', 'id/username/', 'id/bundle/', 'id/bundlekey/', 'id/token/', 'id/tokenhash/', 'settings/auth', 'feed/event/']) {
      expect([...before.keys()].some((k) => k.startsWith(prefix)), prefix).toBe(true);
    }
    const sessions = [];
    for await (const item of source.store.iterate('id/')) if (isSession(item.key)) sessions.push(item.key);
    expect(sessions.length).toBeGreaterThan(0); // they exist, and the archive left them out

    const target = await start();
    const targetAdmin = await target.bootstrapAdmin();
    const restored = await restore(target, targetAdmin, backup.rawPayload, { query: '?wipe=true' });
    expect(restored).toEqual({ status: 200, json: { ok: true, mode: 'wipe', entries: before.size } });

    const after = await entities(target.store);
    for (const [key, value] of before) {
      if (key.startsWith('feed/')) continue;
      expect(after.get(key), key).toBe(value);
    }
    // The only additions are the audit entries of the restore itself; the change feed starts a
    // new history past the old one, so no watcher can resume into it.
    const added = [...after.keys()].filter((k) => !before.has(k));
    expect(added.filter((k) => !k.startsWith('audit/'))).toEqual([]);
    for (const key of added.filter((k) => k.startsWith('audit/'))) expect(JSON.parse(Buffer.from(after.get(key)!, 'base64').toString()).action).toBe('POST /api/v1/backup');
    expect(Buffer.from(after.get('feed/seq')!, 'base64').toString()).toBe(String(Number(Buffer.from(before.get('feed/seq')!, 'base64').toString()) + 1));
    expect([...after.keys()].filter((k) => k.startsWith('feed/event/'))).toEqual([]);

    // And the data is served: the token minted before the backup, the user, the settings.
    const data = await target.withToken(token.raw).get('/data/apps/web');
    expect(data.status, data.body).toBe(200);
    expect(data.json).toEqual({ region: 'eu', replicas: 1, name: 'web', v: 3 });
    expect((await target.withToken(token.raw).get('/data/apps/web?version=2')).status).toBe(404);
    expect((await target.withToken(token.raw).get('/data/apps/web?variant=prod')).json).toEqual({ name: 'web-prod' });
    expect((await target.withToken(token.raw).get('/data/blobs/raw')).rawPayload).toEqual(Buffer.from([0, 0xff, 0xfe, 10, 13]));
    expectError(await targetAdmin.get('/api/v1/settings'), 401, 'ERR_UNAUTHENTICATED'); // wipe: everyone signs in again
    const alice = await target.login('alice', PASSWORD);
    expect((await alice.get('/api/v1/file/apps/web')).status).toBe(200);
    expect((await alice.get('/api/v1/file/shared/base')).status).toBe(403);
    const restoredAdmin = await target.login('admin', 'correct horse battery');
    expect((await restoredAdmin.get('/api/v1/settings')).json.auth.oauth2[0]).toMatchObject({ name: 'x', client_id: 'c', client_secret_set: true });
    const audit = await restoredAdmin.get(`/api/v1/audit?action=${encodeURIComponent('POST /api/v1/backup')}`);
    expect(audit.json.entries).toEqual([expect.objectContaining({ action: 'POST /api/v1/backup', actor: 'admin', status: 200 })]);
  });

  it('merges over the target by default and wipes it on request', async () => {
    const source = await start();
    const admin = await source.bootstrapAdmin();
    await save(admin, 'shared/x', { content: '{"from":"backup"}' });
    const token = await mint(admin, { scopes: [{ path: '**', operations: ['read'] }] });
    const archive = (await download(admin)).rawPayload;

    const prepare = async () => {
      const t = await start();
      const root = await t.bootstrapAdmin('root', 'root password 123');
      await save(root, 'shared/x', { content: '{"from":"target","v":1}' });
      await save(root, 'shared/x', { content: '{"from":"target","v":2}' });
      await save(root, 'local/only', { content: '{}' });
      return { t, root };
    };

    const merged = await prepare();
    expect(await restore(merged.t, merged.root, archive, { headers: { 'x-pika-wipe': 'false' } })).toMatchObject({ status: 200, json: { mode: 'merge' } });
    expect((await merged.t.withToken(token.raw).get('/data/shared/x')).json).toEqual({ from: 'backup' });
    expect((await merged.root.get('/api/v1/file/local/only')).status).toBe(200); // its own data and session stay
    expect((await merged.root.get('/api/v1/users')).json.users.map((u: { username: string }) => u.username).sort()).toEqual(['admin', 'root']);

    const wiped = await prepare();
    expect(await restore(wiped.t, wiped.root, archive, { headers: { 'x-pika-wipe': 'TRUE' } })).toMatchObject({ status: 200, json: { mode: 'wipe' } });
    expect((await wiped.t.withToken(token.raw).get('/data/shared/x')).json).toEqual({ from: 'backup' });
    expectError(await wiped.root.get('/api/v1/file/local/only'), 401, 'ERR_UNAUTHENTICATED');
    expect((await wiped.t.request({ method: 'POST', url: '/login/pass/local', body: { username: 'root', password: 'root password 123' } })).status).toBe(401);
    const back = await wiped.t.login('admin', 'correct horse battery');
    expectError(await back.get('/api/v1/file/local/only'), 404, 'ERR_FILE_NOT_FOUND');
    expect((await back.get('/api/v1/versions/shared/x')).json).toHaveLength(1);
  });

  it('forgets cached tokens and permissions when the records under them are replaced', async () => {
    const t = await start();
    const admin = await t.bootstrapAdmin();
    await save(admin, 'apps/web', { content: '{}' });
    const bundle = await createBundle(admin, { key: 'readers', keys: ['files.read'] });
    const aliceId = await createUser(admin, 'alice', { permission_ids: [bundle] });
    const archive = (await download(admin)).rawPayload;

    // After the backup: a new token appears, alice loses her bundle; both are used (cached).
    // Nothing may change an identity after alice's request, or that alone would drop the cache.
    const later = await mint(admin, { scopes: [{ path: '**', operations: ['read'] }] });
    expect((await t.withToken(later.raw).get('/data/apps/web')).status).toBe(200);
    const alice = await t.login('alice', PASSWORD);
    expect((await admin.put(`/api/v1/user-permissions/${aliceId}`, { permission_ids: [] })).status).toBe(200);
    expectError(await alice.get('/api/v1/file/apps/web'), 403, 'ERR_FORBIDDEN');

    // Merge keeps alice's session: her next request must see the restored grants.
    expect((await restore(t, admin, archive)).status).toBe(200);
    expect((await alice.get('/api/v1/file/apps/web')).status).toBe(200);
    // Wipe removes the token minted after the backup, cached or not.
    expect((await restore(t, admin, archive, { query: '?wipe=true' })).status).toBe(200);
    expectError(await t.withToken(later.raw).get('/data/apps/web'), 401, 'ERR_TOKEN_INVALID');
  });

  it('downloads as an attachment, encrypted with the header or the query password, and audits it', async () => {
    const t = await start();
    const admin = await t.bootstrapAdmin();
    const plain = await download(admin);
    expect(plain.headers['content-type']).toBe('application/octet-stream');
    expect(plain.headers['content-disposition']).toMatch(/^attachment; filename="pika-backup-\d{8}-\d{6}\.pikabak"$/);
    expect(plain.headers['cache-control']).toBe('no-store');
    expect(plain.rawPayload.subarray(0, 11)).toEqual(Buffer.from('PIKABAK\0\0\x01\x00', 'latin1'));
    expect(Number(plain.headers['x-pika-backup-entries'])).toBe((await readArchive(plain.rawPayload)).entries.length);

    // Node hands header bytes over as Latin-1: UTF-8 on the wire (curl) arrives as 'pÃ¤…', a
    // Latin-1 client (fetch) sends 'ä' as one byte. Both, and the query, mean the same password.
    const utf8OnTheWire = Buffer.from('pässword one', 'utf8').toString('latin1');
    const byUtf8Header = await download(admin, { 'x-encryption-password': utf8OnTheWire });
    const byLatin1Header = await download(admin, { 'x-encryption-password': 'pässword one' });
    const byQuery = await download(admin, {}, `?encryption_password=${encodeURIComponent('pässword one')}`);
    for (const res of [byUtf8Header, byLatin1Header, byQuery]) {
      expect(res.rawPayload[10]).toBe(1);
      expect((await readArchive(res.rawPayload, { password: 'pässword one' })).encrypted).toBe(true);
    }
    expect((await download(admin, {}, '?encryption_password=')).rawPayload[10]).toBe(0);
    expectError(await download(admin, {}, '?nope=1'), 400, 'ERR_VALIDATION');

    const audit = await admin.get(`/api/v1/audit?action=${encodeURIComponent('GET /api/v1/backup')}`);
    expect(audit.json.entries.map((e: { detail: string; status: number }) => [e.detail, e.status])).toEqual([
      ['not encrypted', 400],
      ['not encrypted', 200],
      ['encrypted', 200],
      ['encrypted', 200],
      ['encrypted', 200],
      ['not encrypted', 200],
    ]);
  });

  it('needs settings.manage for both directions', async () => {
    const t = await start();
    const admin = await t.bootstrapAdmin();
    const archive = (await download(admin)).rawPayload;
    const bundle = await createBundle(admin, { key: 'everything-else', keys: ['files.read', 'files.write', 'tokens.manage'] });
    await createUser(admin, 'bob', { permission_ids: [bundle] });
    const bob = await t.login('bob', PASSWORD);
    const token = await mint(admin, { scopes: [{ path: '**', operations: ['*'] }] });
    expectError(await download(bob), 403, 'ERR_FORBIDDEN');
    expectError(await t.withToken(token.raw).get('/api/v1/backup'), 403, 'ERR_FORBIDDEN');
    expectError(await t.request({ url: '/api/v1/backup' }), 401, 'ERR_UNAUTHENTICATED');
    expect((await restore(t, bob, archive)).json.code).toBe('ERR_FORBIDDEN');
    const anonymous = await t.app.inject({ method: 'POST', url: '/api/v1/backup', headers: { 'content-type': 'application/octet-stream' }, payload: archive });
    expect([anonymous.statusCode, (JSON.parse(anonymous.body) as { code: string }).code]).toEqual([401, 'ERR_UNAUTHENTICATED']);
  });
});
