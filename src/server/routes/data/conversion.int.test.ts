import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseToml } from 'smol-toml';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { mintToken, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

const DOC = { a: 1, b: { c: [1, 2], s: 'x' } };
const STORED: Record<string, string> = {
  json: '{"a": 1, "b": {"c": [1, 2], "s": "x"}}',
  yaml: '# comment\na: 1\nb:\n  c: [1, 2]\n  s: x   # why\n',
  toml: '# comment\na = 1\n\n[b]\nc = [1, 2]\ns = "x"\n',
};
const JSON_OUT = `${JSON.stringify(DOC, null, 2)}\n`;
const YAML_OUT = 'a: 1\nb:\n  c:\n    - 1\n    - 2\n  s: x\n';
const CONTENT_TYPES: Record<string, string> = { json: 'application/json', yaml: 'application/x-yaml', toml: 'application/toml', raw: 'application/octet-stream' };

/** `/data?format=` conversion and Content-Types (SPEC §4 "Formats", seed 000 table). */
describe('/data formats', () => {
  let t: TestApp;
  let admin: Client;
  let data: Client;
  beforeEach(async () => {
    ({ t, admin } = await startWithAdmin());
    data = t.withToken((await mintToken(admin)).raw);
    for (const [format, content] of Object.entries(STORED)) await save(admin, `conv/${format}`, { format, content });
  });
  afterEach(async () => {
    await t.close();
  });

  for (const from of ['json', 'yaml', 'toml']) {
    it(`serves stored ${from} byte for byte, with its Content-Type, when nothing converts it`, async () => {
      for (const query of ['', `?format=${from}`]) {
        const res = await data.get(`/data/conv/${from}${query}`);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe(CONTENT_TYPES[from]);
        expect(res.body).toBe(STORED[from]);
      }
    });

    for (const to of ['json', 'yaml', 'toml']) {
      if (to === from) continue;
      it(`converts stored ${from} to ${to}`, async () => {
        const res = await data.get(`/data/conv/${from}?format=${to}`);
        expect(res.status, res.body).toBe(200);
        expect(res.headers['content-type']).toBe(CONTENT_TYPES[to]);
        if (to === 'json') expect(res.body).toBe(JSON_OUT);
        if (to === 'yaml') expect(res.body).toBe(YAML_OUT);
        if (to === 'toml') expect(parseToml(res.body)).toEqual(DOC);
      });
    }
  }

  it('serves ?format=raw as the stored bytes with application/octet-stream', async () => {
    const res = await data.get('/data/conv/yaml?format=raw');
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.body).toBe(STORED.yaml);
  });

  it('serves a raw file as application/octet-stream and refuses to convert it', async () => {
    await save(admin, 'conv/raw', { format: 'raw', content: 'a: 1\n' });
    const res = await data.get('/data/conv/raw');
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.body).toBe('a: 1\n');
    const json = await data.get('/data/conv/raw?format=json');
    expect(json.status).toBe(400);
    expect(json.json.code).toBe('ERR_CONVERT');
  });

  it('accepts yml as yaml and refuses an unknown format', async () => {
    const yml = await data.get('/data/conv/json?format=yml');
    expect(yml.headers['content-type']).toBe('application/x-yaml');
    expect(yml.body).toBe(YAML_OUT);
    const xml = await data.get('/data/conv/json?format=xml');
    expect(xml.status).toBe(400);
    expect(xml.json.code).toBe('ERR_FORMAT_INVALID');
  });

  it('refuses TOML for a document that is not a table, or holds null', async () => {
    await save(admin, 'conv/array', { content: '[1, 2]' });
    const array = await data.get('/data/conv/array?format=toml');
    expect(array.status).toBe(400);
    expect(array.json.code).toBe('ERR_CONVERT');
    await save(admin, 'conv/scalar', { format: 'yaml', content: 'just text\n' });
    expect((await data.get('/data/conv/scalar?format=toml')).json.code).toBe('ERR_CONVERT');
    await save(admin, 'conv/null', { content: '{"a": null}' });
    expect((await data.get('/data/conv/null?format=toml')).json.code).toBe('ERR_CONVERT');
    // The same documents still convert where the format can hold them.
    expect((await data.get('/data/conv/array?format=yaml')).body).toBe('- 1\n- 2\n');
  });

  it('writes an inherited result in the own format, or the requested one', async () => {
    await save(admin, 'conv/child', { format: 'toml', content: 'own = true\n', inherits: [{ source: 'conv/json' }] });
    const own = await data.get('/data/conv/child');
    expect(own.headers['content-type']).toBe('application/toml');
    expect(parseToml(own.body)).toEqual({ ...DOC, own: true });
    const asJson = await data.get('/data/conv/child?format=json');
    expect(asJson.headers['content-type']).toBe('application/json');
    expect(JSON.parse(asJson.body)).toEqual({ ...DOC, own: true });
  });

  it('ignores Accept: application/octet-stream (ESO) and sends the config as is', async () => {
    const res = await data.get('/data/conv/json', { accept: 'application/octet-stream' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe(STORED.json);
  });
});
