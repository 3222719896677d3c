import { describe, it, expect } from 'vitest';
import { AppError } from '../../shared/errors.ts';
import { assertSerializable } from './serializable.ts';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('assertSerializable', () => {
  it('accepts ordinary documents in every format', () => {
    const doc = { a: 1, b: 'x', c: [true, { d: 2.5 }], e: {} };
    for (const format of ['json', 'yaml', 'toml'] as const) expect(() => { assertSerializable(doc, format); }).not.toThrow();
  });

  it('accepts shared (non-cyclic) subtrees', () => {
    const shared = { x: 1 };
    expect(() => { assertSerializable({ a: shared, b: shared, c: [shared, shared] }, 'json'); }).not.toThrow();
  });

  it('rejects a missing value', () => {
    expect(errorOf(() => { assertSerializable(undefined, 'yaml'); }).code).toBe('ERR_CONVERT');
  });

  it('rejects cycles, naming where', () => {
    const a: Record<string, unknown> = { b: { c: [] as unknown[] } };
    ((a.b as Record<string, unknown>).c as unknown[]).push(a);
    const err = errorOf(() => { assertSerializable(a, 'yaml'); });
    expect(err.code).toBe('ERR_CONVERT');
    expect(err.message).toBe('the value contains a cycle (at "b.c.0")');
    expect(err.details).toEqual({ path: 'b.c.0' });
  });

  describe('json', () => {
    it.each([NaN, Infinity, -Infinity])('rejects %d instead of writing null', (n) => {
      const err = errorOf(() => { assertSerializable({ limits: { max: n } }, 'json'); });
      expect(err.code).toBe('ERR_CONVERT');
      expect(err.message).toBe(`JSON cannot hold ${n} (at "limits.max")`);
    });

    it('rejects bigints and functions', () => {
      expect(errorOf(() => { assertSerializable({ a: [1n] }, 'json'); }).message).toContain('"a.0"');
      expect(errorOf(() => { assertSerializable({ f: () => 1 }, 'json'); }).message).toContain('function');
    });

    it('allows null and skips undefined members', () => {
      expect(() => { assertSerializable({ a: null, b: undefined, c: [null] }, 'json'); }).not.toThrow();
    });

    it('names the top level', () => {
      expect(errorOf(() => { assertSerializable(NaN, 'json'); }).message).toBe('JSON cannot hold NaN (at the top level)');
    });
  });

  describe('yaml', () => {
    it('allows everything YAML can write', () => {
      expect(() => { assertSerializable({ a: NaN, b: -Infinity, c: 10n, d: null, e: undefined }, 'yaml'); }).not.toThrow();
      expect(() => { assertSerializable(null, 'yaml'); }).not.toThrow();
      expect(() => { assertSerializable([1, 'x'], 'yaml'); }).not.toThrow();
    });

    it('rejects symbols', () => {
      expect(errorOf(() => { assertSerializable({ s: Symbol('x') }, 'yaml'); }).message).toContain('symbol');
    });
  });

  describe('toml', () => {
    it.each([[[1]], ['x'], [null], [3]])('needs a table at the top level, not %j', (value) => {
      const err = errorOf(() => { assertSerializable(value, 'toml'); });
      expect(err.code).toBe('ERR_CONVERT');
      expect(err.message).toBe('TOML needs a table at the top level');
    });

    it('rejects null members, naming the key path', () => {
      const err = errorOf(() => { assertSerializable({ db: { pool: { max: null } } }, 'toml'); });
      expect(err.message).toBe('TOML cannot hold null (at "db.pool.max")');
      expect(err.details).toEqual({ path: 'db.pool.max' });
    });

    it('rejects null and undefined array elements', () => {
      expect(errorOf(() => { assertSerializable({ list: [1, null] }, 'toml'); }).message).toContain('"list.1"');
      expect(errorOf(() => { assertSerializable({ list: [undefined] }, 'toml'); }).message).toContain('"list.0"');
    });

    it('allows NaN, infinities, bigints and undefined members', () => {
      expect(() => { assertSerializable({ a: NaN, b: Infinity, c: 1n, d: undefined }, 'toml'); }).not.toThrow();
    });
  });
});
