import { parse as parseYaml } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, get, getData, login, register, tryLogin, tryRegister } from './support/http.ts';
import { makeTempDir, runPika, startPika, stopAllPika } from './support/server-process.ts';

/** The built server as a user meets it: a real process, real HTTP, its real exit codes and logs. */

afterEach(stopAllPika);

// Odd spacing, a comment and quoting: only a byte-exact store returns this unchanged.
const BASE_YAML = '# shared defaults\nserver:\n  host: "0.0.0.0"   # every interface\n  port: 8080\nfeatures: [a, b]\n';
const APP_YAML = 'server:\n  port: 9090\nname: web\n';

describe('pika server: first run over real HTTP', () => {
  it('registers, saves YAML, mints a token and serves exact bytes, conversions, ETags and inheritance', async () => {
    const pika = await startPika();
    const info = await get(`${pika.baseUrl}/api/v1/info`);
    expect(info.json<{ setup_required: boolean }>().setup_required).toBe(true);

    const admin = await register(pika.baseUrl);
    expect((await tryRegister(pika.baseUrl, { username: 'second', password: 'another-long-pass' })).status).toBe(409);
    expect(await admin.save('shared/base', { format: 'yaml', content: BASE_YAML })).toBe(1);
    const token = await admin.createToken('e2e-reader');
    expect(token).toMatch(/^pika_[0-9a-f]{64}$/);

    const exact = await getData(pika.baseUrl, token, 'shared/base');
    expect(exact.status).toBe(200);
    expect(exact.headers.get('content-type')).toBe('application/x-yaml');
    expect(exact.body.equals(Buffer.from(BASE_YAML))).toBe(true);

    const asJson = await getData(pika.baseUrl, token, 'shared/base', { query: 'format=json' });
    expect(asJson.status).toBe(200);
    expect(asJson.headers.get('content-type')).toMatch(/^application\/json/);
    const expected = { server: { host: '0.0.0.0', port: 8080 }, features: ['a', 'b'] };
    expect(asJson.json()).toEqual(expected);
    expect(asJson.text().trimEnd()).toBe(JSON.stringify(expected, null, 2));

    const etag = exact.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[^"]+"$/);
    const notModified = await getData(pika.baseUrl, token, 'shared/base', { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
    expect(notModified.headers.get('etag')).toBe(etag);
    expect((await getData(pika.baseUrl, token, 'shared/base', { headers: { 'if-none-match': '"stale"' } })).status).toBe(200);

    // Inheritance is resolved on read: the app sees the base, its own keys win, base edits show up.
    await admin.save('apps/web', { format: 'yaml', content: APP_YAML, inherits: [{ source: 'shared/base' }] });
    const resolved = await getData(pika.baseUrl, token, 'apps/web');
    expect(resolved.status).toBe(200);
    expect(resolved.headers.get('content-type')).toBe('application/x-yaml');
    expect(parseYaml(resolved.text())).toEqual({ server: { host: '0.0.0.0', port: 9090 }, features: ['a', 'b'], name: 'web' });
    await admin.save('shared/base', { format: 'yaml', content: 'server:\n  host: 127.0.0.1\n' });
    const after = await getData(pika.baseUrl, token, 'apps/web', { query: 'format=json' });
    expect(after.json()).toEqual({ server: { host: '127.0.0.1', port: 9090 }, name: 'web' });
    expect(after.headers.get('etag')).not.toBe(resolved.headers.get('etag'));

    // /data is token-only; cookie writes refuse a foreign Origin but take a same-origin one.
    expect((await get(`${pika.baseUrl}/data/shared/base`)).status).toBe(401);
    expect((await get(`${pika.baseUrl}/data/shared/base`, { cookie: admin.cookie })).status).toBe(401);
    expect((await getData(pika.baseUrl, `pika_${'0'.repeat(64)}`, 'shared/base')).status).toBe(401);
    const foreign = await admin.trySave('apps/web', { format: 'yaml', content: 'x: 1\n' }, { headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.json<{ code: string }>().code).toBe('ERR_CSRF');
    const sameOrigin = await admin.request('POST', '/api/v1/file/apps/web', { meta: { format: 'yaml' }, content: 'x: 1\n' }, { origin: pika.origin });
    expect(sameOrigin.status).toBe(201);
  });

  it('shuts down on SIGTERM within seconds with exit code 0, even with an open watch stream, and keeps its data', async () => {
    const dataDir = makeTempDir();
    const first = await startPika({ dataDir });
    const admin = await register(first.baseUrl);
    await admin.save('keep/me', { format: 'yaml', content: BASE_YAML });
    const token = await admin.createToken('survivor');

    // A long-lived SSE stream must not hold the shutdown hostage.
    const watch = await fetch(`${first.baseUrl}/api/v1/watch`, { headers: { cookie: admin.cookie } });
    expect(watch.status).toBe(200);
    const reader = watch.body?.getReader();
    expect((await reader?.read())?.done).toBe(false);

    const started = Date.now();
    const exit = await first.stop('SIGTERM', 15_000);
    const elapsed = Date.now() - started;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(elapsed).toBeLessThan(5_000);
    expect(first.logLines().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
    await reader?.cancel().catch(() => undefined);

    const second = await startPika({ dataDir });
    const kept = await getData(second.baseUrl, token, 'keep/me');
    expect(kept.status).toBe(200);
    expect(kept.body.equals(Buffer.from(BASE_YAML))).toBe(true);
    expect((await tryRegister(second.baseUrl)).status).toBe(409);
    await login(second.baseUrl);
    expect((await get(`${second.baseUrl}/api/v1/info`)).json()).not.toHaveProperty('setup_required');
  });
});

describe('pika server: process configuration', () => {
  it('serves everything under PIKA_SERVER_BASE_PATH=/pika, with /healthz at both / and /pika', async () => {
    const pika = await startPika({ env: { PIKA_SERVER_BASE_PATH: '/pika' } });
    expect(pika.baseUrl).toBe(`${pika.origin}/pika`);
    for (const url of [`${pika.origin}/healthz`, `${pika.origin}/pika/healthz`]) {
      const health = await get(url);
      expect([health.status, health.text()]).toEqual([200, 'OK']);
    }

    const reg = await tryRegister(pika.baseUrl);
    expect(reg.status).toBe(201);
    expect(reg.headers.getSetCookie().join('\n')).toMatch(/pika_session=[^;]+;.*Path=\/pika/);
    const admin = await login(pika.baseUrl);
    await admin.save('under/base', { format: 'json', content: '{"a": 1}' });
    const token = await admin.createToken('base-path');
    const data = await getData(pika.baseUrl, token, 'under/base');
    expect([data.status, data.text()]).toEqual([200, '{"a": 1}']);

    const info = await get(`${pika.baseUrl}/api/v1/info`);
    expect(info.json<{ base_path: string }>().base_path).toBe('/pika');
    const doc = await get(`${pika.baseUrl}/openapi.json`);
    expect(doc.json<{ servers: { url: string }[] }>().servers).toEqual([{ url: '/pika' }]);

    // Nothing but /healthz answers outside the base path.
    expect((await getData(pika.origin, token, 'under/base')).status).toBe(404);
    expect((await get(`${pika.origin}/api/v1/info`)).status).toBe(404);
    expect((await get(`${pika.origin}/openapi.json`)).status).toBe(404);
    expect((await tryLogin(pika.origin, ADMIN)).status).toBe(404);
  });

  it('exits with code 2 and reports every configuration problem at once on stderr', async () => {
    const result = await runPika(['server'], { PIKA_SERVER_PORT: 'abc', PIKA_LOG_LEVEL: 'loud', PIKA_STORAGE_PATH: makeTempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PIKA_SERVER_PORT.*abc/);
    expect(result.stderr).toMatch(/log_level/);
    expect(result.stdout).not.toMatch(/pika is ready/);
  });

  it('serves an OpenAPI 3 document listing the /data and /api/v1/file wildcard routes', async () => {
    const pika = await startPika();
    const reply = await get(`${pika.baseUrl}/openapi.json`);
    expect(reply.status).toBe(200);
    type Operation = { parameters?: { in: string; name: string }[] };
    const doc = reply.json<{ openapi: string; paths: Record<string, Record<string, Operation>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    // The wildcard routes appear as a path template with a parameter literally named `*`.
    expect(Object.keys(doc.paths['/data/{*}'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/api/v1/file/{*}'] ?? {}).sort()).toEqual(['delete', 'get', 'post']);
    expect(doc.paths['/data/{*}']?.get?.parameters).toContainEqual(expect.objectContaining({ in: 'path', name: '*' }));

    // Every template segment of every operation is declared as a path parameter.
    const undeclared: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(operations)) {
        for (const name of names) if (!op.parameters?.some((p) => p.in === 'path' && p.name === name)) undeclared.push(`${method} ${path} {${name}}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('never writes the admin password, a session cookie or a raw token to its logs, even at trace level', async () => {
    const pika = await startPika({ env: { PIKA_LOG_LEVEL: 'trace' } });
    const admin = await register(pika.baseUrl);
    const failed = await tryLogin(pika.baseUrl, { username: ADMIN.username, password: `${ADMIN.password}-wrong` });
    expect(failed.status).toBe(401);
    await login(pika.baseUrl);
    await admin.save('secret/app', { format: 'json', content: '{"k": "v"}' });
    const token = await admin.createToken('never-logged');
    expect((await getData(pika.baseUrl, token, 'secret/app')).status).toBe(200);
    expect((await get(`${pika.baseUrl}/data/secret/app?token=${token}`, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await getData(pika.baseUrl, `${token.slice(0, -4)}beef`, 'secret/app')).status).toBe(401);

    const logs = pika.stdout() + pika.stderr();
    const lines = pika.logLines(); // every stdout line is JSON (stdout is not a TTY)
    expect(lines.some((l) => l.msg === 'request completed')).toBe(true);
    const sessionValue = admin.cookie.split('=')[1] ?? '';
    for (const secret of [ADMIN.password, token, token.slice('pika_'.length), token.slice(-20), sessionValue]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(logs.includes(secret), `a log line contains ${secret.slice(0, 6)}…`).toBe(false);
    }
  });
});
