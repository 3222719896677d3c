/**
 * Bad input never yields a 500 or a crash (issue acceptance 8). Every route in the generated
 * OpenAPI document gets malformed JSON, wrong types, unknown fields, path traversal, over-long
 * segments, huge bodies and foreign content types; unknown routes are probed too. Every answer
 * must be a 4xx carrying a catalog error code and the request id.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/shared/errors.ts';
import { type Client, startTestApp, type TestApp, type TestResponse } from '../../src/server/test-support/app-harness.ts';

interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, { type?: string; enum?: unknown[] }> } }> };
}
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

let t: TestApp;
let admin: Client;
let token: string;
let routes: { path: string; method: Method; op: Operation }[] = [];

const HUGE = 'x'.repeat(33 * 1024 * 1024);
const WRONG: Record<string, unknown> = { string: 12345, integer: 'not-a-number', number: 'NaN', boolean: 'yes', array: 'not-an-array', object: 'not-an-object' };

beforeAll(async () => {
  t = await startTestApp();
  admin = await t.bootstrapAdmin();
  token = (await admin.post('/api/v1/tokens', { name: 'probe', scopes: [{ path: '**', operations: ['*'] }] })).json.raw_key as string;
  const doc = (await admin.get('/openapi.json')).json as { paths: Record<string, Record<Method, Operation>> };
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method as Method, op })));
}, 30_000);

afterAll(async () => {
  await t.close();
});

function concrete(path: string, wildcard = 'team/app'): string {
  return path
    .replace('{*}', wildcard)
    .replace('{id}', 'abcdef0123')
    .replace('{user}', 'admin')
    .replace('{handle}', 'a'.repeat(64));
}

async function send(method: Method, url: string, init: { body?: string; contentType?: string; auth?: 'cookie' | 'token' | 'none' } = {}): Promise<TestResponse> {
  const headers: Record<string, string> = {};
  if (init.contentType) headers['content-type'] = init.contentType;
  const auth = init.auth ?? (url.startsWith('/data/') ? 'token' : 'cookie');
  if (auth === 'token') headers.authorization = `Bearer ${token}`;
  return t.request({ method: method.toUpperCase(), url, headers, ...(init.body === undefined ? {} : { body: init.body }), ...(auth === 'cookie' && admin.cookie ? { cookie: admin.cookie } : {}) });
}

function expectClientError(res: TestResponse, label: string): void {
  const detail = `${label} → ${res.status} ${res.body.slice(0, 300)}`;
  expect(res.status, detail).toBeGreaterThanOrEqual(400);
  expect(res.status, detail).toBeLessThan(500);
  expect(Object.keys(ERRORS), detail).toContain(res.json?.code);
  expect(typeof res.json?.message, detail).toBe('string');
  expect(res.json?.request_id, detail).toBe(res.headers['x-request-id']);
}

const bodyMethods = new Set<Method>(['post', 'put', 'patch', 'delete']);

describe('bad input on every route', () => {
  it('covers the whole API surface', () => {
    expect(routes.length).toBeGreaterThan(30);
  });

  it('refuses malformed JSON, wrong shapes, unknown fields and foreign content types', async () => {
    for (const { path, method, op } of routes.filter((r) => bodyMethods.has(r.method))) {
      const url = concrete(path);
      const label = `${method.toUpperCase()} ${url}`;
      const malformed = await send(method, url, { body: '{"a": ', contentType: 'application/json' });
      expectClientError(malformed, `${label} malformed`);
      expect(malformed.json.code, label).toBe('ERR_MALFORMED_BODY');
      expectClientError(await send(method, url, { body: '[1, 2]', contentType: 'application/json' }), `${label} array body`);
      expectClientError(await send(method, url, { body: '{"zz_unknown_field": 1}', contentType: 'application/json' }), `${label} unknown field`);
      const plain = await send(method, url, { body: 'hello', contentType: 'text/plain' });
      expectClientError(plain, `${label} text/plain`);
      expect(plain.json.code, label).toBe('ERR_UNSUPPORTED_MEDIA_TYPE');
      const props = Object.entries(op.requestBody?.content['application/json']?.schema.properties ?? {});
      for (const [name, schema] of props) {
        const wrong = schema.enum ? 'not-in-enum' : WRONG[schema.type ?? 'string'];
        expectClientError(await send(method, url, { body: JSON.stringify({ [name]: wrong }), contentType: 'application/json' }), `${label} wrong type for ${name}`);
      }
    }
  }, 60_000);

  it('answers 413 to bodies over the 32 MiB limit', async () => {
    for (const { path, method } of routes.filter((r) => bodyMethods.has(r.method))) {
      const res = await send(method, concrete(path), { body: HUGE, contentType: 'application/json' });
      expectClientError(res, `${method} ${path} huge`);
      expect(res.status).toBe(413);
      expect(res.json.code).toBe('ERR_BODY_TOO_LARGE');
    }
  }, 60_000);

  it('refuses path traversal, encoded separators, NUL, control characters and over-long segments', async () => {
    // Literal dot segments are covered over a real socket below: inject resolves them client-side.
    const bad = ['a%2Fb', 'a/%00b', 'a/b%00', 'a/%01b', 'a%5Cb', 'a//b', 'a/@b', 'x'.repeat(256), `a/${'é'.repeat(128)}`];
    for (const { path, method } of routes.filter((r) => r.path.includes('{*}'))) {
      for (const segment of bad) {
        // ESO query-escapes keys into /data URLs, so an encoded slash is a real separator there.
        if (path.startsWith('/data/') && segment === 'a%2Fb') continue;
        const res = await send(method, concrete(path, segment), bodyMethods.has(method) ? { body: '{}', contentType: 'application/json' } : {});
        expectClientError(res, `${method} ${path} with ${segment.slice(0, 40)}`);
      }
    }
  }, 60_000);

  it('refuses literal dot segments sent as-is over a real socket', async () => {
    const { port } = t.app.server.address() as AddressInfo;
    const raw = (method: string, path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
        });
        req.on('error', reject);
        req.end(method === 'GET' ? undefined : '{}');
      });
    for (const { path, method } of routes.filter((r) => r.path.includes('{*}'))) {
      for (const segment of ['../etc/passwd', 'a/../b', 'a/./b', '..', 'a/..', '%2e%2e/etc/passwd', 'a/%2e%2e/b', 'a/%2E/b']) {
        const headers: Record<string, string> = path.startsWith('/data/') ? { authorization: `Bearer ${token}` } : { cookie: admin.cookie ?? '' };
        if (method !== 'get') Object.assign(headers, { 'content-type': 'application/json', 'content-length': '2' });
        const res = await raw(method.toUpperCase(), concrete(path, segment), headers);
        const label = `${method} ${concrete(path, segment)} → ${res.status} ${res.body.slice(0, 200)}`;
        expect(res.status, label).toBeGreaterThanOrEqual(400);
        expect(res.status, label).toBeLessThan(500);
        expect(Object.keys(ERRORS), label).toContain((JSON.parse(res.body) as { code: string }).code);
      }
    }
  });

  it('answers unparseable HTTP in the same error shape', async () => {
    const { connect } = await import('node:net');
    const { port } = t.app.server.address() as AddressInfo;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /api/v1/info HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('end', () => { resolve(data); });
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain('"code":"ERR_BAD_REQUEST"');
  });

  it('refuses malformed ids and unknown query parameters', async () => {
    for (const { path, method, op } of routes) {
      if (/\{(id|user|handle)\}/.test(path)) {
        for (const id of ['..%2F..%2Fx', 'a%20b', 'x'.repeat(300)]) {
          const url = path.replace(/\{(id|user|handle)\}/g, id).replace('{*}', 'team/app');
          expectClientError(await send(method, url, bodyMethods.has(method) ? { body: '{}', contentType: 'application/json' } : {}), `${method} ${url}`);
        }
      }
      const hasQuery = op.parameters?.some((p) => p.in === 'query') ?? false;
      if (hasQuery && !path.startsWith('/data/')) {
        const url = `${concrete(path)}?zz_unknown=1`;
        expectClientError(await send(method, url, bodyMethods.has(method) ? { body: '{}', contentType: 'application/json' } : {}), `${method} ${url}`);
      }
    }
  }, 60_000);

  it('refuses wrongly typed query values', async () => {
    const cases = [
      '/api/v1/file/team/app?version=abc',
      '/api/v1/file/team/app?version=-1',
      '/api/v1/users?_limit=abc',
      '/api/v1/users?_limit=0',
      '/api/v1/users?disabled=maybe',
      '/api/v1/audit?time[gte]=yesterday',
      '/api/v1/watch?since=-5',
      '/data/team/app?version=not..semver',
      '/data/team/app?format=xml',
      '/data/team/app?variant=a/b',
    ];
    for (const url of cases) expectClientError(await send('get', url), url);
    expectClientError(await send('delete', '/api/v1/file/team/app?version=x'), 'delete version=x');
  });

  it('answers unknown routes and methods with 404 ERR_ROUTE_NOT_FOUND', async () => {
    for (const [method, url] of [
      ['get', '/nope'],
      ['get', '/api/v1/nope'],
      ['post', '/api/v1/info'],
      ['delete', '/api/v1/tokens'],
      ['get', '/api/v2/file/x'],
      ['put', '/data/x'],
    ] as const) {
      const res = await send(method, url);
      expectClientError(res, `${method} ${url}`);
      expect(res.json.code).toBe('ERR_ROUTE_NOT_FOUND');
    }
  });

  it('answers anonymous callers with 4xx everywhere except the public boot routes', async () => {
    const open = new Set(['/healthz', '/api/v1/info', '/login/info', '/openapi.json', '/api/v1/key/status']);
    for (const { path, method } of routes) {
      if (open.has(path) || path === '/logout') continue;
      const res = await send(method, concrete(path), { auth: 'none', ...(bodyMethods.has(method) ? { body: '{}', contentType: 'application/json' } : {}) });
      expectClientError(res, `anonymous ${method} ${path}`);
    }
  });

  it('refuses a malformed Authorization header instead of ignoring it', async () => {
    for (const value of ['Bearer', 'Bearer pika_xyz', 'Basic YWRtaW46YWRtaW4=', `Bearer pika_${'0'.repeat(64)}`]) {
      const res = await t.request({ url: '/api/v1/info', headers: { authorization: value } });
      expectClientError(res, value);
      expect(res.status).toBe(401);
    }
  });
});
