/**
 * The sealing keyring over an in-memory fake of its Secret (create conflicts on an existing Secret,
 * replace on a stale resourceVersion, as the API server does): first start, restart, rotation
 * keeping old keys, renewal, racing writers, and a damaged Secret.
 */
import { generateKeyPairSync } from 'node:crypto';
import { ApiException, type V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { open, seal } from './seal.ts';
import { createSealingKeyring, type KeyPair, keysOfSecret, type SecretStore } from './sealing-keys.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');
const BINDING = { namespace: 'demo', name: 'main', serverId: 'srv-1' };
const conflict = () => new ApiException(409, 'Conflict', {}, {});

/** A copy of the Secret with a new resourceVersion (plain objects: V1Secret is only a type here). */
const stamp = (s: V1Secret, rv: number): V1Secret => {
  const copy = structuredClone(s);
  copy.metadata = structuredClone(s.metadata ?? {});
  copy.metadata.resourceVersion = String(rv);
  return copy;
};

function fakeStore() {
  let secret: V1Secret | undefined;
  let rv = 0;
  const writes: string[] = [];
  const store: SecretStore & { beforeWrite?: () => void } = {
    async read() {
      return secret ? structuredClone(secret) : undefined;
    },
    async create(s) {
      store.beforeWrite?.();
      if (secret) throw conflict();
      secret = stamp(s, ++rv);
      writes.push('create');
    },
    async replace(s) {
      store.beforeWrite?.();
      if (!secret || s.metadata?.resourceVersion !== secret.metadata?.resourceVersion) throw conflict();
      secret = stamp(s, ++rv);
      writes.push('replace');
    },
  };
  return { store, writes, secret: () => secret, set: (s: V1Secret | undefined) => { secret = s; } };
}

/** 2048-bit keys: RSA-4096 generation is too slow for a unit test; the code path is the same. */
const quick = async (): Promise<KeyPair> => generateKeyPairSync('rsa', { modulusLength: 2048 });

function keyring(store: SecretStore, clock: { now: number }, renewAfterMs?: number) {
  return createSealingKeyring({ store, namespace: 'pika-system', name: 'pika-operator-sealing', now: () => clock.now, renewAfterMs, generate: quick });
}

describe('sealing keyring', () => {
  it('creates one key on first start, labelled, named <created>.<kid>, holding a PKCS#8 PEM', async () => {
    const f = fakeStore();
    const keys = await keyring(f.store, { now: T0 }).load(true);
    expect(keys).toHaveLength(1);
    expect(f.writes).toEqual(['create']);
    const secret = f.secret()!;
    expect(secret.metadata).toMatchObject({ name: 'pika-operator-sealing', namespace: 'pika-system', labels: { 'app.kubernetes.io/name': 'pika-operator', 'app.kubernetes.io/component': 'sealing-keys' } });
    expect(Object.keys(secret.data!)).toEqual([`20300101T000000Z.${keys[0]!.kid}`]);
    expect(Buffer.from(Object.values(secret.data!)[0]!, 'base64').toString()).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(keys[0]!.publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(keys[0]!.createdAt).toBe(T0);
  });

  it('reads the same key back after a restart, and a reader never writes', async () => {
    const f = fakeStore();
    const first = await keyring(f.store, { now: T0 }).load(true);
    const again = await keyring(f.store, { now: T0 + DAY }).load(true);
    expect(again.map((k) => k.kid)).toEqual(first.map((k) => k.kid));
    const empty = fakeStore();
    expect(await keyring(empty.store, { now: T0 }).load(false)).toEqual([]);
    expect(empty.writes).toEqual([]);
  });

  it('rotates by adding a key: the newest seals, every old one still opens', async () => {
    const f = fakeStore();
    const clock = { now: T0 };
    const ring = keyring(f.store, clock);
    await ring.load(true);
    const old = ring.newest()!;
    const sealedBefore = await seal('old passphrase', BINDING, old.publicKey);
    clock.now = T0 + DAY;
    await ring.rotate();
    expect(ring.keys()).toHaveLength(2);
    expect(ring.newest()!.kid).not.toBe(old.kid);
    expect(ring.keys()[0]!.kid).toBe(old.kid);
    expect(new TextDecoder().decode(await open(sealedBefore, ring.keys(), BINDING))).toBe('old passphrase');
    const sealedAfter = await seal('new passphrase', BINDING, ring.newest()!.publicKey);
    expect(new TextDecoder().decode(await open(sealedAfter, ring.keys(), BINDING))).toBe('new passphrase');
    expect(f.writes).toEqual(['create', 'replace']);
  });

  it('renews by itself once the newest key is renewAfterMs old, and not before', async () => {
    const f = fakeStore();
    const clock = { now: T0 };
    const ring = keyring(f.store, clock, 30 * DAY);
    await ring.load(true);
    clock.now = T0 + 29 * DAY;
    expect(await ring.load(true)).toHaveLength(1);
    clock.now = T0 + 30 * DAY;
    expect(await ring.load(true)).toHaveLength(2);
    expect(await ring.load(true)).toHaveLength(2);
  });

  it('loses no key when two replicas write at once: the loser re-reads and uses the winner’s', async () => {
    // The other replica's Secret, as it would have created it.
    const other = fakeStore();
    const winner = await keyring(other.store, { now: T0 }).load(true);
    const f = fakeStore();
    // It lands between this replica's read and its create: the create conflicts.
    f.store.beforeWrite = () => {
      f.store.beforeWrite = undefined;
      f.set(other.secret());
    };
    const keys = await keyring(f.store, { now: T0 }).load(true);
    expect(keys.map((k) => k.kid)).toEqual(winner.map((k) => k.kid));
    expect(f.writes).toEqual([]);
    // The same for a rotation racing another's: the loser retries on the newer Secret, and every key survives.
    const rivalStore = fakeStore();
    await keyring(rivalStore.store, { now: T0 + DAY }).load(true);
    const [rivalEntry, rivalValue] = Object.entries(rivalStore.secret()!.data!)[0]!;
    f.store.beforeWrite = () => {
      f.store.beforeWrite = undefined;
      const current = f.secret()!;
      const raced = stamp(current, 99);
      raced.data = { ...raced.data, [rivalEntry]: rivalValue };
      f.set(raced);
    };
    const rotated = await keyring(f.store, { now: T0 + DAY }).rotate();
    expect(rotated).toHaveLength(3);
    expect(rotated[0]!.kid).toBe(winner[0]!.kid);
    expect(Object.keys(f.secret()!.data!)).toContain(rivalEntry);
  });

  it('re-reads on refresh only when the cache is older than asked', async () => {
    const f = fakeStore();
    const clock = { now: T0 };
    const ring = keyring(f.store, clock);
    await ring.load(true);
    await keyring(f.store, clock).rotate(); // another replica
    expect(await ring.refresh(60_000)).toHaveLength(1);
    clock.now += 60_000;
    expect(await ring.refresh(60_000)).toHaveLength(2);
  });

  it('fails loudly on a damaged entry rather than dropping a key; ignores entries that are not keys', async () => {
    const f = fakeStore();
    await keyring(f.store, { now: T0 }).load(true);
    const secret = f.secret()!;
    const [entry] = Object.keys(secret.data!);
    await expect(keysOfSecret({ data: { ...secret.data, 'README': 'eA==' } })).resolves.toHaveLength(1);
    await expect(keysOfSecret({ data: { [entry!]: Buffer.from('garbage').toString('base64') } })).rejects.toThrow(/is not a PEM private key/);
    const otherKid = entry!.replace(/\.[A-Za-z0-9_-]{43}$/, `.${'A'.repeat(43)}`);
    await expect(keysOfSecret({ data: { [otherKid]: secret.data![entry!]! } })).rejects.toThrow(/kid is not the key's thumbprint/);
  });
});
