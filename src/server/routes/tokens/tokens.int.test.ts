import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, type Client, startTestApp, type TestApp, type TestResponse } from '../../test-support/app-harness.ts';
import { dumpStore, expectError, manualClock, mint, saveConfig } from '../../test-support/identity-fixtures.ts';

const RAW_KEY = /^pika_[0-9a-f]{64}$/;
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

describe('token lifecycle', () => {
  it('returns the raw key once and stores only its SHA-256', async () => {
    const app = await start();
    const created = await admin.post('/api/v1/tokens', { name: 'ci', scopes: [scope('team-a/**')] });
    expect(created.status).toBe(201);
    const raw = created.json.raw_key as string;
    expect(raw).toMatch(RAW_KEY);
    expect(created.json).toMatchObject({ name: 'ci', scopes: [{ path: 'team-a/**', operations: ['read'] }], capabilities: [], active: true, created_by: 'admin' });
    expect(Object.keys(created.json).sort()).toEqual(['active', 'capabilities', 'created_at', 'created_by', 'id', 'name', 'raw_key', 'scopes']);
    const id = created.json.id as string;

    const responses: TestResponse[] = [created, await admin.get('/api/v1/tokens'), await admin.get(`/api/v1/tokens/${id}`), await admin.get('/api/v1/tokens?_limit=5')];
    responses.push(await admin.patch(`/api/v1/tokens/${id}`, { name: 'ci-2' }));
    for (const res of responses.slice(1)) {
      expect(res.status).toBe(200);
      expect(res.body).not.toContain(raw);
      expect(res.body).not.toContain('raw_key');
    }
    const hash = createHash('sha256').update(raw).digest('hex');
    for (const res of responses) {
      expect(res.body).not.toContain('hashed_key');
      expect(res.body).not.toContain(hash);
      expect(res.body).not.toContain('created_by_user_id');
    }

    const stored = await dumpStore(app.store, 'id/token');
    expect(stored.some((e) => e.key.includes(raw) || e.value.includes(raw))).toBe(false);
    expect(stored.map((e) => e.key).sort()).toEqual([`id/token/${id}`, `id/tokenhash/${hash}`]);
    expect(JSON.parse(stored.find((e) => e.key === `id/token/${id}`)?.value ?? '{}').hashed_key).toBe(hash);
    expect((await dumpStore(app.store)).some((e) => e.value.includes(raw))).toBe(false);

    expect((await app.withToken(raw).get('/data/team-a/x')).body).toBe('{"path":"team-a/x"}');
  });

  it('lists as a plain array without a query and as {tokens,total} with one', async () => {
    await start();
    await mint(admin, { name: 'CI deploy', scopes: [scope('**')] });
    const off = await mint(admin, { name: 'backup', scopes: [scope('**')] });
    await mint(admin, { name: 'ci-read', scopes: [scope('**')] });
    expect((await admin.patch(`/api/v1/tokens/${off.id}`, { active: false })).status).toBe(200);

    const plain = await admin.get('/api/v1/tokens');
    expect(Array.isArray(plain.json)).toBe(true);
    expect(plain.json.map((x: { name: string }) => x.name)).toEqual(['CI deploy', 'backup', 'ci-read']);
    const byName = await admin.get('/api/v1/tokens?name=ci');
    expect(byName.json.total).toBe(2);
    expect(byName.json.tokens.map((x: { name: string }) => x.name)).toEqual(['CI deploy', 'ci-read']);
    expect((await admin.get('/api/v1/tokens?active=false')).json).toMatchObject({ total: 1, tokens: [{ name: 'backup', active: false }] });
    expect((await admin.get('/api/v1/tokens?active=true')).json.total).toBe(2);
    const page = await admin.get('/api/v1/tokens?_limit=1&_offset=1');
    expect(page.json).toMatchObject({ total: 3, tokens: [{ name: 'backup' }] });
    expectError(await admin.get('/api/v1/tokens?bogus=1'), 400, 'ERR_VALIDATION');
  });

  it('patches name, scopes, active and expiry, with immediate effect', async () => {
    const clock = manualClock();
    const app = await start({ deps: { clock: clock.now } });
    const token = await mint(admin, { scopes: [scope('team-a/**')] });
    const patched = await admin.patch(`/api/v1/tokens/${token.id}`, { name: 'renamed', scopes: [scope('team-b/**')] });
    expect(patched.json).toMatchObject({ name: 'renamed', scopes: [{ path: 'team-b/**', operations: ['read'] }] });
    expect(await dataStatus(app, token.raw, 'team-a/x')).toBe(403);
    expect(await dataStatus(app, token.raw, 'team-b/x')).toBe(200);

    expect((await admin.patch(`/api/v1/tokens/${token.id}`, { active: false })).json.active).toBe(false);
    expectError(await app.withToken(token.raw).get('/data/team-b/x'), 403, 'ERR_TOKEN_DISABLED');
    expectError(await app.withToken(token.raw).get('/api/v1/file/team-b/x'), 403, 'ERR_TOKEN_DISABLED');
    expect((await admin.patch(`/api/v1/tokens/${token.id}`, { active: true })).status).toBe(200);
    expect(await dataStatus(app, token.raw, 'team-b/x')).toBe(200);

    const expiry = new Date(clock.now() + 60_000).toISOString();
    expect((await admin.patch(`/api/v1/tokens/${token.id}`, { expires_at: expiry })).json.expires_at).toBe(expiry);
    clock.advance(59_999);
    expect(await dataStatus(app, token.raw, 'team-b/x')).toBe(200);
    clock.advance(1);
    expectError(await app.withToken(token.raw).get('/data/team-b/x'), 403, 'ERR_TOKEN_EXPIRED');
    const cleared = await admin.patch(`/api/v1/tokens/${token.id}`, { expires_at: null });
    expect(cleared.json).not.toHaveProperty('expires_at');
    expect(await dataStatus(app, token.raw, 'team-b/x')).toBe(200);

    expectError(await admin.patch('/api/v1/tokens/nope', { name: 'x' }), 404, 'ERR_TOKEN_NOT_FOUND');
    expectError(await admin.patch(`/api/v1/tokens/${token.id}`, {}), 400, 'ERR_VALIDATION');
  });

  it('validates expiry and scopes at creation', async () => {
    const clock = manualClock();
    await start({ deps: { clock: clock.now } });
    const post = (body: Record<string, unknown>) => admin.post('/api/v1/tokens', { name: 'x', scopes: [scope('**')], ...body });
    expectError(await post({ expires_at: new Date(clock.now() - 1000).toISOString() }), 400, 'ERR_VALIDATION');
    expectError(await post({ expires_at: 'tomorrow' }), 400, 'ERR_VALIDATION');
    expectError(await post({ scopes: [scope('../etc')] }), 400, 'ERR_VALIDATION');
    expectError(await post({ scopes: [scope('a//b')] }), 400, 'ERR_VALIDATION');
    expectError(await post({ scopes: [{ path: 'a', operations: [] }] }), 400, 'ERR_VALIDATION');
    expectError(await post({ scopes: [{ path: 'a', operations: ['admin'] }] }), 400, 'ERR_VALIDATION');
    expectError(await post({ capabilities: ['files.read'] }), 400, 'ERR_VALIDATION');
    expectError(await post({ capabilities: ['files.write'] }), 400, 'ERR_VALIDATION');
    const ok = await post({ expires_at: '2030-01-02T00:00:00+02:00', scopes: [scope('/team-a/**/', 'read', 'read')] });
    expect(ok.json).toMatchObject({ expires_at: '2030-01-01T22:00:00.000Z', scopes: [{ path: 'team-a/**', operations: ['read'] }] });
    expect((await admin.get('/api/v1/tokens')).json).toHaveLength(1);
  });

  it('stops working once deleted', async () => {
    const app = await start();
    const token = await mint(admin, { scopes: [scope('**')] });
    expect(await dataStatus(app, token.raw, 'team-a/x')).toBe(200);
    expect((await admin.delete(`/api/v1/tokens/${token.id}`)).json).toEqual({ ok: true });
    expectError(await app.withToken(token.raw).get('/data/team-a/x'), 401, 'ERR_TOKEN_INVALID');
    expectError(await app.withToken(token.raw).get('/api/v1/file/team-a/x'), 401, 'ERR_TOKEN_INVALID');
    expectError(await admin.get(`/api/v1/tokens/${token.id}`), 404, 'ERR_TOKEN_NOT_FOUND');
    expectError(await admin.delete(`/api/v1/tokens/${token.id}`), 404, 'ERR_TOKEN_NOT_FOUND');
    expect(await dumpStore(app.store, 'id/token')).toEqual([]);
  });

  it('refuses malformed and unknown bearer credentials with 401', async () => {
    const app = await start();
    for (const authorization of ['Bearer', 'Bearer nope', `Bearer pika_${'g'.repeat(64)}`, `Bearer pika_${'a'.repeat(64)}`, 'Basic YWRtaW46eA==', `Bearer pika_${'A'.repeat(64)}`]) {
      const res = await app.request({ url: '/data/team-a/x', headers: { authorization } });
      expectError(res, 401, 'ERR_TOKEN_INVALID');
      expectError(await app.request({ url: '/api/v1/info', headers: { authorization } }), 401, 'ERR_TOKEN_INVALID');
    }
    expectError(await app.request({ url: '/data/team-a/x' }), 401, 'ERR_UNAUTHENTICATED');
    // A session cookie does not open /data.
    expectError(await admin.get('/data/team-a/x'), 401, 'ERR_UNAUTHENTICATED');
  });

  it('writes last_used_at in batches, flushed at the latest when the app closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pika-int-tokens-'));
    try {
      const clock = manualClock();
      const first = await start({ dir, deps: { clock: clock.now } });
      const token = await mint(admin, { scopes: [scope('**')] });
      clock.advance(5_000);
      expect(await dataStatus(first, token.raw, 'team-a/x')).toBe(200);
      clock.advance(5_000);
      expect(await dataStatus(first, token.raw, 'team-b/x')).toBe(200);
      // Not written on every request.
      expect((await admin.get(`/api/v1/tokens/${token.id}`)).json).not.toHaveProperty('last_used_at');
      await first.close();
      t = undefined;

      const usedAt = new Date(clock.now()).toISOString();
      clock.advance(60_000);
      t = await startTestApp({ dir, deps: { clock: clock.now } });
      const reopened = await t.login(ADMIN.username, ADMIN.password);
      expect((await reopened.get(`/api/v1/tokens/${token.id}`)).json.last_used_at).toBe(usedAt);
    } finally {
      await t?.close();
      t = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
