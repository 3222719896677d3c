import { describe, it, expect } from 'vitest';
import { TomlDate } from 'smol-toml';
import { isPlainObject, setOwn, toPlainValue } from './plain-value.ts';

describe('isPlainObject', () => {
  it('accepts object literals and null-prototype objects', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject(JSON.parse('{"a":1}'))).toBe(true);
  });

  it.each([null, undefined, [], 1, 'x', new Date(0), new Map()])('rejects %o', (value) => {
    expect(isPlainObject(value)).toBe(false);
  });

  it('rejects class instances', () => {
    class Thing {
      readonly x = 1;
    }
    expect(isPlainObject(new Thing())).toBe(false);
  });
});

describe('setOwn', () => {
  it('creates an own __proto__ member instead of changing the prototype', () => {
    const target: Record<string, unknown> = {};
    setOwn(target, '__proto__', { polluted: true });
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(Object.keys(target)).toEqual(['__proto__']);
    expect(JSON.stringify(target)).toBe('{"__proto__":{"polluted":true}}');
  });
});

describe('toPlainValue', () => {
  it('turns null-prototype objects into ordinary ones, deeply', () => {
    const inner = Object.assign(Object.create(null) as object, { b: 1 });
    const outer = Object.assign(Object.create(null) as object, { a: inner, list: [inner] });
    const plain = toPlainValue(outer) as { a: object; list: object[] };
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(plain.a)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(plain.list[0])).toBe(Object.prototype);
    expect(plain).toEqual({ a: { b: 1 }, list: [{ b: 1 }] });
  });

  it('turns TOML dates and times into their ISO strings', () => {
    expect(toPlainValue(new TomlDate('1979-05-27'))).toBe('1979-05-27');
    expect(toPlainValue(new TomlDate('07:32:00'))).toBe('07:32:00.000');
    expect(toPlainValue(new TomlDate('1979-05-27T07:32:00'))).toBe('1979-05-27T07:32:00.000');
    expect(toPlainValue(new TomlDate('1979-05-27T07:32:00-08:00'))).toBe('1979-05-27T07:32:00.000-08:00');
    expect(toPlainValue(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
  });

  it('turns bigints into numbers (rounding like JSON.parse does)', () => {
    expect(toPlainValue(12n)).toBe(12);
    expect(toPlainValue(9223372036854775807n)).toBe(2 ** 63);
  });

  it('keeps scalars, NaN and infinities as they are', () => {
    for (const value of ['s', 1.5, true, null, Infinity, -Infinity]) expect(toPlainValue(value)).toBe(value);
    expect(toPlainValue(NaN)).toBeNaN();
  });

  it('keeps a __proto__ key as data without polluting anything', () => {
    const source = Object.create(null) as Record<string, unknown>;
    setOwn(source, '__proto__', { polluted: true });
    const plain = toPlainValue(source) as Record<string, unknown>;
    expect(Object.keys(plain)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not share containers with its input', () => {
    const input = { a: { b: [1] } };
    const plain = toPlainValue(input) as typeof input;
    expect(plain).toEqual(input);
    expect(plain.a).not.toBe(input.a);
    expect(plain.a.b).not.toBe(input.a.b);
  });
});
