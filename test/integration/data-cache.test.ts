/**
 * "Resolved results are cached and invalidated on write, so repeated reads do no parsing or
 * merging" (issue acceptance 5). The store is wrapped to count reads: a repeated /data read of a
 * config with an inherited source must not touch the store at all (no config record, no version
 * bytes, no token lookup), and a write to the inherited source must be visible on the next read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { loadConfig } from '../../src/server/config/load-config.ts';
import { openDiskStore } from '../../src/server/storage/level-store.ts';
import type { Store } from '../../src/server/storage/store.ts';
import type { FastifyInstance } from 'fastify';

function counting(store: Store): { store: Store; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    store: {
      ...store,
      get: (key) => {
        reads.push(key);
        return store.get(key);
      },
      iterate: (prefix, options) => {
        reads.push(`${prefix}*`);
        return store.iterate(prefix, options);
      },
    },
  };
}

describe('/data cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pika-cache-'));
  let app: FastifyInstance;
  let inner: Store;
  let reads: string[];
  let cookie = '';
  let token = '';

  const send = async (method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });

  beforeAll(async () => {
    const { config } = loadConfig({ env: { PIKA_STORAGE_PATH: join(dir, 'store') }, cwd: dir });
    inner = await openDiskStore(config.storage.path, { sync: false });
    const wrapped = counting(inner);
    reads = wrapped.reads;
    app = await buildApp(config, { store: wrapped.store, passwordCost: 4 });
    const reg = await send('POST', '/login/register/local', { username: 'admin', password: 'correct horse', password_confirm: 'correct horse' });
    cookie = String(reg.headers['set-cookie']).split(';')[0] ?? '';
    await send('POST', '/api/v1/file/shared/db', { meta: { format: 'json' }, content: '{"db":{"host":"a","port":5432}}' }, { cookie });
    await send('POST', '/api/v1/file/app/config', { meta: { format: 'yaml', inherits: [{ source: 'shared/db' }] }, content: 'name: app\n' }, { cookie });
    token = (await send('POST', '/api/v1/tokens', { name: 't', scopes: [{ path: '**', operations: ['read'] }] }, { cookie })).json<{ raw_key: string }>().raw_key;
  });

  afterAll(async () => {
    await app.close();
    await inner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a repeated read without touching the store', async () => {
    const first = await send('GET', '/data/app/config?format=json', undefined, { authorization: `Bearer ${token}` });
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ db: { host: 'a', port: 5432 }, name: 'app' });
    expect(reads.some((k) => k.startsWith('cfg/'))).toBe(true); // the first read did resolve

    reads.length = 0;
    const second = await send('GET', '/data/app/config?format=json', undefined, { authorization: `Bearer ${token}` });
    expect(second.statusCode).toBe(200);
    expect(second.body).toBe(first.body);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(reads).toEqual([]);
  });

  it('drops the cached response when an inherited source changes', async () => {
    await send('POST', '/api/v1/file/shared/db', { meta: { format: 'json' }, content: '{"db":{"host":"b","port":5432}}' }, { cookie });
    const after = await send('GET', '/data/app/config?format=json', undefined, { authorization: `Bearer ${token}` });
    expect(JSON.parse(after.body)).toEqual({ db: { host: 'b', port: 5432 }, name: 'app' });
  });
});
