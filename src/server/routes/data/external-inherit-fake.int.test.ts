import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.ts';
import type { ExternalSources } from '../../services/externals/external-sources.ts';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { mintToken, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

/**
 * Resource entries in `meta.inherits`, resolved through the ExternalSources port. No provider
 * exists yet, so a FAKE in-memory source stands in for Vault & co.
 */
describe('/data inheritance from a fake external source', () => {
  let t: TestApp;
  let admin: Client;
  const values = new Map<string, unknown>();
  const fetched: string[] = [];
  const fake: ExternalSources = {
    fetch(name, path) {
      fetched.push(`${name}:${path}`);
      const key = `${name}:${path}`;
      if (name !== 'vault') return Promise.reject(new AppError('ERR_RESOURCE_UNKNOWN', `no external resource named "${name}" is configured`));
      if (path === 'broken') return Promise.reject(new Error('connection refused'));
      if (!values.has(key)) return Promise.reject(new AppError('ERR_EXTERNAL_FAILED', `nothing at ${path}`));
      return Promise.resolve(values.get(key));
    },
  };

  beforeEach(async () => {
    values.clear();
    fetched.length = 0;
    values.set('vault:kv/app', { password: 'hunter2', user: 'app' });
    values.set('vault:kv/text', 'port: 5432\n');
    ({ t, admin } = await startWithAdmin({ deps: { externals: fake } }));
  });
  afterEach(async () => {
    await t.close();
  });

  async function reader(capabilities: string[]): Promise<Client> {
    return t.withToken((await mintToken(admin, [{ path: '**' }], { capabilities })).raw);
  }

  it('merges a fetched document, picked and injected', async () => {
    await save(admin, 'app/cfg', { content: '{"name":"app"}', inherits: [{ resource: 'vault', path: 'kv/app', paths: ['password'], inject: 'db' }] });
    const res = await (await reader(['external.read'])).get('/data/app/cfg');
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ db: { password: 'hunter2' }, name: 'app' });
    expect(fetched).toEqual(['vault:kv/app']);
  });

  it('decodes a string value with format', async () => {
    await save(admin, 'app/cfg', { content: '{}', inherits: [{ resource: 'vault', path: 'kv/text', format: 'yaml', inject: 'db' }] });
    const res = await (await reader(['external.read'])).get('/data/app/cfg');
    expect(JSON.parse(res.body)).toEqual({ db: { port: 5432 } });
  });

  it('refuses a token without external.read, even after a permitted read', async () => {
    await save(admin, 'app/cfg', { content: '{}', inherits: [{ resource: 'vault', path: 'kv/app' }] });
    expect((await (await reader(['external.read'])).get('/data/app/cfg')).status).toBe(200);
    const res = await (await reader([])).get('/data/app/cfg');
    expect(res.status).toBe(403);
    expect(res.json.code).toBe('ERR_INHERIT_FORBIDDEN');
    expect(res.body).not.toContain('hunter2');
  });

  it('serves the current external value on every read (never a stale cached one)', async () => {
    await save(admin, 'app/cfg', { content: '{}', inherits: [{ resource: 'vault', path: 'kv/app', paths: ['password'] }] });
    const client = await reader(['external.read']);
    expect(JSON.parse((await client.get('/data/app/cfg')).body)).toEqual({ password: 'hunter2' });
    values.set('vault:kv/app', { password: 'rotated' });
    expect(JSON.parse((await client.get('/data/app/cfg')).body)).toEqual({ password: 'rotated' });
  });

  it('answers 502 ERR_EXTERNAL_FAILED when the source fails, 400 for an unknown resource', async () => {
    const client = await reader(['external.read']);
    await save(admin, 'app/cfg', { content: '{}', inherits: [{ resource: 'vault', path: 'missing' }] });
    const missing = await client.get('/data/app/cfg');
    expect(missing.status).toBe(502);
    expect(missing.json.code).toBe('ERR_EXTERNAL_FAILED');
    await save(admin, 'app/cfg', { content: '{}', inherits: [{ resource: 'vault', path: 'broken' }] });
    const broken = await client.get('/data/app/cfg');
    expect(broken.status).toBe(502);
    expect(broken.json.code).toBe('ERR_EXTERNAL_FAILED');
    expect(broken.json.message).toContain('connection refused');
    await save(admin, 'app/cfg', { content: '{}', inherits: [{ resource: 'consul', path: 'x' }] });
    const unknown = await client.get('/data/app/cfg');
    expect(unknown.status).toBe(400);
    expect(unknown.json.code).toBe('ERR_RESOURCE_UNKNOWN');
  });
});
