import { describe, it, expect } from 'vitest';
import { AppError } from '../../shared/errors.ts';
import { parseJson, parseToml, parseYaml } from './parse-text.ts';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('parseJson', () => {
  it('parses', () => {
    expect(parseJson('{"a":[1,"x",null,true]}')).toEqual({ a: [1, 'x', null, true] });
    expect(parseJson(' 3 ')).toBe(3);
  });

  it.each([
    ['{"a":1,}', 1, 8],
    ['{\n  "a": 1,\n}', 3, 1],
    ['[1,2', 1, 5],
    ['{"a":1} x', 1, 9],
    ['"abc', 1, 5],
  ])('points at the error in %j (line %i, column %i)', (text, line, column) => {
    const err = errorOf(() => parseJson(text));
    expect(err.code).toBe('ERR_SYNTAX');
    expect(err.details).toMatchObject({ format: 'json', line, column });
    expect(err.message).toMatch(new RegExp(`^json syntax error at line ${line}, column ${column}: \\S`));
  });

  it('treats empty input as a syntax error at its end', () => {
    expect(errorOf(() => parseJson('')).details).toMatchObject({ line: 1, column: 1 });
    expect(errorOf(() => parseJson('  \n ')).details).toMatchObject({ line: 2, column: 2 });
  });
});

describe('parseYaml', () => {
  it('keeps dates and timestamps as strings (core schema)', () => {
    expect(parseYaml('d: 2024-01-02\nt: 2024-01-02T10:00:00Z\n')).toEqual({ d: '2024-01-02', t: '2024-01-02T10:00:00Z' });
  });

  it('keeps YAML 1.1 booleans as strings', () => {
    expect(parseYaml('a: yes\nb: on\nc: true')).toEqual({ a: 'yes', b: 'on', c: true });
  });

  it('does not turn explicit !!timestamp, !!binary or !!set into non-JSON objects', () => {
    expect(parseYaml('a: !!binary aGVsbG8=\nb: !!set {x}\nc: !!timestamp 2001-12-14\nd: !custom v')).toEqual({
      a: 'aGVsbG8=',
      b: { x: null },
      c: '2001-12-14',
      d: 'v',
    });
  });

  it('parses .inf and .nan as numbers', () => {
    const doc = parseYaml('a: .inf\nb: -.inf\nc: .nan') as Record<string, number>;
    expect(doc.a).toBe(Infinity);
    expect(doc.b).toBe(-Infinity);
    expect(doc.c).toBeNaN();
  });

  it('gives null for an empty document or one with only comments', () => {
    expect(parseYaml('')).toBeNull();
    expect(parseYaml('# nothing\n')).toBeNull();
    expect(parseYaml('---\n')).toBeNull();
  });

  it('expands aliases', () => {
    expect(parseYaml('base: &b {x: 1}\nother: *b')).toEqual({ base: { x: 1 }, other: { x: 1 } });
  });

  it('rejects a multi-document stream', () => {
    const err = errorOf(() => parseYaml('a: 1\n---\nb: 2\n'));
    expect(err.code).toBe('ERR_SYNTAX');
    expect(err.details).toMatchObject({ format: 'yaml', line: 2, column: 1 });
    expect(err.message).toContain('multiple documents');
  });

  it('rejects duplicate keys', () => {
    const err = errorOf(() => parseYaml('a: 1\nb: 2\na: 3'));
    expect(err.message).toBe('yaml syntax error at line 3, column 1: Map keys must be unique');
  });

  it('reports ordinary syntax errors with a position', () => {
    expect(errorOf(() => parseYaml('a: "x')).details).toMatchObject({ line: 1, column: 6 });
    expect(errorOf(() => parseYaml('a: b: c')).details).toMatchObject({ line: 1, column: 4 });
  });

  it('rejects an alias to an unknown anchor at the alias', () => {
    const err = errorOf(() => parseYaml('x: 1\na: *nope'));
    expect(err.code).toBe('ERR_SYNTAX');
    expect(err.details).toMatchObject({ line: 2, column: 4, reason: 'unknown alias *nope' });
  });

  it('rejects a recursive alias, which would make a cyclic value', () => {
    const err = errorOf(() => parseYaml('a: &x\n  - 1\n  - *x\n'));
    expect(err.code).toBe('ERR_SYNTAX');
    expect(err.details).toMatchObject({ line: 3, column: 5 });
  });

  it('rejects alias bombs', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    expect(errorOf(() => parseYaml(lines.join('\n'))).code).toBe('ERR_SYNTAX');
  });

  it('keeps a __proto__ key as data', () => {
    const doc = parseYaml('__proto__: {polluted: true}') as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseToml', () => {
  it('parses into ordinary objects', () => {
    const doc = parseToml('a = 1\n[t]\nb = "x"\n[[list]]\nc = true\n');
    expect(doc).toEqual({ a: 1, t: { b: 'x' }, list: [{ c: true }] });
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect(Object.getPrototypeOf((doc as { t: object }).t)).toBe(Object.prototype);
  });

  it('gives {} for an empty document', () => {
    expect(parseToml('')).toEqual({});
    expect(parseToml('# only a comment\n')).toEqual({});
  });

  it('turns dates and times into ISO strings', () => {
    expect(parseToml('d = 2024-01-02\nt = 07:32:00\nldt = 1979-05-27T07:32:00\nodt = 1979-05-27T07:32:00Z')).toEqual({
      d: '2024-01-02',
      t: '07:32:00.000',
      ldt: '1979-05-27T07:32:00.000',
      odt: '1979-05-27T07:32:00.000Z',
    });
  });

  it('accepts 64-bit integers, as (rounded) numbers', () => {
    expect(parseToml('big = 9223372036854775807\nsmall = 5')).toEqual({ big: 2 ** 63, small: 5 });
  });

  it('reports syntax errors with line and column', () => {
    const err = errorOf(() => parseToml('a = 1\nb = '));
    expect(err.message).toBe('toml syntax error at line 2, column 5: invalid value');
    expect(err.details).toEqual({ format: 'toml', line: 2, column: 5, reason: 'invalid value' });
  });

  it('rejects redefined keys', () => {
    expect(errorOf(() => parseToml('a = 1\na = 2')).details).toMatchObject({ line: 2, column: 1 });
  });
});
