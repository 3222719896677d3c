import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { b64, type InheritSpec, mintToken, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

/** `POST /api/v1/render/*` (unsaved content) and `POST /api/v1/convert` (SPEC §4 "Render preview"). */
describe('render and convert', () => {
  let t: TestApp;
  let admin: Client;
  beforeEach(async () => {
    ({ t, admin } = await startWithAdmin());
  });
  afterEach(async () => {
    await t.close();
  });

  function render(path: string, content: string, format: string, inherits: InheritSpec[] = [], extra: Record<string, unknown> = {}, client = admin) {
    return client.post(`/api/v1/render/${path}`, { content, meta: { format, inherits }, ...extra });
  }

  describe('render', () => {
    it('resolves unsaved content against saved sources, without saving it', async () => {
      await save(admin, 'shared/base', { content: '{"a":1,"b":{"c":1}}' });
      const res = await render('app/cfg', 'b:\n  d: 2\n', 'yaml', [{ source: 'shared/base' }]);
      expect(res.status).toBe(200);
      const content = 'a: 1\nb:\n  c: 1\n  d: 2\n';
      expect(res.json).toEqual({ data: b64(content), content, format: 'yaml', sources: ['shared/base'] });
      expect((await admin.get('/api/v1/file/app/cfg')).status).toBe(404);
    });

    it('returns content without inheritance exactly, and converts on request', async () => {
      const text = '# keep me\na:   1\n';
      expect((await render('app/cfg', text, 'yaml')).json).toEqual({ data: b64(text), content: text, format: 'yaml', sources: [] });
      const json = await render('app/cfg', text, 'yaml', [], { format: 'json' });
      expect(json.json).toMatchObject({ content: '{\n  "a": 1\n}\n', format: 'json' });
    });

    it('returns problems in the body with a code', async () => {
      const missing = await render('app/cfg', '{}', 'json', [{ source: 'shared/nope' }]);
      expect(missing.status).toBe(200);
      expect(missing.json).toMatchObject({ code: 'ERR_INHERIT_SOURCE_NOT_FOUND', data: '', content: '', format: 'json' });
      expect(missing.json.error).toContain('shared/nope');

      const syntax = await render('app/cfg', '{"a": }', 'json', [{ source: 'shared/nope' }]);
      expect(syntax.status).toBe(200);
      // Sources resolve before the own content is parsed, so the missing source is found first.
      expect(syntax.json.code).toBe('ERR_INHERIT_SOURCE_NOT_FOUND');

      const plainSyntax = await render('app/cfg', 'a: [1\n', 'yaml');
      expect(plainSyntax.status).toBe(200);
      expect(plainSyntax.json).toMatchObject({ code: 'ERR_SYNTAX', details: { format: 'yaml', line: 2, column: 1 } });

      await save(admin, 'shared/base', { content: '{}' });
      const ownSyntax = await render('app/cfg', '{"a": }', 'json', [{ source: 'shared/base' }]);
      expect(ownSyntax.json).toMatchObject({ code: 'ERR_SYNTAX', details: { format: 'json', line: 1, column: 7 } });

      const raw = await render('app/cfg', 'x', 'raw', [{ source: 'shared/base' }]);
      expect(raw.json.code).toBe('ERR_INHERIT_INVALID');

      const convert = await render('app/cfg', '[2]', 'json', [], { format: 'toml' });
      expect(convert.json).toMatchObject({ code: 'ERR_CONVERT', format: 'toml' });
    });

    it('seeds cycle detection with its own key, variant included', async () => {
      await save(admin, 'app/b', { content: '{}', inherits: [{ source: 'app/a' }] });
      // app/a is not saved, yet rendering it with app/b as source closes the loop.
      const viaB = await render('app/a', '{}', 'json', [{ source: 'app/b' }]);
      expect(viaB.json.code).toBe('ERR_INHERIT_CYCLE');
      const self = await render('app/a', '{}', 'json', [{ source: 'app/a' }]);
      expect(self.json.code).toBe('ERR_INHERIT_CYCLE');

      await save(admin, 'app/cfg', { content: '{"base":true}' });
      await save(admin, 'app/cfg', { content: '{}', variant: 'prod' });
      const variantSelf = await admin.post('/api/v1/render/app/cfg?variant=prod', { content: '{}', meta: { format: 'json', inherits: [{ source: 'app/cfg@prod' }] } });
      expect(variantSelf.json.code).toBe('ERR_INHERIT_CYCLE');
      const variantBase = await admin.post('/api/v1/render/app/cfg?variant=prod', { content: '{"prod":true}', meta: { format: 'json', inherits: [{ source: 'app/cfg' }] } });
      expect(variantBase.json.code).toBeUndefined();
      expect(JSON.parse(variantBase.json.content as string)).toEqual({ base: true, prod: true });
    });

    it('refuses a caller without read access to the path with a real 403', async () => {
      const other = t.withToken((await mintToken(admin, [{ path: 'other/**' }])).raw);
      const res = await render('app/cfg', '{}', 'json', [], {}, other);
      expect(res.status).toBe(403);
      expect(res.json.code).toBe('ERR_FORBIDDEN');
    });
  });

  describe('convert', () => {
    it('converts between json, yaml and toml', async () => {
      const toJson = await admin.post('/api/v1/convert', { content: 'a: 1\nb: [x]\n', from: 'yaml', to: 'json' });
      expect(toJson.status).toBe(200);
      expect(toJson.json).toEqual({ content: '{\n  "a": 1,\n  "b": [\n    "x"\n  ]\n}\n', format: 'json' });
      const toYaml = await admin.post('/api/v1/convert', { content: 'a = 1\n', from: 'toml', to: 'yml' });
      expect(toYaml.json).toEqual({ content: 'a: 1\n', format: 'yaml' });
      const same = await admin.post('/api/v1/convert', { content: '{ "a" : 1 }', from: 'json', to: 'json' });
      expect(same.json.content).toBe('{ "a" : 1 }');
    });

    it('reports syntax and conversion errors as 400s', async () => {
      const syntax = await admin.post('/api/v1/convert', { content: '{"a": }', from: 'json', to: 'yaml' });
      expect(syntax.status).toBe(400);
      expect(syntax.json).toMatchObject({ code: 'ERR_SYNTAX', details: { line: 1, column: 7 } });
      const array = await admin.post('/api/v1/convert', { content: '[1]', from: 'json', to: 'toml' });
      expect(array.status).toBe(400);
      expect(array.json.code).toBe('ERR_CONVERT');
      const unknown = await admin.post('/api/v1/convert', { content: '', from: 'json', to: 'xml' });
      expect(unknown.status).toBe(400);
      expect(unknown.json.code).toBe('ERR_VALIDATION');
    });

    it('needs files.read', async () => {
      const writeOnly = t.withToken((await mintToken(admin, [{ path: 'app/**', operations: ['write'] }])).raw);
      const res = await writeOnly.post('/api/v1/convert', { content: '{}', from: 'json', to: 'yaml' });
      expect(res.status).toBe(403);
      expect(res.json.code).toBe('ERR_FORBIDDEN');
      expect((await t.request({ method: 'POST', url: '/api/v1/convert', body: { content: '{}', from: 'json', to: 'yaml' } })).status).toBe(401);
    });
  });
});
