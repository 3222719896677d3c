import { describe, expect, it } from 'vitest';
import { openMemoryStore } from '../storage/level-store.ts';
import type { Store } from '../storage/store.ts';
import { envelopeKeyId } from './envelope.ts';
import { createKeyManager, type Resealer, type SealingKeys } from './key-manager.ts';

const cost = { N: 2 ** 10, r: 8, p: 1 };
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A tiny owner of sealed values, stored as `secret/<name>`: plaintext before init, envelopes after. */
function secretsOwner(store: Store, options: { failOnce?: boolean } = {}) {
  let failOnce = options.failOnce ?? false;
  const resealer: Resealer = {
    name: 'test-secrets',
    async reseal(keys: SealingKeys) {
      let changed = 0;
      for await (const item of store.iterate('secret/')) {
        if (failOnce) {
          failOnce = false;
          throw new Error('simulated crash during re-sealing');
        }
        const raw = JSON.parse(dec(item.value)) as { plain?: string; sealed?: string };
        if (raw.sealed !== undefined && keys.isCurrent(Buffer.from(raw.sealed, 'base64'))) continue;
        const plaintext = raw.plain !== undefined ? enc(raw.plain) : keys.open(Buffer.from(raw.sealed ?? '', 'base64'), 'test');
        await store.put(item.key, enc(JSON.stringify({ sealed: Buffer.from(keys.seal(plaintext, 'test')).toString('base64') })));
        changed++;
      }
      return changed;
    },
  };
  return {
    resealer,
    async read(name: string, keys: SealingKeys | undefined): Promise<string> {
      const raw = JSON.parse(dec((await store.get(`secret/${name}`))!.value)) as { plain?: string; sealed?: string };
      if (raw.plain !== undefined) return raw.plain;
      if (!keys) throw new Error('locked');
      return dec(keys.open(Buffer.from(raw.sealed!, 'base64'), 'test'));
    },
    async keyIds(): Promise<string[]> {
      const ids: string[] = [];
      for await (const item of store.iterate('secret/')) {
        const raw = JSON.parse(dec(item.value)) as { sealed?: string };
        ids.push(raw.sealed === undefined ? 'plain' : envelopeKeyId(Buffer.from(raw.sealed, 'base64')));
      }
      return ids;
    },
  };
}

async function setup(options: { failOnce?: boolean } = {}) {
  const store = await openMemoryStore();
  const owner = secretsOwner(store, options);
  const manager = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [owner.resealer] });
  await manager.load();
  return { store, owner, manager };
}

describe('key manager', () => {
  it('starts uninitialized, then initialize seals existing plaintext secrets and stays unlocked', async () => {
    const { store, owner, manager } = await setup();
    await store.put('secret/a', enc(JSON.stringify({ plain: 'hunter2' })));
    expect(manager.status()).toEqual({ initialized: false, unlocked: false });
    expect(manager.state()).toBe('uninitialized');
    await manager.initialize('correct horse battery staple');
    expect(manager.status()).toEqual({ initialized: true, unlocked: true });
    expect((await owner.keyIds())[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(await owner.read('a', manager.readKeys())).toBe('hunter2');
    await expect(manager.initialize('again')).rejects.toMatchObject({ code: 'ERR_KEY_ALREADY_INITIALIZED' });
  });

  it('never stores the passphrase or anything equal to it', async () => {
    const { store, manager } = await setup();
    await manager.initialize('a-very-distinct-passphrase');
    for await (const item of store.iterate('')) expect(dec(item.value)).not.toContain('a-very-distinct-passphrase');
  });

  it('locks on restart, refuses a wrong key with 403 and opens with the right one', async () => {
    const { store, owner, manager } = await setup();
    await store.put('secret/a', enc(JSON.stringify({ plain: 's3cret' })));
    await manager.initialize('right key');
    const restarted = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [owner.resealer] });
    await restarted.load();
    expect(restarted.status()).toEqual({ initialized: true, unlocked: false });
    expect(restarted.readKeys()).toBeUndefined();
    await expect(restarted.withKeys(async () => 1)).rejects.toMatchObject({ code: 'server_locked' });
    await expect(restarted.unlock('wrong key')).rejects.toMatchObject({ code: 'ERR_KEY_WRONG', status: 403 });
    await restarted.unlock('right key');
    expect(await owner.read('a', restarted.readKeys())).toBe('s3cret');
    await restarted.lock();
    expect(restarted.state()).toBe('locked');
  });

  it('rotates: the new passphrase works, the old one not, every value moves to the new key', async () => {
    const { store, owner, manager } = await setup();
    for (const n of ['a', 'b', 'c']) await store.put(`secret/${n}`, enc(JSON.stringify({ plain: `value-${n}` })));
    await manager.initialize('old passphrase');
    const before = await owner.keyIds();
    await expect(manager.rotate('not it', 'new passphrase')).rejects.toMatchObject({ code: 'ERR_KEY_WRONG' });
    await manager.rotate('old passphrase', 'new passphrase');
    const after = await owner.keyIds();
    expect(new Set(after).size).toBe(1);
    expect(after[0]).not.toBe(before[0]);
    const restarted = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [owner.resealer] });
    await restarted.load();
    await expect(restarted.unlock('old passphrase')).rejects.toMatchObject({ code: 'ERR_KEY_WRONG' });
    await restarted.unlock('new passphrase');
    for (const n of ['a', 'b', 'c']) expect(await owner.read(n, restarted.readKeys())).toBe(`value-${n}`);
  });

  it('finishes an interrupted rotation on the next unlock without losing a secret', async () => {
    const { store, owner, manager } = await setup({ failOnce: false });
    for (const n of ['a', 'b']) await store.put(`secret/${n}`, enc(JSON.stringify({ plain: `value-${n}` })));
    await manager.initialize('old');
    const oldId = (await owner.keyIds())[0];

    // A process whose re-sealing dies right after the new keyring (the verifier) was written.
    const crashing = secretsOwner(store, { failOnce: true });
    const doomed = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [crashing.resealer] });
    await doomed.load();
    await expect(doomed.rotate('old', 'new')).rejects.toMatchObject({ code: 'ERR_KEY_ROTATION_FAILED' });
    expect(await owner.keyIds()).toEqual([oldId, oldId]); // nothing moved yet

    // The next process: the old passphrase no longer opens anything; the new one finishes the job.
    const next = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [owner.resealer] });
    await next.load();
    await expect(next.unlock('old')).rejects.toMatchObject({ code: 'ERR_KEY_WRONG' });
    await next.unlock('new');
    const ids = await owner.keyIds();
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).not.toBe(oldId);
    for (const n of ['a', 'b']) expect(await owner.read(n, next.readKeys())).toBe(`value-${n}`);

    // The keyring no longer carries the old key: a third process needs only the new passphrase.
    const third = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [] });
    await third.load();
    await third.unlock('new');
    expect(await owner.read('a', third.readKeys())).toBe('value-a');
  });

  it('finishes an interrupted rotation on the next rotation too', async () => {
    const { store, owner } = await setup();
    await store.put('secret/a', enc(JSON.stringify({ plain: 'v' })));
    const crashing = secretsOwner(store, { failOnce: false });
    const m1 = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [crashing.resealer] });
    await m1.load();
    await m1.initialize('one');
    const failing = secretsOwner(store, { failOnce: true });
    const m2 = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [failing.resealer] });
    await m2.load();
    await expect(m2.rotate('one', 'two')).rejects.toMatchObject({ code: 'ERR_KEY_ROTATION_FAILED' });
    const m3 = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [owner.resealer] });
    await m3.load();
    await m3.rotate('two', 'three');
    expect(new Set(await owner.keyIds()).size).toBe(1);
    const m4 = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [] });
    await m4.load();
    await m4.unlock('three');
    expect(await owner.read('a', m4.readKeys())).toBe('v');
  });
});
