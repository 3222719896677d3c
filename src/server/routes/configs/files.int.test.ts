import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { b64, mintToken, postFile, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

/** Files: saving in every format, exact bytes, versions, optimistic concurrency, syntax errors. */
describe('config files', () => {
  let t: TestApp;
  let admin: Client;
  beforeEach(async () => {
    ({ t, admin } = await startWithAdmin());
  });
  afterEach(async () => {
    await t.close();
  });

  const cases = [
    { format: 'json', content: '{ "a" :  1,\n\t"b": [1,2]   }\n\n' },
    { format: 'yaml', content: '# leading comment\na:   1   # trailing\n\n\nb:\n  - x\n' },
    { format: 'toml', content: '# top\n[server]\nport = 8080   # why not\n\n' },
    { format: 'raw', content: 'anything goes {{ not: parsed\n\u0000\u00ff' },
  ];

  for (const { format, content } of cases) {
    it(`stores ${format} sent as content and returns the exact bytes`, async () => {
      const res = await postFile(admin, 'app/cfg', { format, content });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ path: 'app/cfg', version: 1, meta: { format, description: '', inherits: [] }, data: b64(content) });

      const got = await admin.get('/api/v1/file/app/cfg');
      expect(got.status).toBe(200);
      expect(Buffer.from(got.json.data as string, 'base64').toString('utf8')).toBe(content);
      expect(got.json).toMatchObject({ path: 'app/cfg', version: 1, constraint: '', author: 'admin', meta: { format } });
    });

    it(`stores ${format} sent as base64 data and returns the exact bytes`, async () => {
      const res = await postFile(admin, 'app/cfg', { format, data: b64(content) });
      expect(res.status).toBe(201);
      const got = await admin.get('/api/v1/file/app/cfg');
      expect(got.json.data).toBe(b64(content));
    });
  }

  it('keeps binary raw bytes exactly (not valid UTF-8)', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10]);
    expect((await postFile(admin, 'bin/blob', { format: 'raw', data: bytes.toString('base64') })).status).toBe(201);
    const got = await admin.get('/api/v1/file/bin/blob');
    expect(Buffer.from(got.json.data as string, 'base64').equals(bytes)).toBe(true);
    const token = await mintToken(admin);
    const data = await t.withToken(token.raw).get('/data/bin/blob');
    expect(data.status).toBe(200);
    expect(data.headers['content-type']).toBe('application/octet-stream');
    expect(data.rawPayload.equals(bytes)).toBe(true);
  });

  it('refuses a body with both or neither of content and data, and bad base64', async () => {
    const both = await admin.post('/api/v1/file/a/b', { meta: { format: 'json' }, content: '{}', data: b64('{}') });
    expect(both.status).toBe(400);
    expect(both.json.code).toBe('ERR_VALIDATION');
    const neither = await admin.post('/api/v1/file/a/b', { meta: { format: 'json' } });
    expect(neither.status).toBe(400);
    expect(neither.json.code).toBe('ERR_VALIDATION');
    const bad = await admin.post('/api/v1/file/a/b', { meta: { format: 'raw' }, data: 'not base64!' });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('ERR_VALIDATION');
    expect((await admin.get('/api/v1/file/a/b')).json.code).toBe('ERR_FILE_NOT_FOUND');
  });

  it('makes every save version n+1 and serves each version on request', async () => {
    for (let i = 1; i <= 4; i++) expect(await save(admin, 'app/cfg', { content: `{"n":${i}}` })).toBe(i);
    for (let i = 1; i <= 4; i++) {
      const got = await admin.get(`/api/v1/file/app/cfg?version=${i}`);
      expect(got.json.version).toBe(i);
      expect(Buffer.from(got.json.data as string, 'base64').toString()).toBe(`{"n":${i}}`);
    }
    expect((await admin.get('/api/v1/file/app/cfg')).json.version).toBe(4);
    const missing = await admin.get('/api/v1/file/app/cfg?version=9');
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('ERR_VERSION_NOT_FOUND');
  });

  it('checks expected_version: 0 creates, a stale one is a 409 naming the current version, a match saves', async () => {
    expect((await postFile(admin, 'app/cfg', { content: '{}', expected_version: 0 })).status).toBe(201);
    const again = await postFile(admin, 'app/cfg', { content: '{}', expected_version: 0 });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ code: 'ERR_VERSION_CONFLICT', details: { current_version: 1 } });
    expect((await postFile(admin, 'app/cfg', { content: '{"a":2}', expected_version: 1 })).json.version).toBe(2);
    const stale = await postFile(admin, 'app/cfg', { content: '{"a":3}', expected_version: 1 });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({ code: 'ERR_VERSION_CONFLICT', details: { current_version: 2 } });
    const ahead = await postFile(admin, 'app/cfg', { content: '{}', expected_version: 7 });
    expect(ahead.status).toBe(409);
    expect(ahead.json.details).toEqual({ current_version: 2 });
    // Nothing was written by the refused saves.
    expect((await admin.get('/api/v1/versions/app/cfg')).json).toHaveLength(2);
    expect((await postFile(admin, 'new/one', { content: '{}', expected_version: 3 })).json).toMatchObject({ code: 'ERR_VERSION_CONFLICT', details: { current_version: 0 } });
  });

  it('lets exactly one of two concurrent saves with the same expected_version win', async () => {
    await save(admin, 'app/cfg', { content: '{"v":1}' });
    const results = await Promise.all([
      postFile(admin, 'app/cfg', { content: '{"by":"a"}', expected_version: 1 }),
      postFile(admin, 'app/cfg', { content: '{"by":"b"}', expected_version: 1 }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const loser = results.find((r) => r.status === 409);
    expect(loser?.json).toMatchObject({ code: 'ERR_VERSION_CONFLICT', details: { current_version: 2 } });
    expect((await admin.get('/api/v1/versions/app/cfg')).json).toHaveLength(2);
  });

  const syntaxCases = [
    { format: 'json', content: '{\n  "a": 1,\n  "b": }\n', line: 3, column: 8 },
    { format: 'yaml', content: 'a: 1\nb: [1, 2\n', line: 3, column: 1 },
    { format: 'toml', content: 'a = 1\nb = = 2\n', line: 2, column: 5 },
  ];
  for (const { format, content, line, column } of syntaxCases) {
    it(`refuses invalid ${format} with 400 ERR_SYNTAX and a line/column`, async () => {
      const res = await postFile(admin, 'app/bad', { format, content });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('ERR_SYNTAX');
      expect(res.json.details).toMatchObject({ format, line, column });
      expect((await admin.get('/api/v1/file/app/bad')).status).toBe(404);
    });
  }

  it('refuses an unknown format', async () => {
    const res = await postFile(admin, 'app/cfg', { format: 'xml', content: '<a/>' });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('ERR_VALIDATION');
    expect(res.json.message).toContain('meta/format');
  });

  it('accepts yml as yaml', async () => {
    const res = await postFile(admin, 'app/cfg', { format: 'yml', content: 'a: 1\n' });
    expect(res.status).toBe(201);
    expect(res.json.meta.format).toBe('yaml');
  });

  it('refuses inheritance on a raw file with ERR_INHERIT_INVALID', async () => {
    await save(admin, 'shared/base', { content: '{}' });
    const res = await postFile(admin, 'app/raw', { format: 'raw', content: 'x', inherits: [{ source: 'shared/base' }] });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('ERR_INHERIT_INVALID');
  });

  it('refuses malformed inheritance entries with ERR_INHERIT_INVALID', async () => {
    const bothKinds = await postFile(admin, 'app/cfg', { content: '{}', inherits: [{ source: 'a/b', resource: 'vault' }] });
    expect(bothKinds.json.code).toBe('ERR_INHERIT_INVALID');
    const badPath = await postFile(admin, 'app/cfg', { content: '{}', inherits: [{ source: 'a/../b' }] });
    expect(badPath.json.code).toBe('ERR_INHERIT_INVALID');
    const badInject = await postFile(admin, 'app/cfg', { content: '{}', inherits: [{ source: 'a/b', inject: 'a..b' }] });
    expect(badInject.status).toBe(400);
    expect(badInject.json.code).toBe('ERR_INHERIT_INVALID');
  });

  it('refuses invalid paths', async () => {
    const at = await postFile(admin, 'app/cfg@prod', { content: '{}' });
    expect(at.status).toBe(400);
    expect(at.json.code).toBe('ERR_PATH_INVALID');
    const control = await admin.post('/api/v1/file/app/a%01b', { meta: { format: 'json' }, content: '{}' });
    expect(control.status).toBe(400);
    expect(control.json.code).toBe('ERR_PATH_INVALID');
    const slash = await admin.post('/api/v1/file/app%2Fx', { meta: { format: 'json' }, content: '{}' });
    expect(slash.json.code).toBe('ERR_PATH_INVALID');
  });

  it('needs files.write to save and files.read to read', async () => {
    await save(admin, 'app/cfg', { content: '{}' });
    const reader = t.withToken((await mintToken(admin, [{ path: 'app/**', operations: ['read'] }])).raw);
    expect((await reader.get('/api/v1/file/app/cfg')).status).toBe(200);
    const denied = await postFile(reader, 'app/cfg', { content: '{}' });
    expect(denied.status).toBe(403);
    expect(denied.json.code).toBe('ERR_FORBIDDEN');
    const other = await reader.get('/api/v1/file/other/cfg');
    expect(other.status).toBe(403);
    expect(other.json.code).toBe('ERR_FORBIDDEN');
    const anonymous = await t.request({ url: '/api/v1/file/app/cfg' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.code).toBe('ERR_UNAUTHENTICATED');
  });
});
