import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Client, startTestApp, type TestApp } from '../test-support/app-harness.ts';
import { createUser, expectError, mint } from '../test-support/identity-fixtures.ts';

let t: TestApp;
let admin: Client;
beforeEach(async () => {
  t = await startTestApp();
  admin = await t.bootstrapAdmin();
});
afterEach(async () => {
  await t.close();
});

const tokenBody = { name: 'csrf', scopes: [{ path: '**', operations: ['read'] }] };
const withCookie = (method: 'POST' | 'PATCH' | 'DELETE' | 'GET', url: string, headers: Record<string, string>, body?: unknown) =>
  t.request({ method, url, headers, body, cookie: admin.cookie ?? '' });

describe('CSRF protection of cookie-authenticated writes', () => {
  it('refuses POST, PATCH and DELETE from a foreign Origin and changes nothing', async () => {
    const bob = await createUser(admin, 'bob');
    const token = await mint(admin, tokenBody);
    const evil = { origin: 'https://evil.example' };
    expectError(await withCookie('POST', '/api/v1/tokens', evil, tokenBody), 403, 'ERR_CSRF');
    expectError(await withCookie('PATCH', `/api/v1/users/${bob}`, evil, { disabled: true }), 403, 'ERR_CSRF');
    expectError(await withCookie('DELETE', `/api/v1/tokens/${token.id}`, evil), 403, 'ERR_CSRF');
    expectError(await withCookie('POST', '/api/v1/file/a/b', evil, { meta: { format: 'json' }, content: '{}' }), 403, 'ERR_CSRF');
    expect((await admin.get('/api/v1/tokens')).json).toHaveLength(1);
    expect((await admin.get(`/api/v1/users/${bob}`)).json.disabled).toBe(false);
  });

  it('refuses cross-site and same-site fetches, and null or unparsable Origins', async () => {
    const refused: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'null' }, { origin: 'not a url' }, { origin: 'file:///etc' }];
    for (const headers of refused) {
      expectError(await withCookie('POST', '/api/v1/tokens', headers, tokenBody), 403, 'ERR_CSRF');
    }
    // Sec-Fetch-Site decides even when the Origin looks local.
    expectError(await withCookie('POST', '/api/v1/tokens', { 'sec-fetch-site': 'cross-site', origin: 'http://localhost:80' }, tokenBody), 403, 'ERR_CSRF');
  });

  it('refuses an Origin on another port or scheme of the same host name', async () => {
    for (const origin of ['http://localhost:8080', 'https://localhost', 'http://localhost.evil.example', 'http://evil.example:80']) {
      expectError(await withCookie('POST', '/api/v1/tokens', { origin }, tokenBody), 403, 'ERR_CSRF');
    }
    expectError(await withCookie('POST', '/api/v1/tokens', { host: 'pika.example.com:8443', origin: 'https://pika.example.com' }, tokenBody), 403, 'ERR_CSRF');
  });

  it('allows same-origin writes, with or without the default port written out', async () => {
    const cases: Record<string, string>[] = [
      { origin: 'http://localhost:80' },
      { origin: 'http://localhost' },
      { origin: 'http://LOCALHOST' },
      { host: 'pika.example.com', origin: 'https://pika.example.com' },
      { host: 'pika.example.com:8443', origin: 'https://pika.example.com:8443' },
      { host: 'pika.example.com', origin: 'https://pika.example.com:443' },
      { 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80' },
      { 'sec-fetch-site': 'none' },
      {},
    ];
    for (const headers of cases) {
      const res = await withCookie('POST', '/api/v1/tokens', headers, tokenBody);
      expect([headers, res.status]).toEqual([headers, 201]);
    }
  });

  it('lets safe methods through from anywhere', async () => {
    expect((await withCookie('GET', '/api/v1/users', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).status).toBe(200);
  });

  it('does not apply to token-authenticated requests, which carry no ambient credential', async () => {
    const token = await mint(admin, { ...tokenBody, scopes: [{ path: '**', operations: ['*'] }], capabilities: ['tokens.manage'] });
    const res = await t.request({ method: 'POST', url: '/api/v1/tokens', body: tokenBody, headers: { authorization: `Bearer ${token.raw}`, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(res.status).toBe(201);
    // A bearer token wins over a cookie sent along with it.
    const both = await withCookie('POST', '/api/v1/file/a/b', { authorization: `Bearer ${token.raw}`, origin: 'https://evil.example' }, { meta: { format: 'json' }, content: '{}' });
    expect(both.status).toBe(201);
  });

  it('refuses a cross-site logout and keeps the session', async () => {
    expectError(await withCookie('POST', '/logout', { origin: 'https://evil.example' }), 403, 'ERR_CSRF');
    expect((await admin.get('/api/v1/me')).status).toBe(200);
  });

  it('answers an anonymous cross-site write with 401, not a CSRF error', async () => {
    expectError(await t.request({ method: 'POST', url: '/api/v1/tokens', body: tokenBody, headers: { origin: 'https://evil.example' } }), 401, 'ERR_UNAUTHENTICATED');
  });
});

describe('request ids', () => {
  // Generated ids: URL-safe and reasonably long; their exact shape belongs to request-context.ts.
  const ID = /^[A-Za-z0-9_-]{8,64}$/;

  it('puts an x-request-id on every response, matching the error body', async () => {
    const responses = [
      await t.request({ url: '/healthz' }),
      await t.request({ url: '/api/v1/info' }),
      await t.request({ url: '/api/v1/users' }),
      await t.request({ url: '/no/such/route' }),
      await t.request({ url: '/data/a/b' }),
      await admin.post('/api/v1/users', { username: 'x' }),
      await t.request({ method: 'POST', url: '/login/pass/local', body: '{not json' }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 401, 404, 401, 400, 400]);
    const ids = responses.map((r) => r.headers['x-request-id']);
    for (const id of ids) expect(id).toMatch(ID);
    expect(new Set(ids).size).toBe(ids.length);
    for (const res of responses.slice(2)) expect(res.json.request_id).toBe(res.headers['x-request-id']);
  });

  it('echoes a safe incoming X-Request-Id and replaces an unsafe one', async () => {
    const safe = await t.request({ url: '/api/v1/users', headers: { 'x-request-id': 'trace-42.a:B_c' } });
    expect(safe.headers['x-request-id']).toBe('trace-42.a:B_c');
    expect(safe.json.request_id).toBe('trace-42.a:B_c');
    for (const unsafe of ['has space', 'a"b', 'x'.repeat(65), '<script>', 'a\tb', '']) {
      const res = await t.request({ url: '/api/v1/info', headers: { 'x-request-id': unsafe } });
      expect([unsafe, res.headers['x-request-id']]).toEqual([unsafe, expect.stringMatching(ID)]);
    }
  });

  it('sends the hardening headers', async () => {
    const res = await admin.get('/api/v1/me');
    expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' });
  });
});
