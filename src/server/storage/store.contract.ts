/**
 * The contract every Store adapter passes (style §4.2.7, after abstract-level's shared suite).
 * Call `runStoreContract(name, open)` from an adapter's test file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, StoreItem } from './store.ts';
import { StoreConflictError } from './store.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

async function collect(iter: AsyncIterable<StoreItem>): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of iter) keys.push(item.key);
  return keys;
}

export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('returns undefined for a missing key and the exact bytes for a present one', async () => {
      expect(await store.get('nope')).toBeUndefined();
      const value = new Uint8Array([0, 1, 2, 255, 0]);
      await store.put('k', value);
      const got = await store.get('k');
      expect(got && Array.from(got.value)).toEqual([0, 1, 2, 255, 0]);
    });

    it('stamps each batch with a new, increasing revision', async () => {
      const r0 = await store.revision();
      const r1 = await store.put('a', bytes('1'));
      const r2 = await store.batch([
        { type: 'put', key: 'b', value: bytes('2') },
        { type: 'put', key: 'c', value: bytes('3') },
      ]);
      expect(r1).toBe(r0 + 1);
      expect(r2).toBe(r1 + 1);
      expect((await store.get('a'))?.revision).toBe(r1);
      expect((await store.get('b'))?.revision).toBe(r2);
      expect((await store.get('c'))?.revision).toBe(r2);
      expect(await store.revision()).toBe(r2);
    });

    it('deletes keys, and deleting a missing key is not an error', async () => {
      await store.put('x', bytes('1'));
      await store.del('x');
      await store.del('never-there');
      expect(await store.get('x')).toBeUndefined();
    });

    it('applies a batch only when every condition holds', async () => {
      const rev = await store.put('guard', bytes('v1'));
      await store.batch([{ type: 'put', key: 'guard', value: bytes('v2') }], [{ key: 'guard', revision: rev }]);
      expect(text((await store.get('guard'))?.value)).toBe('v2');

      const attempt = store.batch(
        [
          { type: 'put', key: 'guard', value: bytes('v3') },
          { type: 'put', key: 'side', value: bytes('effect') },
        ],
        [{ key: 'guard', revision: rev }],
      );
      await expect(attempt).rejects.toBeInstanceOf(StoreConflictError);
      expect(text((await store.get('guard'))?.value)).toBe('v2');
      expect(await store.get('side')).toBeUndefined();
    });

    it('treats revision 0 as "must not exist"', async () => {
      await store.batch([{ type: 'put', key: 'new', value: bytes('1') }], [{ key: 'new', revision: 0 }]);
      await expect(store.batch([{ type: 'put', key: 'new', value: bytes('2') }], [{ key: 'new', revision: 0 }])).rejects.toBeInstanceOf(
        StoreConflictError,
      );
    });

    it('lets exactly one of two racing compare-and-writes win', async () => {
      const rev = await store.put('counter', bytes('0'));
      const results = await Promise.allSettled([
        store.batch([{ type: 'put', key: 'counter', value: bytes('a') }], [{ key: 'counter', revision: rev }]),
        store.batch([{ type: 'put', key: 'counter', value: bytes('b') }], [{ key: 'counter', revision: rev }]),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    });

    it('iterates a prefix in key order, forwards and backwards, with limit and paging', async () => {
      for (const k of ['p/b', 'p/a', 'p/c', 'q/a', 'p', 'o/z']) await store.put(k, bytes(k));
      expect(await collect(store.iterate('p/'))).toEqual(['p/a', 'p/b', 'p/c']);
      expect(await collect(store.iterate('p/', { reverse: true }))).toEqual(['p/c', 'p/b', 'p/a']);
      expect(await collect(store.iterate('p/', { limit: 2 }))).toEqual(['p/a', 'p/b']);
      expect(await collect(store.iterate('p/', { after: 'p/a' }))).toEqual(['p/b', 'p/c']);
      expect(await collect(store.iterate('p/', { reverse: true, after: 'p/c' }))).toEqual(['p/b', 'p/a']);
      expect(await collect(store.iterate('zzz'))).toEqual([]);
    });

    it('keeps prefixes separated by \\x00 apart from longer siblings', async () => {
      await store.put('v/a/b\x00001', bytes('1'));
      await store.put('v/a/bc\x00001', bytes('2'));
      expect(await collect(store.iterate('v/a/b\x00'))).toEqual(['v/a/b\x00001']);
    });

    it('hides its own bookkeeping keys from a full scan and refuses them as user keys', async () => {
      await store.put('only', bytes('1'));
      expect(await collect(store.iterate(''))).toEqual(['only']);
      await expect(store.put('\x00revision', bytes('x'))).rejects.toThrow(/invalid store key/);
      await expect(store.put('', bytes('x'))).rejects.toThrow(/invalid store key/);
    });

    it('yields values with their revisions during iteration', async () => {
      const r = await store.put('it/1', bytes('one'));
      for await (const item of store.iterate('it/')) {
        expect(item.revision).toBe(r);
        expect(text(item.value)).toBe('one');
      }
    });
  });
}
