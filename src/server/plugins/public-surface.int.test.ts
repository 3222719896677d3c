/**
 * The public port (SPEC §7.3): a second listener that serves only /data/*, /eso/* and /healthz,
 * with a token unless the config is under `server.public_paths`. Real HTTP on loopback, because
 * what matters is which listener a request arrived on.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp } from '../test-support/app-harness.ts';
import { type SaveSpec, saveBody, startWithAdmin } from '../test-support/config-fixtures.ts';
import { listenPublic, type PublicListener } from './public-surface.ts';

let t: TestApp;
let admin: Client;
let listener: PublicListener;
let token: string;

async function boot(env: Record<string, string>): Promise<void> {
  ({ t, admin } = await startWithAdmin({ env: { PIKA_SERVER_PUBLIC_PORT: '0', ...env } }));
  listener = await listenPublic(t.app, { host: '127.0.0.1', port: 0 });
  const base = t.config.server.basePath;
  const saveAt = async (path: string, spec: SaveSpec) => {
    const res = await admin.post(`${base}/api/v1/file/${path}${spec.variant === undefined ? '' : `?variant=${spec.variant}`}`, saveBody(spec));
    expect(res.status, res.body).toBe(201);
  };
  await saveAt('public/site', { format: 'yaml', content: 'title: hello\nbig: 12345678901234567890\n' });
  await saveAt('public/site', { format: 'yaml', content: 'title: hello prod\n', variant: 'prod' });
  await saveAt('private/db', { format: 'json', content: '{"password":"p"}' });
  const minted = await admin.post(`${base}/api/v1/tokens`, { name: 'all', scopes: [{ path: '**', operations: ['read'] }] });
  expect(minted.status, minted.body).toBe(201);
  token = minted.json.raw_key as string;
}

afterEach(async () => {
  await listener.close();
  await t.close();
});

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; statusText: string; body: string; code: string | undefined }> {
  const res = await fetch(`http://127.0.0.1:${listener.port}${path}`, { headers, redirect: 'manual' });
  const body = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(body) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  return { status: res.status, statusText: res.statusText, body, code };
}

describe('public port', () => {
  beforeEach(async () => {
    await boot({ PIKA_SERVER_PUBLIC_PATHS: 'public/**' });
  });

  it('serves /healthz, /data and /eso, and answers 404 for every other route', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'OK' });
    expect((await get('/data/private/db', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect(JSON.parse((await get('/eso/v1/secret?key=private/db&property=password', { authorization: `Bearer ${token}` })).body)).toEqual({ value: 'p' });
    for (const path of ['/api/v1/info', '/api/v1/key/status', '/api/v1/folder', '/api/v1/tokens', '/openapi.json', '/login/info', '/', '/index.html', '/nope', '/data']) {
      const res = await get(path, { authorization: `Bearer ${token}`, cookie: admin.cookie ?? '' });
      expect([res.status, res.code], path).toEqual([404, 'ERR_ROUTE_NOT_FOUND']);
    }
    const write = await fetch(`http://127.0.0.1:${listener.port}/api/v1/file/public/site`, { method: 'POST', headers: { cookie: admin.cookie ?? '', 'content-type': 'application/json' }, body: JSON.stringify({ meta: { format: 'json' }, content: '{}' }) });
    expect(write.status).toBe(404);
    // The main port still serves everything.
    expect((await admin.get('/api/v1/info')).status).toBe(200);
  });

  it('lets a caller without a token read only configs under public_paths, and only there', async () => {
    const site = await get('/data/public/site');
    expect([site.status, site.body]).toEqual([200, 'title: hello\nbig: 12345678901234567890\n']);
    expect((await get('/data/public/site?variant=prod')).body).toBe('title: hello prod\n');
    expect(JSON.parse((await get('/eso/v1/secret?key=public/site&property=big')).body)).toEqual({ value: '12345678901234567890' });
    const denied = await get('/data/private/db');
    expect([denied.status, denied.code]).toEqual([401, 'ERR_UNAUTHENTICATED']);
    const esoDenied = await get('/eso/v1/secret?key=private/db&property=password');
    expect([esoDenied.status, esoDenied.code]).toEqual([401, 'ERR_UNAUTHENTICATED']);
    expect(esoDenied.statusText.startsWith('Pika Token Required')).toBe(true);
    // A bad token is refused, not downgraded to anonymous.
    expect((await get('/data/public/site', { authorization: 'Bearer nonsense' })).status).toBe(401);
    // Writes always need a token.
    const push = await fetch(`http://127.0.0.1:${listener.port}/eso/v1/push?remoteKey=public/site`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'x' });
    expect(push.status).toBe(401);
    // public_paths mean nothing on the main port.
    expect((await t.request({ url: '/data/public/site' })).status).toBe(401);
    expect((await t.request({ url: '/eso/v1/secret?key=public/site' })).status).toBe(401);
  });

  it('keeps the lock gate, while routes it does not serve stay 404', async () => {
    expect((await admin.post('/api/v1/key/initialize', { key: 'a long enough server key' })).status).toBe(200);
    expect((await admin.post('/api/v1/key/lock')).status).toBe(200);
    for (const path of ['/data/public/site', '/eso/v1/secret?key=public/site', '/eso/v1/secret?key=nope/missing', '/data/nope/missing']) {
      const res = await get(path);
      expect([res.status, res.statusText, res.code], path).toEqual([503, 'Pika Locked', 'server_locked']);
    }
    expect((await get('/api/v1/info')).status).toBe(404);
    expect((await get('/api/v1/key/unlock')).status).toBe(404);
    expect((await get('/healthz')).status).toBe(200);
  });
});

describe('public port without public_paths', () => {
  beforeEach(async () => {
    await boot({});
  });

  it('requires a token for everything', async () => {
    expect((await get('/data/public/site')).status).toBe(401);
    expect((await get('/eso/v1/secret?key=public/site')).status).toBe(401);
    expect((await get('/data/public/site', { authorization: `Bearer ${token}` })).status).toBe(200);
  });
});

describe('public port under a base path', () => {
  beforeEach(async () => {
    await boot({ PIKA_SERVER_BASE_PATH: '/pika', PIKA_SERVER_PUBLIC_PATHS: 'public/**' });
  });

  it('serves the base-path routes and /healthz at the root', async () => {
    expect((await get('/pika/healthz')).status).toBe(200);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/pika/data/public/site')).status).toBe(200);
    expect((await get('/pika/eso/v1/secret?key=public/site&property=title')).body).toBe('{"value":"hello"}');
    expect((await get('/pika/api/v1/info')).status).toBe(404);
    expect((await get('/data/public/site')).status).toBe(404);
  });
});
