import { describe, it, expect } from 'vitest';
import { AppError } from '../../shared/errors.ts';
import { getAtPath, injectAt, pickPaths, splitDotPath } from './doc-paths.ts';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('splitDotPath', () => {
  it('splits on dots', () => {
    expect(splitDotPath('a')).toEqual(['a']);
    expect(splitDotPath('a.b.c')).toEqual(['a', 'b', 'c']);
    expect(splitDotPath('services.*.url')).toEqual(['services', '*', 'url']);
    expect(splitDotPath('with space.0')).toEqual(['with space', '0']);
  });

  it.each(['', '.', 'a..b', '.a', 'a.'])('rejects %j', (path) => {
    const err = errorOf(() => splitDotPath(path));
    expect(err.code).toBe('ERR_INHERIT_INVALID');
    expect(err.details).toEqual({ path });
  });
});

describe('getAtPath', () => {
  const doc = { db: { host: 'h', port: 0, tls: null }, servers: [{ host: 'a' }, { host: 'b' }], empty: {} };

  it('finds nested values, including falsy ones', () => {
    expect(getAtPath(doc, 'db.host')).toEqual({ found: true, value: 'h' });
    expect(getAtPath(doc, 'db.port')).toEqual({ found: true, value: 0 });
    expect(getAtPath(doc, 'db.tls')).toEqual({ found: true, value: null });
    expect(getAtPath(doc, 'db')).toEqual({ found: true, value: doc.db });
    expect(getAtPath(doc, 'empty')).toEqual({ found: true, value: {} });
  });

  it('indexes arrays by number', () => {
    expect(getAtPath(doc, 'servers.1.host')).toEqual({ found: true, value: 'b' });
    expect(getAtPath(doc, 'servers.0')).toEqual({ found: true, value: { host: 'a' } });
  });

  it.each(['db.user', 'db.host.x', 'servers.2', 'servers.-1', 'servers.01', 'servers.length', 'servers.x', 'missing.deep'])(
    'does not find %j',
    (path) => {
      expect(getAtPath(doc, path)).toEqual({ found: false });
    },
  );

  it('does not walk into prototypes', () => {
    expect(getAtPath({}, 'constructor')).toEqual({ found: false });
    expect(getAtPath({ a: {} }, 'a.toString')).toEqual({ found: false });
    expect(getAtPath([], 'map')).toEqual({ found: false });
  });

  it('finds a __proto__ key that is data', () => {
    const parsed = JSON.parse('{"__proto__": {"x": 1}}') as unknown;
    expect(getAtPath(parsed, '__proto__.x')).toEqual({ found: true, value: 1 });
  });

  it('does not treat * as a wildcard', () => {
    expect(getAtPath({ a: { b: 1 } }, 'a.*')).toEqual({ found: false });
    expect(getAtPath({ a: { '*': 1 } }, 'a.*')).toEqual({ found: true, value: 1 });
  });

  it('finds nothing inside scalars', () => {
    expect(getAtPath('text', 'length')).toEqual({ found: false });
    expect(getAtPath(null, 'a')).toEqual({ found: false });
  });

  it('rejects an invalid path', () => {
    expect(errorOf(() => getAtPath(doc, 'db..host')).code).toBe('ERR_INHERIT_INVALID');
  });
});

describe('pickPaths', () => {
  const doc = {
    db: { host: 'h', port: 1 },
    services: { a: { url: 'u', x: 1 }, b: { url: 'v' }, c: { other: true } },
    list: [{ id: 1, name: 'one' }, { id: 2 }, { name: 'three' }],
    flag: false,
  };

  it('keeps the example from the spec', () => {
    const input = { db: { host: 'h', port: 1 }, services: { a: { url: 'u', x: 1 }, b: { url: 'v' } } };
    expect(pickPaths(input, ['db.host', 'services.*.url'])).toEqual({
      db: { host: 'h' },
      services: { a: { url: 'u' }, b: { url: 'v' } },
    });
  });

  it('skips branches a wildcard path does not reach', () => {
    expect(pickPaths(doc, ['services.*.url'])).toEqual({ services: { a: { url: 'u' }, b: { url: 'v' } } });
  });

  it('keeps whole subtrees and falsy values', () => {
    expect(pickPaths(doc, ['db', 'flag'])).toEqual({ db: { host: 'h', port: 1 }, flag: false });
  });

  it('silently skips missing paths', () => {
    expect(pickPaths(doc, ['nope', 'db.nope', 'db.host.deeper'])).toEqual({});
    expect(pickPaths(doc, ['nope', 'db.port'])).toEqual({ db: { port: 1 } });
  });

  it('returns {} for no paths', () => {
    expect(pickPaths(doc, [])).toEqual({});
  });

  it('keeps arrays as arrays of picked elements', () => {
    expect(pickPaths(doc, ['list.*.name'])).toEqual({ list: [{ name: 'one' }, { name: 'three' }] });
    expect(pickPaths(doc, ['list.*.id'])).toEqual({ list: [{ id: 1 }, { id: 2 }] });
    expect(pickPaths(doc, ['list.*'])).toEqual({ list: doc.list });
    expect(Array.isArray(pickPaths(doc, ['list.*.id']).list)).toBe(true);
  });

  it('picks array elements by index', () => {
    expect(pickPaths(doc, ['list.1'])).toEqual({ list: [{ id: 2 }] });
    expect(pickPaths(doc, ['list.0.name', 'list.2.name'])).toEqual({ list: [{ name: 'one' }, { name: 'three' }] });
    expect(pickPaths(doc, ['list.9'])).toEqual({});
  });

  it('combines overlapping paths instead of letting one overwrite another', () => {
    expect(pickPaths(doc, ['services.*.url', 'services.a.x'])).toEqual({
      services: { a: { url: 'u', x: 1 }, b: { url: 'v' } },
    });
    expect(pickPaths(doc, ['list.*.id', 'list.*.name'])).toEqual({ list: doc.list });
    expect(pickPaths(doc, ['db.host', 'db'])).toEqual({ db: { host: 'h', port: 1 } });
  });

  it('supports a wildcard at the top level', () => {
    expect(pickPaths({ a: { k: 1, z: 0 }, b: { k: 2 }, c: 3 }, ['*.k'])).toEqual({ a: { k: 1 }, b: { k: 2 } });
  });

  it('does not match a wildcard against a scalar', () => {
    expect(pickPaths({ a: 5 }, ['a.*'])).toEqual({});
  });

  it('returns {} when the document is not an object', () => {
    expect(pickPaths([{ a: 1 }], ['0.a'])).toEqual({});
    expect(pickPaths('text', ['a'])).toEqual({});
    expect(pickPaths(null, ['a'])).toEqual({});
  });

  it('keeps __proto__ keys as data without polluting', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}') as unknown;
    const out = pickPaths(parsed, ['__proto__.polluted', 'a']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects invalid paths', () => {
    expect(errorOf(() => pickPaths(doc, ['db.host', 'a..b'])).code).toBe('ERR_INHERIT_INVALID');
  });

  it('does not mutate the document', () => {
    const copy = structuredClone(doc);
    pickPaths(doc, ['services.*.url', 'list.*.name']);
    expect(doc).toEqual(copy);
  });
});

describe('injectAt', () => {
  it('nests a value under a dot path', () => {
    expect(injectAt({ user: 'u' }, 'database.credentials')).toEqual({ database: { credentials: { user: 'u' } } });
    expect(injectAt(5, 'a')).toEqual({ a: 5 });
    expect(injectAt(null, 'a.b.c')).toEqual({ a: { b: { c: null } } });
  });

  it('creates an own __proto__ key rather than a prototype', () => {
    const out = injectAt({ polluted: 1 }, '__proto__');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
  });

  it('rejects an invalid path', () => {
    expect(errorOf(() => injectAt(1, 'a.')).code).toBe('ERR_INHERIT_INVALID');
    expect(errorOf(() => injectAt(1, '')).code).toBe('ERR_INHERIT_INVALID');
  });
});
