import { describe, expect, it } from 'vitest';
import { deepMerge } from '../../shared/merge.ts';
import { lookupProperty, NumberText, parseDocumentExact, valueAsText, writeJsonExact } from './exact-numbers.ts';
import { parseDocument } from './formats.ts';

describe('parseDocumentExact', () => {
  it('keeps JSON number text that a double would change, and plain numbers otherwise', () => {
    const doc = parseDocumentExact('{"big": 12345678901234567890, "f": 1.10, "e": 1E5, "n": 42, "neg": -0.5, "inf": 2e400}', 'json') as Record<string, unknown>;
    expect(doc.big).toEqual(new NumberText('12345678901234567890'));
    expect(doc.f).toEqual(new NumberText('1.10'));
    expect(doc.e).toEqual(new NumberText('1E5'));
    expect(doc.n).toBe(42);
    expect(doc.neg).toBe(-0.5);
    expect(doc.inf).toEqual(new NumberText('2e400'));
  });

  it('reads JSON exactly like JSON.parse otherwise: escapes, nesting, repeated keys, __proto__', () => {
    const text = ' { "s": "a\\"b\\\\c\\u00e9\\n", "arr": [ [], {}, [1, [2]], true, false, null ], "dup": 1, "dup": 2, "__proto__": {"x": 1} } ';
    const exact = parseDocumentExact(text, 'json');
    expect(exact).toEqual(JSON.parse(text));
    expect(Object.keys(exact as object)).toEqual(Object.keys(JSON.parse(text) as object));
    expect(Object.getPrototypeOf(exact)).toBe(Object.prototype);
    expect(Object.hasOwn(exact as object, '__proto__')).toBe(true);
  });

  it('reports JSON syntax errors like the ordinary parser', () => {
    expect(() => parseDocumentExact('{"a": }', 'json')).toThrow(expect.objectContaining({ code: 'ERR_SYNTAX' }));
  });

  it('keeps YAML numbers written like JSON numbers, and reads other notations by value', () => {
    const doc = parseDocumentExact('big: 12345678901234567890\nprice: 1.10\nhex: 0x1F\ninf: .inf\nn: 7\nquoted: "1.10"\nlist: [1.0, 2]\nref: &a 3.50\nalias: *a\n12345678901234567890: key\n', 'yaml') as Record<string, unknown>;
    expect(doc.big).toEqual(new NumberText('12345678901234567890'));
    expect(doc.price).toEqual(new NumberText('1.10'));
    expect(doc.hex).toBe(31);
    expect(doc.inf).toBe(Infinity);
    expect(doc.n).toBe(7);
    expect(doc.quoted).toBe('1.10');
    expect(doc.list).toEqual([new NumberText('1.0'), 2]);
    expect(doc.alias).toEqual(new NumberText('3.50'));
    // Keys keep the ordinary reading.
    expect(Object.keys(doc)).toContain(Object.keys(parseDocument('12345678901234567890: key\n', 'yaml') as object)[0]);
  });

  it('keeps TOML integers exact (64-bit included) and turns dates into strings', () => {
    const doc = parseDocumentExact('id = 9223372036854775807\nsmall = 1_000\nhex = 0xff\nf = 1.5\nwhen = 1979-05-27T07:32:00Z\n', 'toml') as Record<string, unknown>;
    expect(doc.id).toEqual(new NumberText('9223372036854775807'));
    expect(doc).toMatchObject({ small: 1000, hex: 255, f: 1.5, when: '1979-05-27T07:32:00.000Z' });
  });

  it('leaves exact numbers opaque to the merge used by inheritance', () => {
    const base = parseDocumentExact('{"a": {"n": 12345678901234567890, "m": 1}}', 'json');
    const merged = deepMerge(base, parseDocumentExact('{"a": {"m": 2.50}}', 'json'));
    expect(writeJsonExact(merged)).toBe('{"a":{"n":12345678901234567890,"m":2.50}}');
  });
});

describe('writeJsonExact and valueAsText', () => {
  it('writes compact JSON with number text, and refuses what JSON cannot hold', () => {
    expect(writeJsonExact({ a: [new NumberText('1.0'), 'x', null, true], b: undefined, 'k"': {} })).toBe('{"a":[1.0,"x",null,true],"k\\"":{}}');
    expect(() => writeJsonExact({ x: Infinity })).toThrow(expect.objectContaining({ code: 'ERR_CONVERT' }));
  });

  it('turns every value into the text a Secret gets', () => {
    expect(valueAsText('s')).toBe('s');
    expect(valueAsText(new NumberText('12345678901234567890'))).toBe('12345678901234567890');
    expect(valueAsText(3.25)).toBe('3.25');
    expect(valueAsText(false)).toBe('false');
    expect(valueAsText(null)).toBe('');
    expect(valueAsText({ a: [1, 'b'] })).toBe('{"a":[1,"b"]}');
  });
});

describe('lookupProperty', () => {
  const doc = { db: { host: 'h', 'a.b': { c: 1 } }, 'tls.crt': 'CERT', tls: { key: 'K' }, list: [{ x: 'first' }, 'second'] };

  it('walks dot paths and array indexes', () => {
    expect(lookupProperty(doc, 'db.host')).toEqual({ found: true, value: 'h' });
    expect(lookupProperty(doc, 'list.0.x')).toEqual({ found: true, value: 'first' });
    expect(lookupProperty(doc, 'list.1')).toEqual({ found: true, value: 'second' });
    expect(lookupProperty(doc, 'list.2').found).toBe(false);
    expect(lookupProperty(doc, 'list.01').found).toBe(false);
    expect(lookupProperty(doc, 'db.nope').found).toBe(false);
    expect(lookupProperty(doc, 'db.host.deeper').found).toBe(false);
  });

  it('finds keys that contain dots, longest first, falling back to nesting', () => {
    expect(lookupProperty(doc, 'tls.crt')).toEqual({ found: true, value: 'CERT' });
    expect(lookupProperty(doc, 'tls.key')).toEqual({ found: true, value: 'K' });
    expect(lookupProperty(doc, 'db.a.b.c')).toEqual({ found: true, value: 1 });
  });

  it('never walks into prototypes', () => {
    expect(lookupProperty(doc, 'constructor').found).toBe(false);
    expect(lookupProperty(doc, 'db.toString').found).toBe(false);
    expect(lookupProperty(doc, 'list.length').found).toBe(false);
  });
});
