import { describe, expect, it } from 'vitest';
import type { CachedResponse } from '../../services/configs/data-cache.ts';
import { createDataMemo } from './data-memo.ts';

const response = (): CachedResponse => ({ body: Buffer.from('{}'), contentType: 'application/json', etag: '"x"', version: 1, deps: ['a'] });

function setup() {
  let generation = 1;
  let now = 1_000;
  const live = new Set<CachedResponse>();
  const memo = createDataMemo({ generation: () => generation, isLive: (r) => live.has(r), clock: () => now, maxEntries: 3 });
  return {
    memo,
    live,
    bump: () => generation++,
    advance: (ms: number) => (now += ms),
    remember: (auth: string, url: string, r: CachedResponse, expiresAt = Infinity) => { memo.remember(auth, url, { response: r, tokenId: 't', expiresAt, actor: 'token:t', target: 'a' }, generation); },
  };
}

describe('data memo', () => {
  it('answers the same header and URL, and nothing else', () => {
    const s = setup();
    const r = response();
    s.live.add(r);
    s.remember('Bearer A', '/data/a', r);
    expect(s.memo.lookup('Bearer A', '/data/a')?.response).toBe(r);
    expect(s.memo.lookup('Bearer B', '/data/a')).toBeUndefined();
    expect(s.memo.lookup('Bearer A', '/data/a?format=json')).toBeUndefined();
    expect(s.memo.lookup(undefined, '/data/a')).toBeUndefined();
  });

  it('forgets an entry once any identity changes', () => {
    const s = setup();
    const r = response();
    s.live.add(r);
    s.remember('Bearer A', '/data/a', r);
    s.bump();
    expect(s.memo.lookup('Bearer A', '/data/a')).toBeUndefined();
    expect(s.memo.size()).toBe(0);
  });

  it('forgets an entry once its response leaves the data cache', () => {
    const s = setup();
    const r = response();
    s.live.add(r);
    s.remember('Bearer A', '/data/a', r);
    s.live.delete(r);
    expect(s.memo.lookup('Bearer A', '/data/a')).toBeUndefined();
  });

  it('forgets an entry at the token expiry', () => {
    const s = setup();
    const r = response();
    s.live.add(r);
    s.remember('Bearer A', '/data/a', r, 1_500);
    expect(s.memo.lookup('Bearer A', '/data/a')).toBeDefined();
    s.advance(500);
    expect(s.memo.lookup('Bearer A', '/data/a')).toBeUndefined();
  });

  it('never remembers an uncached response, a result computed across an identity change, or beyond its size', () => {
    const s = setup();
    const uncached = response();
    s.remember('Bearer A', '/data/a', uncached);
    expect(s.memo.size()).toBe(0);

    const r = response();
    s.live.add(r);
    s.memo.remember('Bearer A', '/data/a', { response: r, tokenId: 't', expiresAt: Infinity, actor: 'a', target: 'a' }, 0);
    expect(s.memo.lookup('Bearer A', '/data/a')).toBeUndefined();

    for (const n of [1, 2, 3, 4]) s.remember(`Bearer ${n}`, '/data/a', r);
    expect(s.memo.size()).toBeLessThanOrEqual(3);
  });
});
