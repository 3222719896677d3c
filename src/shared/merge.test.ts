import { describe, it, expect } from 'vitest';
import { deepMerge } from './merge.ts';

describe('deepMerge', () => {
  it('merges plain objects recursively', () => {
    const dst = { db: { host: 'a', port: 1 }, name: 'x' };
    const src = { db: { port: 2, user: 'u' }, extra: true };
    expect(deepMerge(dst, src)).toEqual({ db: { host: 'a', port: 2, user: 'u' }, name: 'x', extra: true });
  });

  it('keeps dst key order, then appends new src keys', () => {
    expect(Object.keys(deepMerge({ b: 1, a: 1 }, { c: 1, a: 2 }) as object)).toEqual(['b', 'a', 'c']);
  });

  it('replaces arrays instead of merging them', () => {
    expect(deepMerge({ list: [1, 2, 3] }, { list: [9] })).toEqual({ list: [9] });
    expect(deepMerge([1, 2], [3])).toEqual([3]);
  });

  it('replaces scalars and mismatched types', () => {
    expect(deepMerge({ a: 1 }, { a: 'x' })).toEqual({ a: 'x' });
    expect(deepMerge({ a: { b: 1 } }, { a: 5 })).toEqual({ a: 5 });
    expect(deepMerge({ a: 5 }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
    expect(deepMerge({ a: [1] }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
    expect(deepMerge({ a: { b: 1 } }, { a: [1] })).toEqual({ a: [1] });
    expect(deepMerge(1, 2)).toBe(2);
    expect(deepMerge({ a: 1 }, 'text')).toBe('text');
  });

  it('lets null replace, as an explicit value', () => {
    expect(deepMerge({ a: { b: 1 } }, { a: null })).toEqual({ a: null });
    expect(deepMerge({ a: 1 }, null)).toBeNull();
    expect(deepMerge(null, { a: 1 })).toEqual({ a: 1 });
  });

  it('keeps dst when src is undefined, at any depth', () => {
    const dst = { a: 1 };
    expect(deepMerge(dst, undefined)).toBe(dst);
    expect(deepMerge({ a: 1, b: 2 }, { a: undefined })).toEqual({ a: 1, b: 2 });
    expect(Object.keys(deepMerge({}, { a: undefined }) as object)).toEqual([]);
    expect(deepMerge(undefined, undefined)).toBeUndefined();
  });

  it('never mutates its inputs', () => {
    const dst = { db: { host: 'a' }, list: [1] };
    const src = { db: { port: 2 }, list: [2] };
    const dstCopy = structuredClone(dst);
    const srcCopy = structuredClone(src);
    const out = deepMerge(dst, src) as typeof dst & typeof src;
    expect(dst).toEqual(dstCopy);
    expect(src).toEqual(srcCopy);
    expect(out).not.toBe(dst);
    expect(out.db).not.toBe(dst.db);
    expect(out.db).not.toBe(src.db);
  });

  it('returns a new object even when src replaces a non-object', () => {
    const src = { a: { b: 1 } };
    const out = deepMerge(undefined, src) as typeof src;
    expect(out).toEqual(src);
    expect(out).not.toBe(src);
    expect(out.a).not.toBe(src.a);
  });

  it('returns ordinary objects for null-prototype inputs', () => {
    const dst = Object.assign(Object.create(null) as object, { a: 1 });
    const out = deepMerge(dst, { b: 2 });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out).toEqual({ a: 1, b: 2 });
  });

  it('handles keys that exist on Object.prototype as ordinary data', () => {
    expect(deepMerge({}, { toString: 'x', hasOwnProperty: { a: 1 } })).toEqual({ toString: 'x', hasOwnProperty: { a: 1 } });
  });

  it('does not pollute Object.prototype through __proto__ from JSON.parse', () => {
    const src = JSON.parse('{"__proto__": {"polluted": 1}, "a": {"__proto__": {"polluted": 2}}}') as unknown;
    const out = deepMerge({ a: {} }, src) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(out.a)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['a']);
    expect(out).toEqual({ a: {} });
  });

  it('drops constructor and prototype keys from merged objects', () => {
    const src = JSON.parse('{"constructor": {"prototype": {"polluted": 1}}, "prototype": 1, "ok": 1}') as unknown;
    const out = deepMerge(JSON.parse('{"constructor": 5, "keep": true}'), src) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['keep', 'ok']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('shares untouched dst subtrees', () => {
    const untouched = { deep: [1, 2] };
    const out = deepMerge({ untouched, other: 1 }, { other: 2 }) as { untouched: unknown };
    expect(out.untouched).toBe(untouched);
  });

  it('chains like inheritance does (later wins)', () => {
    const layers = [{ a: 1, n: { x: 1 } }, { b: 2, n: { y: 2 } }, { a: 3, n: { x: 9 } }];
    expect(layers.reduce<unknown>((acc, layer) => deepMerge(acc, layer), {})).toEqual({ a: 3, b: 2, n: { x: 9, y: 2 } });
  });
});
