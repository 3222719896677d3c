import { describe, expect, it } from 'vitest';
import type { PikaConfigSpec, PikaConfigTarget } from '../../shared/crds/index.ts';
import { desiredData, type FetchedSource, requestedFormat, SourceContentError } from './desired-data.ts';

const spec = (over: Omit<Partial<PikaConfigSpec>, 'target'> & { target?: Partial<PikaConfigTarget> }): PikaConfigSpec => ({
  serverRef: { name: 'main' },
  ...over,
  target: { name: 't', ...over.target },
});
const fetched = (path: string, body: string, requested: string | undefined = 'json', extra: Partial<FetchedSource['source']> = {}): FetchedSource => ({
  source: { path, ...extra },
  requested,
  body: Buffer.from(body),
  contentType: 'application/json',
});
const text = (entries: Map<string, Buffer>) => Object.fromEntries([...entries].map(([k, v]) => [k, v.toString('utf8')]));

describe('requestedFormat', () => {
  it('passes the source format through in single-source file mode, asks for json otherwise', () => {
    expect(requestedFormat(spec({ source: { path: 'a', format: 'yaml' }, target: { key: 'c.yaml' } }), { path: 'a', format: 'yaml' })).toBe('yaml');
    expect(requestedFormat(spec({ source: { path: 'a' }, target: { key: 'c' } }), { path: 'a' })).toBeUndefined();
    expect(requestedFormat(spec({ source: { path: 'a', format: 'yaml' } }), { path: 'a', format: 'yaml' })).toBe('json');
    expect(requestedFormat(spec({ source: { path: 'a' }, target: { key: 'c', format: 'toml' } }), { path: 'a' })).toBe('json');
  });
});

describe('desiredData', () => {
  it('file mode with one source writes the bytes the server rendered, untouched', () => {
    const body = '# comment\nport: 8080 # keep\n';
    const out = desiredData(spec({ source: { path: 'a', format: 'yaml' }, target: { key: 'app.yaml' } }), [fetched('a', body, 'yaml')]);
    expect(text(out.entries)).toEqual({ 'app.yaml': body });
    expect(out.problems).toEqual([]);
  });

  it('map mode: strings as they are, everything else as JSON', () => {
    const out = desiredData(spec({ source: { path: 'a' } }), [fetched('a', '{"s":"x","n":12345678901234,"b":true,"o":{"k":[1,2]},"z":null}')]);
    expect(text(out.entries)).toEqual({ s: 'x', n: '12345678901234', b: 'true', o: '{"k":[1,2]}', z: 'null' });
  });

  it('merges sources in order like inheritance: objects by key, arrays and scalars replaced', () => {
    const out = desiredData(spec({ sources: [{ path: 'base' }, { path: 'over' }] }), [fetched('base', '{"db":{"host":"a","port":1},"list":[1,2],"x":1}'), fetched('over', '{"db":{"host":"b"},"list":[3]}')]);
    expect(text(out.entries)).toEqual({ db: '{"host":"b","port":1}', list: '[3]', x: '1' });
  });

  it('picks keys per source and reports a picked key that is missing by name', () => {
    const out = desiredData(spec({ sources: [{ path: 'a', keys: ['keep', 'gone'] }] }), [fetched('a', '{"keep":1,"drop":2}', 'json', { keys: ['keep', 'gone'] })]);
    expect(text(out.entries)).toEqual({ keep: '1' });
    expect(out.problems).toEqual(['a: key "gone" is not in the document']);
  });

  it('file mode with merged sources serialises to the target format', () => {
    const s = spec({ sources: [{ path: 'a' }, { path: 'b' }], target: { key: 'c.toml', format: 'toml' } });
    const out = desiredData(s, [fetched('a', '{"a":1}'), fetched('b', '{"t":{"b":"x"}}')]);
    expect(text(out.entries)['c.toml']).toBe('a = 1\n\n[t]\nb = "x"\n');
    const yaml = desiredData({ ...s, target: { name: 't', key: 'c.yaml', format: 'yaml' } }, [fetched('a', '{"a":1}')]);
    expect(text(yaml.entries)['c.yaml']).toBe('a: 1\n');
  });

  it('parses yaml and toml bodies when a document is needed', () => {
    const out = desiredData(spec({ sources: [{ path: 'y', format: 'yaml' }, { path: 't', format: 'toml' }] }), [fetched('y', 'a: 1\n', 'yaml'), fetched('t', 'b = 2\n', 'toml')]);
    expect(text(out.entries)).toEqual({ a: '1', b: '2' });
  });

  it('templates: Replace writes only the rendered keys, Merge writes them over the document', () => {
    const doc = fetched('a', '{"db":{"user":"u","host":"h"},"port":5432}');
    const replace = desiredData(spec({ source: { path: 'a' }, target: { template: { data: { url: 'pg://{{ .db.user }}@{{ .db.host }}:{{ .port }}' } } } }), [doc]);
    expect(text(replace.entries)).toEqual({ url: 'pg://u@h:5432' });
    const merge = desiredData(spec({ source: { path: 'a' }, target: { template: { mergePolicy: 'Merge', data: { port: 'p{{ .port }}' } } } }), [doc]);
    expect(text(merge.entries)).toEqual({ db: '{"user":"u","host":"h"}', port: 'p5432' });
  });

  it('a template naming a missing value is left out and reported, never rendered empty', () => {
    const out = desiredData(spec({ source: { path: 'a' }, target: { template: { data: { ok: '{{ .a }}', bad: 'x{{ .nope }}' } } } }), [fetched('a', '{"a":"1"}')]);
    expect(text(out.entries)).toEqual({ ok: '1' });
    expect(out.problems).toEqual(['template.data.bad: .nope is not in the document']);
  });

  it('skips top-level keys that cannot be Secret keys, by name', () => {
    const out = desiredData(spec({ source: { path: 'a' } }), [fetched('a', '{"good":1,"bad key/x":2}')]);
    expect([...out.entries.keys()]).toEqual(['good']);
    expect(out.problems[0]).toContain('"bad key/x"');
  });

  it('refuses a document that is not a mapping or does not parse', () => {
    expect(() => desiredData(spec({ source: { path: 'a' } }), [fetched('a', '[1,2]')])).toThrow(SourceContentError);
    expect(() => desiredData(spec({ source: { path: 'a' } }), [fetched('a', '{broken')])).toThrow(/does not parse as json/);
    expect(() => desiredData(spec({ source: { path: 'a' } }), [fetched('a', 'raw text', 'raw')])).toThrow(/has no keys/);
  });
});
