import { describe, expect, it } from 'vitest';
import { type CachedResponse, createDataCache } from './data-cache.ts';

function response(body: string, deps: string[]): CachedResponse {
  return { body: Buffer.from(body), contentType: 'application/json', etag: '"x"', version: 1, deps };
}

describe('data cache', () => {
  it('drops every entry built from a config when that config changes', () => {
    const cache = createDataCache({ maxEntries: 10, maxBytes: 1000 });
    cache.set('a', response('1', ['a', 'shared']), cache.mark());
    cache.set('b', response('2', ['b', 'shared']), cache.mark());
    cache.set('c', response('3', ['c']), cache.mark());
    cache.invalidate('shared');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')?.body.toString()).toBe('3');
  });

  it('skips storing a response computed across a write', () => {
    const cache = createDataCache({ maxEntries: 10, maxBytes: 1000 });
    const mark = cache.mark();
    cache.invalidate('unrelated');
    cache.set('a', response('1', ['a']), mark);
    expect(cache.get('a')).toBeUndefined();
  });

  it('evicts the least recently used entry and forgets its index entries', () => {
    const cache = createDataCache({ maxEntries: 2, maxBytes: 1000 });
    cache.set('a', response('1', ['a', 'only-a']), cache.mark());
    cache.set('b', response('2', ['b']), cache.mark());
    cache.get('a');
    cache.set('c', response('3', ['c']), cache.mark());
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.stats()).toEqual({ entries: 2, bytes: 2, deps: 3 });
    cache.set('d', response('4', ['d']), cache.mark());
    cache.set('e', response('5', ['e']), cache.mark());
    expect(cache.stats()).toEqual({ entries: 2, bytes: 2, deps: 2 });
  });

  it('keeps within the byte budget and refuses bodies over a quarter of it', () => {
    const cache = createDataCache({ maxEntries: 100, maxBytes: 40 });
    cache.set('big', response('x'.repeat(11), ['big']), cache.mark());
    expect(cache.get('big')).toBeUndefined();
    for (const key of ['a', 'b', 'c', 'd', 'e']) cache.set(key, response('y'.repeat(10), [key]), cache.mark());
    expect(cache.stats()).toEqual({ entries: 4, bytes: 40, deps: 4 });
    expect(cache.get('a')).toBeUndefined();
  });
});
