import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { mintToken, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

const HOUR = 3_600_000;

/** `/data` authentication, ETags and cache invalidation (SPEC §5). */
describe('/data access and caching', () => {
  let t: TestApp;
  let admin: Client;
  let now = Date.parse('2030-01-01T00:00:00Z');
  beforeEach(async () => {
    now = Date.parse('2030-01-01T00:00:00Z');
    ({ t, admin } = await startWithAdmin({ deps: { clock: () => now } }));
    await save(admin, 'myapp/config', { format: 'yaml', content: 'a: 1\n' });
  });
  afterEach(async () => {
    await t.close();
  });

  function expectError(res: { status: number; json: { code?: string } }, status: number, code: string): void {
    expect(res.status).toBe(status);
    expect(res.json.code).toBe(code);
  }

  describe('authentication', () => {
    it('answers 401 ERR_UNAUTHENTICATED without a token, and ignores ?token=', async () => {
      expectError(await t.request({ url: '/data/myapp/config' }), 401, 'ERR_UNAUTHENTICATED');
      const { raw } = await mintToken(admin);
      expectError(await t.request({ url: `/data/myapp/config?token=${raw}` }), 401, 'ERR_UNAUTHENTICATED');
    });

    it('does not accept the session cookie', async () => {
      expect(admin.cookie).toBeDefined();
      expectError(await admin.get('/data/myapp/config'), 401, 'ERR_UNAUTHENTICATED');
    });

    it('answers 401 ERR_TOKEN_INVALID for unknown and malformed tokens', async () => {
      expectError(await t.withToken(`pika_${'0'.repeat(64)}`).get('/data/myapp/config'), 401, 'ERR_TOKEN_INVALID');
      expectError(await t.withToken('nonsense').get('/data/myapp/config'), 401, 'ERR_TOKEN_INVALID');
      expectError(await t.request({ url: '/data/myapp/config', headers: { authorization: 'Basic YTpi' } }), 401, 'ERR_TOKEN_INVALID');
    });

    it('answers 403 ERR_TOKEN_DISABLED for a disabled token, and serves again once re-enabled', async () => {
      const { id, raw } = await mintToken(admin);
      const client = t.withToken(raw);
      expect((await client.get('/data/myapp/config')).status).toBe(200);
      expect((await admin.patch(`/api/v1/tokens/${id}`, { active: false })).status).toBe(200);
      expectError(await client.get('/data/myapp/config'), 403, 'ERR_TOKEN_DISABLED');
      await admin.patch(`/api/v1/tokens/${id}`, { active: true });
      expect((await client.get('/data/myapp/config')).status).toBe(200);
      await admin.delete(`/api/v1/tokens/${id}`);
      expectError(await client.get('/data/myapp/config'), 401, 'ERR_TOKEN_INVALID');
    });

    it('answers 403 ERR_TOKEN_EXPIRED once the expiry passes', async () => {
      const { raw } = await mintToken(admin, [{ path: '**' }], { expires_at: new Date(now + HOUR).toISOString() });
      const client = t.withToken(raw);
      expect((await client.get('/data/myapp/config')).status).toBe(200);
      now += HOUR - 1;
      expect((await client.get('/data/myapp/config')).status).toBe(200);
      now += 1;
      expectError(await client.get('/data/myapp/config'), 403, 'ERR_TOKEN_EXPIRED');
    });

    it('answers 403 ERR_FORBIDDEN out of scope, whether or not the config exists', async () => {
      const client = t.withToken((await mintToken(admin, [{ path: 'other/**' }])).raw);
      expectError(await client.get('/data/myapp/config'), 403, 'ERR_FORBIDDEN');
      expectError(await client.get('/data/myapp/missing'), 403, 'ERR_FORBIDDEN');
      expectError(await client.get('/data/other/missing'), 404, 'ERR_FILE_NOT_FOUND');
      const writeOnly = t.withToken((await mintToken(admin, [{ path: '**', operations: ['write'] }])).raw);
      expectError(await writeOnly.get('/data/myapp/config'), 403, 'ERR_FORBIDDEN');
    });

    it('refuses a token whose creator was disabled', async () => {
      const bundle = await admin.post('/api/v1/permissions', { key: 'tok', name: 'tokens', keys: ['tokens.manage', 'files.read'] });
      const user = await admin.post('/api/v1/users', { username: 'maker', password: 'long enough password', permission_ids: [bundle.json.id] });
      expect(user.status).toBe(201);
      const maker = await t.login('maker', 'long enough password');
      const { raw } = await mintToken(maker);
      expect((await t.withToken(raw).get('/data/myapp/config')).status).toBe(200);
      await admin.patch(`/api/v1/users/${user.json.id}`, { disabled: true });
      expectError(await t.withToken(raw).get('/data/myapp/config'), 403, 'ERR_TOKEN_CREATOR_INACTIVE');
    });
  });

  describe('ETag and cache', () => {
    let data: Client;
    beforeEach(async () => {
      data = t.withToken((await mintToken(admin)).raw);
    });

    it('sends a stable ETag and 304 with an empty body for If-None-Match', async () => {
      const first = await data.get('/data/myapp/config');
      const etag = first.headers.etag as string;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
      expect(first.headers['cache-control']).toBe('no-cache');
      expect((await data.get('/data/myapp/config')).headers.etag).toBe(etag);
      for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const res = await data.get('/data/myapp/config', { 'if-none-match': header });
        expect(res.status, header).toBe(304);
        expect(res.body).toBe('');
        expect(res.headers.etag).toBe(etag);
      }
      expect((await data.get('/data/myapp/config', { 'if-none-match': '"other"' })).status).toBe(200);
      // Another representation has another tag.
      expect((await data.get('/data/myapp/config?format=json')).headers.etag).not.toBe(etag);
    });

    it('changes the ETag after a write', async () => {
      const etag = (await data.get('/data/myapp/config')).headers.etag as string;
      await save(admin, 'myapp/config', { format: 'yaml', content: 'a: 2\n' });
      const res = await data.get('/data/myapp/config', { 'if-none-match': etag });
      expect(res.status).toBe(200);
      expect(res.body).toBe('a: 2\n');
      expect(res.headers.etag).not.toBe(etag);
      expect(res.headers['x-pika-version']).toBe('2');
    });

    it('reflects a write to an inherited source at once', async () => {
      await save(admin, 'shared/base', { content: '{"level":1}' });
      await save(admin, 'myapp/child', { format: 'yaml', content: 'own: true\n', inherits: [{ source: 'shared/base' }] });
      const first = await data.get('/data/myapp/child?format=json');
      expect(JSON.parse(first.body)).toEqual({ level: 1, own: true });
      expect((await data.get('/data/myapp/child')).body).toBe('level: 1\nown: true\n');
      await save(admin, 'shared/base', { content: '{"level":2}' });
      const second = await data.get('/data/myapp/child?format=json', { 'if-none-match': first.headers.etag as string });
      expect(second.status).toBe(200);
      expect(JSON.parse(second.body)).toEqual({ level: 2, own: true });
      expect((await data.get('/data/myapp/child')).body).toBe('level: 2\nown: true\n');
      await admin.delete('/api/v1/file/shared/base');
      expect((await data.get('/data/myapp/child')).json.code).toBe('ERR_INHERIT_SOURCE_NOT_FOUND');
    });
  });

  describe('ESO templated URLs', () => {
    it('understands a query-escaped key carrying its own query', async () => {
      await save(admin, 'myapp/config', { format: 'yaml', content: 'env: prod\n', variant: 'prod' });
      const data = t.withToken((await mintToken(admin)).raw);
      const res = await data.get('/data/myapp%2Fconfig%3Fvariant%3Dprod%26format%3Djson');
      expect(res.status, res.body).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.body).toBe('{\n  "env": "prod"\n}\n');
      const explicit = await data.get('/data/myapp%2Fconfig%3Fvariant%3Dprod?format=toml');
      expect(explicit.headers['content-type']).toBe('application/toml');
      expect(explicit.body).toBe('env = "prod"\n');
      const plain = await data.get('/data/myapp%2Fconfig');
      expect(plain.body).toBe('a: 1\n');
    });
  });
});
