/**
 * The server key lifecycle and the lock gate through the HTTP API (SPEC §7.1, §7.3, seed 001).
 * "Restart" means closing the app and starting a new one on the same data directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';

const KEY = 'correct horse battery staple';
const NEW_KEY = 'another long passphrase 42';

let dir = '';
const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function boot(): Promise<TestApp> {
  dir ||= mkdtempSync(join(tmpdir(), 'pika-key-'));
  const t = await startTestApp({ dir });
  apps.push(t);
  return t;
}

async function restart(t: TestApp): Promise<TestApp> {
  await t.close();
  apps.splice(apps.indexOf(t), 1);
  return boot();
}

async function initialized(): Promise<{ t: TestApp; admin: Client }> {
  const t = await boot();
  const admin = await t.bootstrapAdmin();
  expect((await admin.post('/api/v1/key/initialize', { key: KEY })).status).toBe(200);
  return { t, admin };
}

describe('server key lifecycle', () => {
  it('starts uninitialized with the gate open, and initializes once', async () => {
    const t = await boot();
    expect((await t.request({ url: '/api/v1/key/status' })).json).toEqual({ initialized: false, unlocked: false, server_id: expect.any(String) });
    const admin = await t.bootstrapAdmin();
    expect((await admin.get('/api/v1/tokens')).status).toBe(200);
    expect((await t.request({ method: 'POST', url: '/api/v1/key/initialize', body: { key: KEY } })).status).toBe(401);
    const short = await admin.post('/api/v1/key/initialize', { key: 'short' });
    expect(short.status).toBe(400);
    const ok = await admin.post('/api/v1/key/initialize', { key: KEY });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ initialized: true, unlocked: true });
    const again = await admin.post('/api/v1/key/initialize', { key: KEY });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('ERR_KEY_ALREADY_INITIALIZED');
    expect((await admin.get('/api/v1/tokens')).status).toBe(200);
  });

  it('refuses initialize, lock and rotate to users without settings.manage', async () => {
    const t = await boot();
    const admin = await t.bootstrapAdmin();
    await admin.post('/api/v1/users', { username: 'reader', password: 'reader-password' });
    const reader = await t.login('reader', 'reader-password');
    for (const [url, body] of [
      ['/api/v1/key/initialize', { key: KEY }],
      ['/api/v1/key/lock', undefined],
      ['/api/v1/key/rotate', { current_key: KEY, new_key: NEW_KEY }],
    ] as const) {
      const res = await reader.post(url, body);
      expect(res.status, url).toBe(403);
      expect(res.json.code).toBe('ERR_FORBIDDEN');
    }
  });

  it('is locked after a restart: 503 + X-Pika-Locked everywhere gated, even unknown paths, never 404', async () => {
    const first = await initialized();
    const tokenKey = (await first.admin.post('/api/v1/tokens', { name: 'r', scopes: [{ path: '**', operations: ['read'] }] })).json.raw_key;
    const t = await restart(first.t);
    expect((await t.request({ url: '/api/v1/key/status' })).json).toEqual({ initialized: true, unlocked: false, server_id: expect.any(String) });
    for (const url of ['/api/v1/tokens', '/api/v1/nope/at/all', '/api/v1/folder', '/data/any/config', '/data/', '/eso/v1/secret?key=x', '/api/v1/settings', '/api/v1/me/../tokens', '/api/v1/me%2F..%2Ftokens']) {
      const res = await t.request({ url, headers: { authorization: `Bearer ${tokenKey}` } });
      expect(res.status, url).toBe(503);
      expect(res.headers['x-pika-locked'], url).toBe('true');
      expect(res.json.code, url).toBe('server_locked');
      expect(res.json.request_id, url).toBe(res.headers['x-request-id']);
    }
    const locked = await t.app.inject({ url: '/api/v1/tokens' });
    expect(locked.statusMessage).toBe('Pika Locked');
    // The allowlist keeps working.
    expect((await t.request({ url: '/api/v1/info' })).status).toBe(200);
    expect((await t.request({ url: '/healthz' })).status).toBe(200);
    expect((await t.request({ url: '/login/info' })).status).toBe(200);
    const admin = await t.login(ADMIN.username, ADMIN.password);
    expect((await admin.get('/api/v1/me')).status).toBe(200);
    expect((await admin.post('/logout')).status).toBe(200);
  });

  it('unlocks with the right key only: 401 anonymous, 403 wrong key, key.unlock tokens allowed', async () => {
    const first = await initialized();
    const unlocker = await first.admin.post('/api/v1/tokens', { name: 'operator', scopes: [], capabilities: ['key.unlock'] });
    expect(unlocker.status).toBe(201);
    const reader = await first.admin.post('/api/v1/tokens', { name: 'reader', scopes: [{ path: '**', operations: ['read'] }] });
    const t = await restart(first.t);

    expect((await t.request({ method: 'POST', url: '/api/v1/key/unlock', body: { key: KEY } })).status).toBe(401);
    const noCap = await t.withToken(reader.json.raw_key).post('/api/v1/key/unlock', { key: KEY });
    expect(noCap.status).toBe(403);
    expect(noCap.json.code).toBe('ERR_FORBIDDEN');
    const wrong = await t.withToken(unlocker.json.raw_key).post('/api/v1/key/unlock', { key: 'not the key at all' });
    expect(wrong.status).toBe(403);
    expect(wrong.json.code).toBe('ERR_KEY_WRONG');
    expect((await t.request({ url: '/api/v1/key/status' })).json.unlocked).toBe(false);

    const ok = await t.withToken(unlocker.json.raw_key).post('/api/v1/key/unlock', { key: KEY });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ initialized: true, unlocked: true });
    expect((await t.withToken(reader.json.raw_key).get('/api/v1/folder')).status).toBe(200);
  });

  it('rate limits wrong unlock attempts per client with 429 and Retry-After', async () => {
    const first = await initialized();
    const t = await restart(first.t);
    const admin = await t.login(ADMIN.username, ADMIN.password);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await admin.post('/api/v1/key/unlock', { key: `wrong guess ${i}` })).status);
    expect(statuses.slice(0, 5)).toEqual([403, 403, 403, 403, 403]);
    expect(statuses[5]).toBe(429);
    const limited = await admin.post('/api/v1/key/unlock', { key: KEY });
    expect(limited.status).toBe(429);
    expect(limited.json.code).toBe('ERR_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('locks on demand and unlocks again', async () => {
    const { t, admin } = await initialized();
    const locked = await admin.post('/api/v1/key/lock');
    expect(locked.json).toEqual({ initialized: true, unlocked: false });
    expect((await admin.get('/api/v1/tokens')).status).toBe(503);
    expect((await admin.post('/api/v1/key/unlock', { key: KEY })).status).toBe(200);
    expect((await admin.get('/api/v1/tokens')).status).toBe(200);
    expect((await t.request({ url: '/api/v1/key/status' })).json.unlocked).toBe(true);
  });

  it('rotates: wrong current key 403, then only the new key unlocks after a restart', async () => {
    const first = await initialized();
    const wrong = await first.admin.post('/api/v1/key/rotate', { current_key: 'nope nope nope', new_key: NEW_KEY });
    expect(wrong.status).toBe(403);
    expect(wrong.json.code).toBe('ERR_KEY_WRONG');
    expect((await first.admin.post('/api/v1/key/rotate', { current_key: KEY, new_key: NEW_KEY })).status).toBe(200);
    const t = await restart(first.t);
    const admin = await t.login(ADMIN.username, ADMIN.password);
    expect((await admin.post('/api/v1/key/unlock', { key: KEY })).json.code).toBe('ERR_KEY_WRONG');
    expect((await admin.post('/api/v1/key/unlock', { key: NEW_KEY })).status).toBe(200);
  });

  it('honours a per-user deny of key.unlock even for a holder of settings.manage', async () => {
    const first = await initialized();
    const bundle = await first.admin.post('/api/v1/permissions', { key: 'ops', name: 'Ops', keys: ['settings.manage'] });
    const ops = await first.admin.post('/api/v1/users', { username: 'ops', password: 'ops-password', permission_ids: [bundle.json.id] });
    expect((await first.admin.put(`/api/v1/users-denied/${ops.json.id}`, { capability_keys: ['key.unlock'] })).status).toBe(200);
    const t = await restart(first.t);
    const opsClient = await t.login('ops', 'ops-password');
    const refused = await opsClient.post('/api/v1/key/unlock', { key: KEY });
    expect(refused.status).toBe(403);
    expect(refused.json.code).toBe('ERR_FORBIDDEN');
    expect((await opsClient.get('/api/v1/info')).json.permissions).not.toContain('key.unlock');
  });

  it('unlock and lock before initialization answer 409', async () => {
    const t = await boot();
    const admin = await t.bootstrapAdmin();
    expect((await admin.post('/api/v1/key/unlock', { key: KEY })).json.code).toBe('ERR_KEY_NOT_INITIALIZED');
    expect((await admin.post('/api/v1/key/lock')).json.code).toBe('ERR_KEY_NOT_INITIALIZED');
  });
});
