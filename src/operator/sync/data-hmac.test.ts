import { describe, expect, it } from 'vitest';
import { changedKeys, dataHmac } from './data-hmac.ts';

const m = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [k, Buffer.from(v)]));
const key = Buffer.alloc(32, 7);

describe('dataHmac', () => {
  it('is stable for the same entries in any order and changes with any key or value', () => {
    const base = dataHmac(key, m({ a: '1', b: '2' }));
    expect(dataHmac(key, m({ b: '2', a: '1' }))).toBe(base);
    expect(dataHmac(key, m({ a: '1', b: '3' }))).not.toBe(base);
    expect(dataHmac(key, m({ a: '1', c: '2' }))).not.toBe(base);
    expect(base).toMatch(/^hmac-sha256:[A-Za-z0-9_-]{43}$/);
  });

  it('is keyed, and framed so that shifting bytes between key and value changes it', () => {
    expect(dataHmac(Buffer.alloc(32, 8), m({ a: '1' }))).not.toBe(dataHmac(key, m({ a: '1' })));
    expect(dataHmac(key, m({ ab: 'c' }))).not.toBe(dataHmac(key, m({ a: 'bc' })));
  });
});

describe('changedKeys', () => {
  it('names added, removed and changed keys, sorted', () => {
    expect(changedKeys(m({ a: '1', b: '2', c: '3' }), m({ a: '1', b: 'x', d: '4' }))).toEqual(['b', 'c', 'd']);
    expect(changedKeys(m({}), m({}))).toEqual([]);
  });
});
