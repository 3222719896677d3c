import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { type InheritSpec, mintToken, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

/** Inheritance resolved through `/data` (SPEC §4 "Inheritance"). */
describe('/data inheritance', () => {
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

  async function child(inherits: InheritSpec[], content = '{}', path = 'app/cfg'): Promise<void> {
    await save(admin, path, { content, inherits });
  }

  async function resolved(path = 'app/cfg', query = ''): Promise<unknown> {
    const res = await data.get(`/data/${path}${query}`);
    expect(res.status, res.body).toBe(200);
    return JSON.parse(res.body);
  }

  async function failure(path: string, status: number, code: string): Promise<string> {
    const res = await data.get(`/data/${path}`);
    expect(res.status, res.body).toBe(status);
    expect(res.json.code).toBe(code);
    return res.json.message as string;
  }

  it('deep-merges: objects merge, arrays replace, own content wins; JSON output indented by 2', async () => {
    await save(admin, 'shared/base', { content: '{"db":{"host":"h","port":1,"opts":{"a":1}},"list":[1,2,3],"name":"base"}' });
    await child([{ source: 'shared/base' }], '{"db":{"port":2,"opts":{"b":2}},"list":[9],"extra":true}');
    const res = await data.get('/data/app/cfg');
    expect(res.headers['content-type']).toBe('application/json');
    const expected = { db: { host: 'h', port: 2, opts: { a: 1, b: 2 } }, list: [9], name: 'base', extra: true };
    expect(res.body).toBe(`${JSON.stringify(expected, null, 2)}\n`);
  });

  it('merges several entries in order, then the own content', async () => {
    await save(admin, 'shared/a', { content: '{"x":"a","y":"a"}' });
    await save(admin, 'shared/b', { format: 'yaml', content: 'y: b\nz: b\n' });
    await save(admin, 'shared/c', { format: 'toml', content: 'z = "c"\nw = "c"\n' });
    await child([{ source: 'shared/a' }, { source: 'shared/b' }, { source: 'shared/c' }], '{"w":"own"}');
    expect(await resolved()).toEqual({ x: 'a', y: 'b', z: 'c', w: 'own' });
    await child([{ source: 'shared/c' }, { source: 'shared/b' }, { source: 'shared/a' }]);
    expect(await resolved()).toEqual({ x: 'a', y: 'a', z: 'b', w: 'c' });
  });

  it('resolves nested inheritance and picks up a change to any level at once', async () => {
    await save(admin, 'shared/root', { content: '{"level":"root","root":1}' });
    await save(admin, 'shared/mid', { content: '{"level":"mid"}', inherits: [{ source: 'shared/root' }] });
    await child([{ source: 'shared/mid' }]);
    expect(await resolved()).toEqual({ level: 'mid', root: 1 });
    await save(admin, 'shared/root', { content: '{"level":"root","root":2}' });
    expect(await resolved()).toEqual({ level: 'mid', root: 2 });
  });

  it('picks dot paths, with * matching every key', async () => {
    await save(admin, 'shared/svc', { content: '{"services":{"a":{"url":"ua","port":1},"b":{"url":"ub","port":2}},"secret":"s","top":{"k":1}}' });
    await child([{ source: 'shared/svc', paths: ['services.*.url', 'top.k', 'nothing.here'] }]);
    expect(await resolved()).toEqual({ services: { a: { url: 'ua' }, b: { url: 'ub' } }, top: { k: 1 } });
  });

  it('injects under a dot path, after picking', async () => {
    await save(admin, 'shared/db', { content: '{"user":"u","password":"p","host":"h"}' });
    await child([{ source: 'shared/db', inject: 'database.credentials' }], '{"database":{"name":"n"}}');
    expect(await resolved()).toEqual({ database: { name: 'n', credentials: { user: 'u', password: 'p', host: 'h' } } });
    await child([{ source: 'shared/db', paths: ['user', 'password'], inject: 'creds' }]);
    expect(await resolved()).toEqual({ creds: { user: 'u', password: 'p' } });
  });

  it('decodes a raw source with format, and injects a raw source as a string', async () => {
    await save(admin, 'shared/blob', { format: 'raw', content: 'a: 1\nb: [x, y]\n' });
    await child([{ source: 'shared/blob', format: 'yaml' }]);
    expect(await resolved()).toEqual({ a: 1, b: ['x', 'y'] });
    await child([{ source: 'shared/blob', format: 'yaml', paths: ['b'], inject: 'cfg' }]);
    expect(await resolved()).toEqual({ cfg: { b: ['x', 'y'] } });

    await save(admin, 'shared/cert', { format: 'raw', content: '-----BEGIN CERT-----\nabc\n' });
    await child([{ source: 'shared/cert', inject: 'tls.cert' }]);
    expect(await resolved()).toEqual({ tls: { cert: '-----BEGIN CERT-----\nabc\n' } });
    await child([{ source: 'shared/cert' }]);
    expect(await resolved()).toEqual({ value: '-----BEGIN CERT-----\nabc\n' });
  });

  it('reports a raw source that does not decode as its format', async () => {
    await save(admin, 'shared/blob', { format: 'raw', content: '{not json' });
    await child([{ source: 'shared/blob', format: 'json' }]);
    const message = await failure('app/cfg', 400, 'ERR_SYNTAX');
    expect(message).toContain('shared/blob');
  });

  it('inherits a variant with source "path@variant"', async () => {
    await save(admin, 'shared/db', { content: '{"host":"dev-db"}' });
    await save(admin, 'shared/db', { content: '{"host":"prod-db"}', variant: 'prod' });
    await child([{ source: 'shared/db@prod', inject: 'db' }]);
    expect(await resolved()).toEqual({ db: { host: 'prod-db' } });
    await save(admin, 'shared/db', { content: '{"host":"prod-db-2"}', variant: 'prod' });
    expect(await resolved()).toEqual({ db: { host: 'prod-db-2' } });
  });

  it('detects cycles: A → B → A and A → A', async () => {
    await save(admin, 'app/a', { content: '{}', inherits: [{ source: 'app/b' }] });
    await save(admin, 'app/b', { content: '{}', inherits: [{ source: 'app/a' }] });
    expect(await failure('app/a', 400, 'ERR_INHERIT_CYCLE')).toContain('app/a → app/b → app/a');
    await failure('app/b', 400, 'ERR_INHERIT_CYCLE');
    await save(admin, 'app/self', { content: '{}', inherits: [{ source: 'app/self' }] });
    await failure('app/self', 400, 'ERR_INHERIT_CYCLE');
    // A variant inheriting itself is a cycle too; inheriting its base is not.
    await save(admin, 'app/self', { content: '{}', variant: 'v', inherits: [{ source: 'app/self@v' }] });
    const variant = await data.get('/data/app/self?variant=v');
    expect(variant.json.code).toBe('ERR_INHERIT_CYCLE');
  });

  it('allows a diamond (the same source twice is not a cycle)', async () => {
    await save(admin, 'shared/root', { content: '{"r":1}' });
    await save(admin, 'shared/l', { content: '{"l":1}', inherits: [{ source: 'shared/root' }] });
    await save(admin, 'shared/r', { content: '{"rr":1}', inherits: [{ source: 'shared/root' }] });
    await child([{ source: 'shared/l' }, { source: 'shared/r' }]);
    expect(await resolved()).toEqual({ r: 1, l: 1, rr: 1 });
  });

  it('allows 16 levels of inheritance and refuses the 17th with ERR_INHERIT_DEPTH', async () => {
    await save(admin, 'chain/c17', { content: '{"c17":true}' });
    for (let i = 16; i >= 0; i--) await save(admin, `chain/c${i}`, { content: `{"c${i}":true}`, inherits: [{ source: `chain/c${i + 1}` }] });
    const sixteen = (await resolved('chain/c1')) as Record<string, boolean>;
    expect(Object.keys(sixteen)).toHaveLength(17);
    await failure('chain/c0', 400, 'ERR_INHERIT_DEPTH');
  });

  it('reports a missing or fully deleted source with ERR_INHERIT_SOURCE_NOT_FOUND', async () => {
    await child([{ source: 'shared/missing' }]);
    expect(await failure('app/cfg', 400, 'ERR_INHERIT_SOURCE_NOT_FOUND')).toContain('shared/missing');
    await save(admin, 'shared/missing', { content: '{"now":"here"}' });
    expect(await resolved()).toEqual({ now: 'here' });
    await admin.delete('/api/v1/file/shared/missing?version=1');
    await failure('app/cfg', 400, 'ERR_INHERIT_SOURCE_NOT_FOUND');
  });

  it('reports an unknown external resource with ERR_RESOURCE_UNKNOWN (no providers configured)', async () => {
    await child([{ resource: 'vault', path: 'kv/app' }]);
    const withExternal = t.withToken((await mintToken(admin, [{ path: '**' }], { capabilities: ['external.read'] })).raw);
    const res = await withExternal.get('/data/app/cfg');
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('ERR_RESOURCE_UNKNOWN');
    expect(res.json.message).toContain('vault');
    // Without external.read the caller learns nothing about the resource.
    await failure('app/cfg', 403, 'ERR_INHERIT_FORBIDDEN');
  });

  describe('permissions of inherited sources', () => {
    beforeEach(async () => {
      await save(admin, 'secret/db', { content: '{"password":"hunter2"}' });
      await save(admin, 'app/config', { content: '{"name":"app"}', inherits: [{ source: 'secret/db' }] });
      await save(admin, 'app/nested', { content: '{}', inherits: [{ source: 'app/plain' }] });
      await save(admin, 'app/plain', { content: '{}', inherits: [{ source: 'secret/db', inject: 'x' }] });
    });

    it('refuses a token that may read the config but not its source', async () => {
      const narrow = t.withToken((await mintToken(admin, [{ path: 'app/**' }])).raw);
      const res = await narrow.get('/data/app/config');
      expect(res.status).toBe(403);
      expect(res.json.code).toBe('ERR_INHERIT_FORBIDDEN');
      expect(res.body).not.toContain('hunter2');
      expect((await narrow.get('/data/app/nested')).json.code).toBe('ERR_INHERIT_FORBIDDEN');
    });

    it('still refuses after a wider token has put the resolved config in the cache', async () => {
      expect(await resolved('app/config')).toEqual({ password: 'hunter2', name: 'app' });
      expect(await resolved('app/nested')).toEqual({ x: { password: 'hunter2' } });
      const narrow = t.withToken((await mintToken(admin, [{ path: 'app/**' }])).raw);
      for (const path of ['app/config', 'app/nested']) {
        const res = await narrow.get(`/data/${path}`);
        expect(res.status, path).toBe(403);
        expect(res.json.code).toBe('ERR_INHERIT_FORBIDDEN');
        expect(res.body).not.toContain('hunter2');
      }
      const withFormat = await narrow.get('/data/app/config?format=yaml');
      expect(withFormat.status).toBe(403);
    });

    it('checks the render preview the same way', async () => {
      const narrow = t.withToken((await mintToken(admin, [{ path: 'app/**' }])).raw);
      const res = await narrow.post('/api/v1/render/app/config', { content: '{}', meta: { format: 'json', inherits: [{ source: 'secret/db' }] } });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ code: 'ERR_INHERIT_FORBIDDEN', data: '' });
      expect(res.body).not.toContain('hunter2');
    });
  });
});
