import { describe, it, expect } from 'vitest';
import { parse as parseTomlText } from 'smol-toml';
import { parse as parseYamlText } from 'yaml';
import { AppError } from '../../shared/errors.ts';
import {
  FORMATS,
  contentTypeOf,
  convertContent,
  parseDocument,
  parseFormat,
  serializeDocument,
  validateSyntax,
} from './formats.ts';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('parseFormat', () => {
  it.each([
    ['json', 'json'],
    ['JSON', 'json'],
    ['yaml', 'yaml'],
    ['yml', 'yaml'],
    ['YML', 'yaml'],
    ['toml', 'toml'],
    ['Toml', 'toml'],
    ['raw', 'raw'],
    ['text', 'raw'],
    ['TXT', 'raw'],
    [' json ', 'json'],
  ])('reads %j as %s', (raw, format) => {
    expect(parseFormat(raw)).toBe(format);
  });

  it.each(['', 'xml', 'ini', 'constructor', '__proto__', 'toString'])('rejects %j', (raw) => {
    const err = errorOf(() => parseFormat(raw));
    expect(err.code).toBe('ERR_FORMAT_INVALID');
    expect(err.status).toBe(400);
  });

  it('lists every format', () => {
    expect(FORMATS).toEqual(['json', 'yaml', 'toml', 'raw']);
  });
});

describe('contentTypeOf', () => {
  it('maps each format', () => {
    expect(contentTypeOf('json')).toBe('application/json');
    expect(contentTypeOf('yaml')).toBe('application/x-yaml');
    expect(contentTypeOf('toml')).toBe('application/toml');
    expect(contentTypeOf('raw')).toBe('application/octet-stream');
  });
});

describe('parseDocument', () => {
  it('parses each structured format into the same value', () => {
    const expected = { name: 'app', port: 8080, tags: ['a', 'b'], db: { host: 'h', tls: true } };
    expect(parseDocument('{"name":"app","port":8080,"tags":["a","b"],"db":{"host":"h","tls":true}}', 'json')).toEqual(expected);
    expect(parseDocument('name: app\nport: 8080\ntags: [a, b]\ndb:\n  host: h\n  tls: true\n', 'yaml')).toEqual(expected);
    expect(parseDocument('name = "app"\nport = 8080\ntags = ["a", "b"]\n[db]\nhost = "h"\ntls = true\n', 'toml')).toEqual(expected);
  });

  it('handles empty documents per format', () => {
    expect(errorOf(() => parseDocument('', 'json')).code).toBe('ERR_SYNTAX');
    expect(parseDocument('', 'yaml')).toBeNull();
    expect(parseDocument('', 'toml')).toEqual({});
  });

  it('throws ERR_SYNTAX with format, line and column', () => {
    for (const [text, format] of [['{', 'json'], ['a: [', 'yaml'], ['a =', 'toml']] as const) {
      const err = errorOf(() => parseDocument(text, format));
      expect(err.code).toBe('ERR_SYNTAX');
      expect(err.details).toMatchObject({ format, line: 1 });
      expect(err.message).toMatch(new RegExp(`^${format} syntax error at line 1, column \\d+: .+`));
    }
  });
});

describe('serializeDocument', () => {
  const doc = { name: 'app', port: 8080, nested: { list: [1, 2], flag: false } };

  it('writes JSON with two-space indent and a final newline', () => {
    expect(serializeDocument(doc, 'json')).toBe(`${JSON.stringify(doc, null, 2)}\n`);
    expect(serializeDocument(null, 'json')).toBe('null\n');
  });

  it('writes YAML that reads back to the same value', () => {
    const text = serializeDocument(doc, 'yaml');
    expect(text).toBe('name: app\nport: 8080\nnested:\n  list:\n    - 1\n    - 2\n  flag: false\n');
    expect(parseYamlText(text)).toEqual(doc);
  });

  it('quotes strings that YAML 1.1 readers would misread', () => {
    const value = { a: 'yes', b: 'on', c: '2024-01-02', d: 'null', e: '1.0' };
    const text = serializeDocument(value, 'yaml');
    expect(text).toContain('a: "yes"');
    expect(text).toContain('c: "2024-01-02"');
    expect(parseYamlText(text)).toEqual(value);
  });

  it('writes shared subtrees out in YAML instead of using anchors', () => {
    const shared = { x: 1 };
    expect(serializeDocument({ a: shared, b: shared }, 'yaml')).toBe('a:\n  x: 1\nb:\n  x: 1\n');
  });

  it('does not fold long YAML strings', () => {
    const long = 'word '.repeat(40).trim();
    expect(serializeDocument({ long }, 'yaml')).toBe(`long: ${long}\n`);
  });

  it('writes TOML that reads back to the same value', () => {
    const text = serializeDocument(doc, 'toml');
    expect(parseTomlText(text)).toEqual(doc);
  });

  it.each([[[1, 2]], ['x'], [null], [42]])('refuses TOML for a non-table top level %j', (value) => {
    const err = errorOf(() => serializeDocument(value, 'toml'));
    expect(err.code).toBe('ERR_CONVERT');
    expect(err.message).toBe('TOML needs a table at the top level');
  });

  it('refuses TOML for a null, naming its key path', () => {
    const err = errorOf(() => serializeDocument({ a: { b: null } }, 'toml'));
    expect(err.code).toBe('ERR_CONVERT');
    expect(err.message).toContain('"a.b"');
  });

  it('refuses JSON for non-finite numbers instead of writing null', () => {
    expect(errorOf(() => serializeDocument({ a: Infinity }, 'json')).code).toBe('ERR_CONVERT');
  });

  it('writes non-finite numbers where the format has them', () => {
    expect(serializeDocument({ a: Infinity, b: NaN }, 'yaml')).toBe('a: .inf\nb: .nan\n');
    expect(serializeDocument({ a: -Infinity, b: NaN }, 'toml')).toBe('a = -inf\nb = nan\n');
  });

  it('wraps a stringifier failure in ERR_CONVERT', () => {
    class Hostile {
      toJSON(): never {
        throw new Error('toJSON exploded');
      }
    }
    const err = errorOf(() => serializeDocument({ a: new Hostile() }, 'json'));
    expect(err.code).toBe('ERR_CONVERT');
    expect(err.message).toBe('cannot write json: toJSON exploded');
    expect(err.details).toEqual({ format: 'json', reason: 'toJSON exploded' });
  });

  it('wraps any other failure while walking the value in ERR_CONVERT', () => {
    const hostile = {
      get boom(): never {
        throw new Error('getter exploded');
      },
    };
    expect(errorOf(() => serializeDocument(hostile, 'yaml')).code).toBe('ERR_CONVERT');
  });
});

describe('convertContent', () => {
  it('returns the exact text for the same format, even if it does not parse', () => {
    const text = '{ "b":1,   "a" : 2 }';
    expect(convertContent(text, 'json', 'json')).toBe(text);
    expect(convertContent('not: [valid', 'yaml', 'yaml')).toBe('not: [valid');
    expect(convertContent('\x00bytes', 'raw', 'raw')).toBe('\x00bytes');
  });

  it('refuses to convert raw content', () => {
    for (const to of ['json', 'yaml', 'toml'] as const) {
      const err = errorOf(() => convertContent('a: 1', 'raw', to));
      expect(err.code).toBe('ERR_CONVERT');
      expect(err.message).toBe('raw content cannot be converted');
    }
  });

  it('returns the text unchanged when converting to raw', () => {
    expect(convertContent('a: 1 # comment', 'yaml', 'raw')).toBe('a: 1 # comment');
    expect(convertContent('{broken', 'json', 'raw')).toBe('{broken');
  });

  it('converts between structured formats', () => {
    expect(convertContent('{"a":{"b":[1,2]}}', 'json', 'yaml')).toBe('a:\n  b:\n    - 1\n    - 2\n');
    expect(convertContent('a:\n  b: x\n', 'yaml', 'json')).toBe('{\n  "a": {\n    "b": "x"\n  }\n}\n');
    expect(convertContent('[a]\nb = 1\n', 'toml', 'json')).toBe('{\n  "a": {\n    "b": 1\n  }\n}\n');
    expect(parseTomlText(convertContent('{"a":{"b":"x"},"c":1}', 'json', 'toml'))).toEqual({ a: { b: 'x' }, c: 1 });
  });

  it('turns TOML dates into strings when converting', () => {
    expect(convertContent('d = 2024-01-02', 'toml', 'json')).toBe('{\n  "d": "2024-01-02"\n}\n');
  });

  it('reports syntax errors of the source format', () => {
    expect(errorOf(() => convertContent('{', 'json', 'yaml')).code).toBe('ERR_SYNTAX');
  });

  it('reports values the target cannot hold', () => {
    expect(errorOf(() => convertContent('[1, 2]', 'json', 'toml')).code).toBe('ERR_CONVERT');
    expect(errorOf(() => convertContent('{"a": null}', 'json', 'toml')).code).toBe('ERR_CONVERT');
    expect(errorOf(() => convertContent('a: .inf', 'yaml', 'json')).code).toBe('ERR_CONVERT');
  });
});

describe('validateSyntax', () => {
  it('accepts anything as raw', () => {
    expect(() => { validateSyntax('{{{ not anything', 'raw'); }).not.toThrow();
  });

  it('accepts valid and rejects invalid structured content', () => {
    expect(() => { validateSyntax('{"a":1}', 'json'); }).not.toThrow();
    expect(() => { validateSyntax('a: 1', 'yaml'); }).not.toThrow();
    expect(() => { validateSyntax('a = 1', 'toml'); }).not.toThrow();
    expect(errorOf(() => { validateSyntax('{"a":1', 'json'); }).code).toBe('ERR_SYNTAX');
    expect(errorOf(() => { validateSyntax('a: 1\na: 2', 'yaml'); }).code).toBe('ERR_SYNTAX');
    expect(errorOf(() => { validateSyntax('a = ', 'toml'); }).code).toBe('ERR_SYNTAX');
  });
});
