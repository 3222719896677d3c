import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../test-support/app-harness.ts';

/** The console is served at the base path; the API keeps its own 404s (SPEC §12, issue 6.6). */
const apps: TestApp[] = [];
let root = '';
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  rmSync(root, { recursive: true, force: true });
});

function fakeBuild(): string {
  root = mkdtempSync(join(tmpdir(), 'pika-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><script type="module" src="./assets/app-abc.js"></script>');
  writeFileSync(join(root, 'assets', 'app-abc.js'), 'console.log(1)');
  return root;
}

async function start(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await startTestApp({ env, deps: { webRoot: fakeBuild() } });
  apps.push(t);
  return t;
}

describe('web console', () => {
  it('serves index.html with a strict CSP and never cached, hashed assets cached for a year', async () => {
    const t = await start();
    const index = await t.request({ url: '/' });
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(index.headers['cache-control']).toBe('no-cache');
    const asset = await t.request({ url: '/assets/app-abc.js' });
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const unknown = await t.request({ url: '/api/v1/nope' });
    expect(unknown.json.code).toBe('ERR_ROUTE_NOT_FOUND');
    expect((await t.request({ url: '/nope.js' })).json.code).toBe('ERR_ROUTE_NOT_FOUND');
  });

  it('works under a base path and sends the bare base path to its trailing-slash form', async () => {
    const t = await start({ PIKA_SERVER_BASE_PATH: '/pika' });
    const bare = await t.request({ url: '/pika?x=1' });
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe('/pika/?x=1');
    expect((await t.request({ url: '/pika/' })).headers['content-type']).toMatch(/text\/html/);
    expect((await t.request({ url: '/pika/assets/app-abc.js' })).status).toBe(200);
    expect((await t.request({ url: '/pika/api/v1/info' })).status).toBe(200);
    expect((await t.request({ url: '/' })).status).toBe(404);
  });
});
