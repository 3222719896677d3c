import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { mintToken, postFile, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

/** Folders (SPEC §4 "Files and folders"): implicit parents, listing, create, recursive delete. */
describe('config folders', () => {
  let t: TestApp;
  let admin: Client;
  beforeEach(async () => {
    ({ t, admin } = await startWithAdmin());
  });
  afterEach(async () => {
    await t.close();
  });

  async function storeKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const item of t.store.iterate(prefix)) keys.push(item.key);
    return keys;
  }

  it('lists the root and nested folders: child folders, files and their variants', async () => {
    await save(admin, 'top', { content: '{}' });
    await save(admin, 'a/x', { content: '{}' });
    await save(admin, 'a/x', { content: '{}', variant: 'prod' });
    await save(admin, 'a/b/y', { content: '{}' });
    await save(admin, 'a/b/c/d/z', { content: '{}' });
    await save(admin, 'b', { content: '{}' });
    await save(admin, 'b/inner', { content: '{}' });

    const root = await admin.get('/api/v1/folder');
    expect(root.status).toBe(200);
    expect(root.json).toEqual({ path: '', folders: ['a', 'b'], files: ['b', 'top'], variants: { b: [], top: [] } });
    expect((await admin.get('/api/v1/folder/a')).json).toEqual({ path: 'a', folders: ['b'], files: ['x'], variants: { x: ['prod'] } });
    expect((await admin.get('/api/v1/folder/a/b/')).json).toEqual({ path: 'a/b', folders: ['c'], files: ['y'], variants: { y: [] } });
    expect((await admin.get('/api/v1/folder/a/b/c')).json).toEqual({ path: 'a/b/c', folders: ['d'], files: [], variants: {} });
  });

  it('answers 404 ERR_FOLDER_NOT_FOUND for a folder that does not exist', async () => {
    await save(admin, 'a/x', { content: '{}' });
    for (const path of ['nope', 'a/nope', 'a/x']) {
      const res = await admin.get(`/api/v1/folder/${path}`);
      expect(res.status, path).toBe(404);
      expect(res.json.code).toBe('ERR_FOLDER_NOT_FOUND');
    }
    const del = await admin.delete('/api/v1/folder/nope');
    expect(del.status).toBe(404);
    expect(del.json.code).toBe('ERR_FOLDER_NOT_FOUND');
  });

  it('creates an empty folder with its parents', async () => {
    const res = await admin.post('/api/v1/folder/x/y');
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ ok: true });
    expect((await admin.get('/api/v1/folder')).json.folders).toEqual(['x']);
    expect((await admin.get('/api/v1/folder/x')).json.folders).toEqual(['y']);
    expect((await admin.get('/api/v1/folder/x/y')).json).toEqual({ path: 'x/y', folders: [], files: [], variants: {} });
    // Creating it again is harmless.
    expect((await admin.post('/api/v1/folder/x/y')).status).toBe(201);
    const bad = await admin.post('/api/v1/folder/x/a@b');
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('ERR_PATH_INVALID');
  });

  it('deletes a folder with everything under it, variants included, and counts what went', async () => {
    const data = t.withToken((await mintToken(admin)).raw);
    await save(admin, 'a/x', { content: '{}' });
    await save(admin, 'a/x', { content: '{}' });
    await save(admin, 'a/x', { content: '{}', variant: 'prod' });
    await save(admin, 'a/b/y', { content: '{}' });
    await save(admin, 'a/b/y', { content: '{}', variant: 'dev' });
    await admin.post('/api/v1/folder/a/empty');
    await save(admin, 'a', { content: '{"file":"a"}' });
    await save(admin, 'ab/keep', { content: '{}' });

    const res = await admin.delete('/api/v1/folder/a');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ deleted: 4 });

    expect((await admin.get('/api/v1/folder')).json).toEqual({ path: '', folders: ['ab'], files: ['a'], variants: { a: [] } });
    expect((await admin.get('/api/v1/folder/a')).json.code).toBe('ERR_FOLDER_NOT_FOUND');
    expect((await admin.get('/api/v1/folder/a/b')).json.code).toBe('ERR_FOLDER_NOT_FOUND');
    for (const url of ['/data/a/x', '/data/a/x?variant=prod', '/data/a/b/y?variant=dev']) expect((await data.get(url)).status, url).toBe(404);
    expect(await storeKeys('cfg/file/a/')).toEqual([]);
    expect(await storeKeys('cfg/ver/a/')).toEqual([]);
    expect(await storeKeys('cfg/tree/a/')).toEqual([]);
    expect(await storeKeys('cfg/tree/a\u0000')).toEqual([]);
    // The file named like the folder and the sibling folder sharing its prefix survive.
    expect((await data.get('/data/a')).body).toBe('{"file":"a"}');
    expect((await data.get('/data/ab/keep')).status).toBe(200);

    // Saving under the old path starts from scratch.
    expect(await save(admin, 'a/x', { content: '{}' })).toBe(1);
    expect((await admin.get('/api/v1/variants/a/x')).json).toEqual([]);
  });

  it('deletes nothing when the caller may not delete one of the files', async () => {
    await save(admin, 'a/x', { content: '{}' });
    await save(admin, 'a/y', { content: '{}' });
    const partial = t.withToken((await mintToken(admin, [{ path: 'a', operations: ['delete'] }, { path: 'a/x', operations: ['delete'] }])).raw);
    const res = await partial.delete('/api/v1/folder/a');
    expect(res.status).toBe(403);
    expect(res.json.code).toBe('ERR_FORBIDDEN');
    expect((await admin.get('/api/v1/folder/a')).json.files).toEqual(['x', 'y']);
  });

  describe('for a user allowed to read team-a/** only', () => {
    let user: Client;
    beforeEach(async () => {
      const bundle = await admin.post('/api/v1/permissions', { key: 'team-a-read', name: 'Team A readers', keys: ['files.read'], key_patterns: { 'files.read': ['team-a/**'] } });
      expect(bundle.status).toBe(201);
      const created = await admin.post('/api/v1/users', { username: 'alice', password: 'alice password 123', permission_ids: [bundle.json.id] });
      expect(created.status, created.body).toBe(201);
      await save(admin, 'team-a/app/config', { content: '{}' });
      await save(admin, 'team-a/app/config', { content: '{}', variant: 'prod' });
      await save(admin, 'team-b/app/config', { content: '{}' });
      await save(admin, 'toplevel', { content: '{}' });
      user = await t.login('alice', 'alice password 123');
    });

    it('sees only team-a at the root and inside it', async () => {
      expect((await user.get('/api/v1/folder')).json).toEqual({ path: '', folders: ['team-a'], files: [], variants: {} });
      expect((await user.get('/api/v1/folder/team-a')).json).toEqual({ path: 'team-a', folders: ['app'], files: [], variants: {} });
      expect((await user.get('/api/v1/folder/team-a/app')).json).toEqual({ path: 'team-a/app', folders: [], files: ['config'], variants: { config: ['prod'] } });
    });

    it('gets 403 for team-b, existing or not, and cannot write', async () => {
      for (const path of ['team-b', 'team-b/app', 'team-c']) {
        const res = await user.get(`/api/v1/folder/${path}`);
        expect(res.status, path).toBe(403);
        expect(res.json.code).toBe('ERR_FORBIDDEN');
      }
      expect((await user.get('/api/v1/file/team-b/app/config')).status).toBe(403);
      expect((await user.get('/api/v1/file/team-a/app/config')).status).toBe(200);
      expect((await postFile(user, 'team-a/app/config', { content: '{}' })).status).toBe(403);
      expect((await user.post('/api/v1/folder/team-a/new')).status).toBe(403);
      expect((await user.delete('/api/v1/folder/team-a')).status).toBe(403);
    });
  });
});
