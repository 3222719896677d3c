import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { mintToken, postFile, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

/** Variants (SPEC §4 "Variants"): `path@variant` files registered under their base. */
describe('config variants', () => {
  let t: TestApp;
  let admin: Client;
  let data: Client;
  beforeEach(async () => {
    ({ t, admin } = await startWithAdmin());
    data = t.withToken((await mintToken(admin)).raw);
  });
  afterEach(async () => {
    await t.close();
  });

  it('saves ?variant=prod as an independent file with its own versions', async () => {
    await save(admin, 'myapp/config', { content: '{"env":"base","n":1}' });
    await save(admin, 'myapp/config', { content: '{"env":"base","n":2}' });
    const variant = await postFile(admin, 'myapp/config', { content: '{"env":"prod"}', variant: 'prod' });
    expect(variant.status).toBe(201);
    expect(variant.json).toMatchObject({ path: 'myapp/config', variant: 'prod', version: 1 });

    const prod = await data.get('/data/myapp/config?variant=prod');
    expect(prod.status).toBe(200);
    expect(prod.body).toBe('{"env":"prod"}');
    expect(prod.headers['x-pika-version']).toBe('1');
    const base = await data.get('/data/myapp/config');
    expect(base.body).toBe('{"env":"base","n":2}');
    expect(base.headers['x-pika-version']).toBe('2');

    expect((await admin.get('/api/v1/versions/myapp/config?variant=prod')).json).toHaveLength(1);
    expect((await admin.get('/api/v1/versions/myapp/config')).json).toHaveLength(2);
    expect((await admin.get('/api/v1/file/myapp/config?variant=prod')).json).toMatchObject({ variant: 'prod', version: 1 });
    expect(await save(admin, 'myapp/config', { content: '{"env":"prod2"}', variant: 'prod' })).toBe(2);
    expect((await data.get('/data/myapp/config?variant=prod&version=1')).body).toBe('{"env":"prod"}');
  });

  it('refuses a variant of a config that does not exist', async () => {
    const res = await postFile(admin, 'myapp/config', { content: '{}', variant: 'prod' });
    expect(res.status).toBe(404);
    expect(res.json.code).toBe('ERR_FILE_NOT_FOUND');
    expect((await admin.get('/api/v1/folder')).json.folders).toEqual([]);
  });

  it('does not fall back to the base config', async () => {
    await save(admin, 'myapp/config', { content: '{}' });
    const res = await data.get('/data/myapp/config?variant=staging');
    expect(res.status).toBe(404);
    expect(res.json.code).toBe('ERR_FILE_NOT_FOUND');
  });

  it('lists variants in the folder and under /api/v1/variants', async () => {
    await save(admin, 'myapp/config', { content: '{}' });
    await save(admin, 'myapp/config', { content: '{}', variant: 'prod' });
    expect((await admin.get('/api/v1/folder/myapp')).json).toEqual({ path: 'myapp', folders: [], files: ['config'], variants: { config: ['prod'] } });
    await save(admin, 'myapp/config', { content: '{}', variant: 'dev' });
    await save(admin, 'myapp/config', { content: '{}', variant: 'prod' });
    const variants = await admin.get('/api/v1/variants/myapp/config');
    expect(variants.status).toBe(200);
    expect(variants.json).toEqual(['dev', 'prod']);
    const missing = await admin.get('/api/v1/variants/myapp/none');
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('ERR_FILE_NOT_FOUND');
  });

  it('deletes one variant and leaves the base and the other variants', async () => {
    await save(admin, 'myapp/config', { content: '{"b":1}' });
    await save(admin, 'myapp/config', { content: '{}', variant: 'prod' });
    await save(admin, 'myapp/config', { content: '{}', variant: 'dev' });
    expect((await admin.delete('/api/v1/file/myapp/config?variant=prod')).status).toBe(200);
    expect((await admin.get('/api/v1/variants/myapp/config')).json).toEqual(['dev']);
    expect((await data.get('/data/myapp/config?variant=prod')).status).toBe(404);
    expect((await data.get('/data/myapp/config')).body).toBe('{"b":1}');
  });

  it('refuses an invalid variant name', async () => {
    await save(admin, 'myapp/config', { content: '{}' });
    const res = await postFile(admin, 'myapp/config', { content: '{}', variant: 'pr od' });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('ERR_PATH_INVALID');
    const read = await data.get('/data/myapp/config?variant=a%2Fb');
    expect(read.status).toBe(400);
    expect(read.json.code).toBe('ERR_PATH_INVALID');
  });

  it('lets a variant inherit its base and carry only overrides', async () => {
    await save(admin, 'myapp/config', { format: 'yaml', content: 'db:\n  host: localhost\n  port: 5432\nlog: debug\n' });
    await save(admin, 'myapp/config', { format: 'yaml', content: 'db:\n  host: prod-db\nlog: warn\n', variant: 'prod', inherits: [{ source: 'myapp/config' }] });
    const res = await data.get('/data/myapp/config?variant=prod');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-yaml');
    expect(res.body).toBe('db:\n  host: prod-db\n  port: 5432\nlog: warn\n');
    const json = await data.get('/data/myapp/config?variant=prod&format=json');
    expect(JSON.parse(json.body)).toEqual({ db: { host: 'prod-db', port: 5432 }, log: 'warn' });

    // A change to the base shows through at once.
    await save(admin, 'myapp/config', { format: 'yaml', content: 'db:\n  host: localhost\n  port: 6432\n  pool: 5\nlog: debug\n' });
    expect((await data.get('/data/myapp/config?variant=prod')).body).toBe('db:\n  host: prod-db\n  port: 6432\n  pool: 5\nlog: warn\n');
  });

  it('scopes a token to one variant: it reads that variant but not the base it inherits', async () => {
    await save(admin, 'myapp/config', { content: '{"a":1}' });
    await save(admin, 'myapp/config', { content: '{"b":2}', variant: 'own' });
    await save(admin, 'myapp/config', { content: '{"c":3}', variant: 'inh', inherits: [{ source: 'myapp/config' }] });
    const narrow = t.withToken((await mintToken(admin, [{ path: 'myapp/config@own' }, { path: 'myapp/config@inh' }])).raw);
    expect((await narrow.get('/data/myapp/config?variant=own')).body).toBe('{"b":2}');
    const base = await narrow.get('/data/myapp/config');
    expect(base.status).toBe(403);
    expect(base.json.code).toBe('ERR_FORBIDDEN');
    const inherited = await narrow.get('/data/myapp/config?variant=inh');
    expect(inherited.status).toBe(403);
    expect(inherited.json.code).toBe('ERR_INHERIT_FORBIDDEN');
  });
});
