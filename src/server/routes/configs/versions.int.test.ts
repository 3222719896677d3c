import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { mintToken, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

const START = Date.parse('2031-05-06T07:08:09Z');

/** Version history, soft and hard deletes, and constraints (SPEC §4 "Versions"). */
describe('config versions', () => {
  let t: TestApp;
  let admin: Client;
  let data: Client;
  let now = START;
  beforeEach(async () => {
    now = START;
    ({ t, admin } = await startWithAdmin({ deps: { clock: () => now } }));
    data = t.withToken((await mintToken(admin)).raw);
  });
  afterEach(async () => {
    await t.close();
  });

  async function storeKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const item of t.store.iterate(prefix)) keys.push(item.key);
    return keys;
  }

  it('lists each version with its status history, author and timestamp', async () => {
    await save(admin, 'app/cfg', { content: '{"v":1}' });
    now += 5_000;
    await save(admin, 'app/cfg', { content: '{"v":2}', constraint: '>= 0.1.0' });
    const res = await admin.get('/api/v1/versions/app/cfg');
    expect(res.status).toBe(200);
    const created = Math.floor(START / 1000);
    expect(res.json).toEqual([
      { version: 1, constraint: '', effective_constraint: '', deleted: false, status: [{ status: 'CREATED', timestamp: created, author: 'admin' }] },
      { version: 2, constraint: '>= 0.1.0', effective_constraint: '>= 0.1.0', deleted: false, status: [{ status: 'CREATED', timestamp: created + 5, author: 'admin' }] },
    ]);
    const missing = await admin.get('/api/v1/versions/app/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('ERR_FILE_NOT_FOUND');
  });

  it('records the token name as author when a token saves', async () => {
    const writerToken = await admin.post('/api/v1/tokens', { name: 'deployer', scopes: [{ path: 'app/**', operations: ['read', 'write'] }] });
    await save(t.withToken(writerToken.json.raw_key as string), 'app/cfg', { content: '{}' });
    expect((await admin.get('/api/v1/versions/app/cfg')).json[0].status[0].author).toBe('token:deployer');
  });

  it('soft-deletes one version: DELETED status, 404 when asked for, skipped as latest, number never reused', async () => {
    await save(admin, 'app/cfg', { content: '{"v":1}' });
    await save(admin, 'app/cfg', { content: '{"v":2}' });
    expect((await data.get('/data/app/cfg')).body).toBe('{"v":2}');
    now += 1_000;
    const del = await admin.delete('/api/v1/file/app/cfg?version=2');
    expect(del.status).toBe(200);
    expect(del.json).toEqual({ ok: true });

    const versions = (await admin.get('/api/v1/versions/app/cfg')).json;
    expect(versions[1]).toMatchObject({
      version: 2,
      deleted: true,
      status: [
        { status: 'CREATED', author: 'admin' },
        { status: 'DELETED', timestamp: Math.floor(START / 1000) + 1, author: 'admin' },
      ],
    });
    const gone = await data.get('/data/app/cfg?version=2');
    expect(gone.status).toBe(404);
    expect(gone.json.code).toBe('ERR_VERSION_NOT_FOUND');
    expect((await admin.get('/api/v1/file/app/cfg?version=2')).json.code).toBe('ERR_VERSION_NOT_FOUND');
    const latest = await data.get('/data/app/cfg');
    expect(latest.body).toBe('{"v":1}');
    expect(latest.headers['x-pika-version']).toBe('1');
    expect((await admin.get('/api/v1/file/app/cfg')).json.version).toBe(1);

    expect(await save(admin, 'app/cfg', { content: '{"v":3}' })).toBe(3);
    expect((await data.get('/data/app/cfg')).body).toBe('{"v":3}');
  });

  it('answers 404 for deleting a version or file that does not exist', async () => {
    await save(admin, 'app/cfg', { content: '{}' });
    const version = await admin.delete('/api/v1/file/app/cfg?version=5');
    expect(version.status).toBe(404);
    expect(version.json.code).toBe('ERR_VERSION_NOT_FOUND');
    const file = await admin.delete('/api/v1/file/app/other');
    expect(file.status).toBe(404);
    expect(file.json.code).toBe('ERR_FILE_NOT_FOUND');
  });

  it('serves 404 once every version is soft-deleted', async () => {
    await save(admin, 'app/cfg', { content: '{}' });
    await admin.delete('/api/v1/file/app/cfg?version=1');
    const res = await data.get('/data/app/cfg');
    expect(res.status).toBe(404);
    expect(res.json.code).toBe('ERR_VERSION_NOT_FOUND');
  });

  for (const query of ['', '?version=0']) {
    it(`deletes the file, all versions and all variants without a version${query ? ' (version=0)' : ''}`, async () => {
      await save(admin, 'app/cfg', { content: '{"base":1}' });
      await save(admin, 'app/cfg', { content: '{"base":2}' });
      await save(admin, 'app/cfg', { content: '{"prod":1}', variant: 'prod' });
      await save(admin, 'app/cfg', { content: '{"dev":1}', variant: 'dev' });
      await save(admin, 'app/keep', { content: '{}' });
      expect((await admin.get('/api/v1/folder/app')).json.variants).toEqual({ cfg: ['dev', 'prod'], keep: [] });

      const del = await admin.delete(`/api/v1/file/app/cfg${query}`);
      expect(del.status).toBe(200);

      const listing = (await admin.get('/api/v1/folder/app')).json;
      expect(listing).toEqual({ path: 'app', folders: [], files: ['keep'], variants: { keep: [] } });
      for (const url of ['/data/app/cfg', '/data/app/cfg?variant=prod', '/data/app/cfg?variant=dev']) {
        const res = await data.get(url);
        expect(res.status, url).toBe(404);
        expect(res.json.code).toBe('ERR_FILE_NOT_FOUND');
      }
      expect((await admin.get('/api/v1/versions/app/cfg?variant=prod')).status).toBe(404);
      expect((await admin.get('/api/v1/variants/app/cfg')).status).toBe(404);
      expect(await storeKeys('cfg/ver/app/cfg')).toEqual([]);
      expect(await storeKeys('cfg/file/app/cfg')).toEqual([]);

      // A new file at the same path starts fresh, without the old variants.
      expect(await save(admin, 'app/cfg', { content: '{"new":1}' })).toBe(1);
      expect((await admin.get('/api/v1/variants/app/cfg')).json).toEqual([]);
      expect((await data.get('/data/app/cfg?variant=prod')).status).toBe(404);
    });
  }

  it('sets, changes and clears a constraint; /data follows at once', async () => {
    await save(admin, 'app/cfg', { content: '{"v":1}' });
    await save(admin, 'app/cfg', { content: '{"v":2}' });
    expect((await data.get('/data/app/cfg?version=0.1.5')).body).toBe('{"v":2}');

    const set = await admin.patch('/api/v1/versions/app/cfg', { version: 2, constraint: '>= 0.2.0' });
    expect(set.status).toBe(200);
    expect(set.json).toEqual({ ok: true });
    expect((await admin.get('/api/v1/versions/app/cfg')).json.map((v: { constraint: string }) => v.constraint)).toEqual(['', '>= 0.2.0']);
    expect((await data.get('/data/app/cfg?version=0.1.5')).body).toBe('{"v":1}');
    expect((await data.get('/data/app/cfg?version=0.2.0')).body).toBe('{"v":2}');

    // A bare version means "this version and newer".
    await admin.patch('/api/v1/versions/app/cfg', { version: 2, constraint: '0.3' });
    expect((await admin.get('/api/v1/versions/app/cfg')).json[1].constraint).toBe('>=0.3.0');
    expect((await data.get('/data/app/cfg?version=0.2.0')).body).toBe('{"v":1}');

    await admin.patch('/api/v1/versions/app/cfg', { version: 2, constraint: '' });
    expect((await admin.get('/api/v1/versions/app/cfg')).json[1]).toMatchObject({ constraint: '', effective_constraint: '' });
    expect((await data.get('/data/app/cfg?version=0.1.5')).body).toBe('{"v":2}');
  });

  it('sets a constraint on a variant version without touching the base (upstream keyed it wrongly)', async () => {
    await save(admin, 'app/cfg', { content: '{"base":1}' });
    await save(admin, 'app/cfg', { content: '{"prod":1}', variant: 'prod' });
    await save(admin, 'app/cfg', { content: '{"prod":2}', variant: 'prod' });
    const res = await admin.patch('/api/v1/versions/app/cfg?variant=prod', { version: 2, constraint: '>=1.0.0' });
    expect(res.status).toBe(200);
    const variantVersions = (await admin.get('/api/v1/versions/app/cfg?variant=prod')).json;
    expect(variantVersions.map((v: { constraint: string }) => v.constraint)).toEqual(['', '>=1.0.0']);
    expect((await admin.get('/api/v1/versions/app/cfg')).json.map((v: { constraint: string }) => v.constraint)).toEqual(['']);
    expect((await data.get('/data/app/cfg?variant=prod&version=0.9.0')).body).toBe('{"prod":1}');
    expect((await data.get('/data/app/cfg?variant=prod&version=1.0.0')).body).toBe('{"prod":2}');
    // No stray record under the upstream bug's key.
    expect(await storeKeys('cfg/file/app/cfg/@')).toEqual([]);
  });

  it('refuses an invalid constraint and an unknown version', async () => {
    await save(admin, 'app/cfg', { content: '{}' });
    const bad = await admin.patch('/api/v1/versions/app/cfg', { version: 1, constraint: '>= banana' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'ERR_CONSTRAINT_INVALID', details: { constraint: '>= banana' } });
    const onSave = await admin.post('/api/v1/file/app/cfg', { meta: { format: 'json' }, content: '{}', constraint: 'not-a-range' });
    expect(onSave.status).toBe(400);
    expect(onSave.json.code).toBe('ERR_CONSTRAINT_INVALID');
    expect((await admin.get('/api/v1/versions/app/cfg')).json).toHaveLength(1);
    const unknown = await admin.patch('/api/v1/versions/app/cfg', { version: 9, constraint: '' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('ERR_VERSION_NOT_FOUND');
    const noVariant = await admin.patch('/api/v1/versions/app/cfg?variant=prod', { version: 1, constraint: '' });
    expect(noVariant.status).toBe(404);
    expect(noVariant.json.code).toBe('ERR_VERSION_NOT_FOUND');
  });
});
