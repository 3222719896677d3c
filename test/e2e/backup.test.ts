import { afterEach, describe, expect, it } from 'vitest';
import { getData, login, register } from './support/http.ts';
import { startPika, stopAllPika } from './support/server-process.ts';

/**
 * Backup and restore between two real server processes (SPEC §7.4): an encrypted server is
 * backed up with a password, restored into a fresh process, unlocked with the original server
 * key, and serves the data — also after that process restarts.
 */
afterEach(stopAllPika);

const SERVER_KEY = 'e2e server key: purple-otter-42';
const ARCHIVE_PASSWORD = 'e2e-archive-passphrase-9d1e';

describe('backup and restore over real HTTP', () => {
  it('moves an encrypted server to a fresh process, keeps the password out of the logs', async () => {
    const first = await startPika();
    const admin = await register(first.baseUrl);
    expect((await admin.request('POST', '/api/v1/key/initialize', { key: SERVER_KEY })).status).toBe(200);
    await admin.save('apps/payments', { format: 'yaml', content: 'db:\n  host: pg.internal\n' });
    expect((await admin.request('POST', '/api/v1/settings', { auth: { oauth2: [{ name: 'sso', client_id: 'pika', client_secret: 'sso-client-secret' }] } })).status).toBe(200);
    const token = await admin.createToken('reader');

    // The query form on purpose: the logger must redact it.
    const backup = await admin.request('GET', `/api/v1/backup?encryption_password=${ARCHIVE_PASSWORD}`);
    expect(backup.status, backup.text()).toBe(200);
    expect(backup.headers.get('content-disposition')).toMatch(/^attachment; filename="pika-backup-\d{8}-\d{6}\.pikabak"$/);
    expect(backup.body.subarray(0, 8).toString('latin1')).toBe('PIKABAK\0');
    expect(backup.body[10]).toBe(1);
    expect(first.stdout()).not.toContain(ARCHIVE_PASSWORD);
    const urls = first.logLines().map((l) => (l.req as { url?: string } | undefined)?.url);
    expect(urls).toContain('/api/v1/backup?encryption_password=[redacted]');

    const second = await startPika();
    const fresh = await register(second.baseUrl);
    const wrong = await fetch(`${second.baseUrl}/api/v1/backup`, { method: 'POST', headers: { cookie: fresh.cookie, 'content-type': 'application/octet-stream', 'x-encryption-password': 'not it' }, body: backup.body });
    expect(wrong.status).toBe(403);
    const restored = await fetch(`${second.baseUrl}/api/v1/backup`, { method: 'POST', headers: { cookie: fresh.cookie, 'content-type': 'application/octet-stream', 'x-encryption-password': ARCHIVE_PASSWORD }, body: backup.body });
    expect(restored.status).toBe(200);
    expect(await restored.json()).toMatchObject({ ok: true, mode: 'merge' });

    // The archive's `admin` replaced the fresh server's `admin` (same name): sign in again.
    expect((await fresh.request('GET', '/api/v1/me')).status).toBe(401);
    const archived = await login(second.baseUrl);
    expect((await getData(second.baseUrl, token, 'apps/payments')).status).toBe(503);
    expect((await archived.request('GET', '/api/v1/key/status')).json()).toEqual({ initialized: true, unlocked: false, server_id: expect.any(String) });
    expect((await archived.request('POST', '/api/v1/key/unlock', { key: SERVER_KEY })).status).toBe(200);
    const data = await getData(second.baseUrl, token, 'apps/payments');
    expect([data.status, data.text()]).toEqual([200, 'db:\n  host: pg.internal\n']);
    expect((await archived.request('GET', '/api/v1/settings')).json<{ auth: { oauth2: { client_secret_set: boolean }[] } }>().auth.oauth2[0]?.client_secret_set).toBe(true);
    expect(second.stdout()).not.toContain(ARCHIVE_PASSWORD);

    // The restore was written durably: a restart comes back locked with the same data.
    await second.stop();
    const third = await startPika({ dataDir: second.dataDir });
    const again = await login(third.baseUrl);
    expect((await again.request('POST', '/api/v1/key/unlock', { key: SERVER_KEY })).status).toBe(200);
    expect((await getData(third.baseUrl, token, 'apps/payments')).text()).toBe('db:\n  host: pg.internal\n');
  });
});
