/**
 * Sealing and opening an unlock passphrase: the round trip, the binding (namespace, name, server),
 * tampering, keys, and the header checks. Real RSA keys (2048 bits, to keep the test quick).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { base64url } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALG, bindingMismatch, keyIdOf, MAX_PASSPHRASE_LENGTH, open, type OpeningKey, publicKeyFromPem, readHeader, seal, SealError } from './seal.ts';

const BINDING = { namespace: 'demo', name: 'main', serverId: '5b0e7c9a-1111-4222-8333-944445555666' };
const PASSPHRASE = 'correct horse battery staple';
let pair: { publicKey: KeyObject; privateKey: KeyObject };
let other: { publicKey: KeyObject; privateKey: KeyObject };
let keys: OpeningKey[];

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const reasonOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SealError);
    return { reason: (err as SealError).reason, message: (err as SealError).message };
  }
  throw new Error('expected a SealError');
};

/** The same JWE with its protected header rewritten (the AES-GCM tag covers the original one). */
function withHeader(jwe: string, change: Record<string, unknown>): string {
  const [h = '', ...rest] = jwe.split('.');
  const header = JSON.parse(text(base64url.decode(h))) as Record<string, unknown>;
  return [base64url.encode(JSON.stringify({ ...header, ...change })), ...rest].join('.');
}

beforeAll(async () => {
  pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  keys = [{ kid: await keyIdOf(pair.publicKey), privateKey: pair.privateKey }];
});

describe('seal and open', () => {
  it('round-trips, with the binding and the key id in the protected header', async () => {
    const jwe = await seal(PASSPHRASE, BINDING, pair.publicKey, () => Date.parse('2030-01-01T00:00:00Z'));
    expect(jwe.split('.')).toHaveLength(5);
    expect(jwe).not.toContain(base64url.encode(PASSPHRASE));
    expect(readHeader(jwe)).toEqual({ ...BINDING, kid: keys[0]!.kid, iat: Date.parse('2030-01-01T00:00:00Z') / 1000 });
    expect(text(await open(jwe, keys, BINDING))).toBe(PASSPHRASE);
  });

  it('keeps any passphrase intact: unicode, spaces, up to pika’s 4096 characters', async () => {
    for (const p of ['  spaces around  ', 'ünïcødé 🔑 パス', 'x'.repeat(MAX_PASSPHRASE_LENGTH)]) expect(text(await open(await seal(p, BINDING, pair.publicKey), keys, BINDING))).toBe(p);
    await expect(seal('', BINDING, pair.publicKey)).rejects.toThrow(/empty/);
    await expect(seal('x'.repeat(MAX_PASSPHRASE_LENGTH + 1), BINDING, pair.publicKey)).rejects.toThrow(/longer than 4096/);
    await expect(seal(PASSPHRASE, { ...BINDING, serverId: '' }, pair.publicKey)).rejects.toThrow(/serverId/);
  });

  it('uses a fresh content key each time: the same input seals differently', async () => {
    expect(await seal(PASSPHRASE, BINDING, pair.publicKey)).not.toBe(await seal(PASSPHRASE, BINDING, pair.publicKey));
  });

  it('names the key by its JWK thumbprint, which anyone holding the PEM computes alike', async () => {
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await keyIdOf(publicKeyFromPem(pem))).toBe(keys[0]!.kid);
    expect(keys[0]!.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('the binding', () => {
  it.each([
    ['another name', { name: 'copy' }, /name "main", not "copy"/],
    ['another namespace', { namespace: 'team-b' }, /namespace "demo", not "team-b"/],
    ['another server', { serverId: 'ffffffff-0000-4000-8000-000000000000' }, /server id "5b0e7c9a-.*", not "ffffffff-/],
  ])('refuses %s, before decrypting anything', async (_what, change, message) => {
    const jwe = await seal(PASSPHRASE, BINDING, pair.publicKey);
    // No key at all: the refusal cannot have come from a decryption.
    const refused = await reasonOf(open(jwe, [], { ...BINDING, ...change }));
    expect(refused.reason).toBe('BindingMismatch');
    expect(refused.message).toMatch(message);
    expect(refused.message).not.toContain(PASSPHRASE);
  });

  it('refuses a header edited to match another object: the header is authenticated', async () => {
    const jwe = await seal(PASSPHRASE, BINDING, pair.publicKey);
    const moved = withHeader(jwe, { 'pika.io/name': 'copy' });
    expect(readHeader(moved).name).toBe('copy');
    expect((await reasonOf(open(moved, keys, { ...BINDING, name: 'copy' }))).reason).toBe('DecryptFailed');
  });

  it('bindingMismatch checks only the fields given', () => {
    expect(bindingMismatch(BINDING, { namespace: 'demo', name: 'main' })).toBeUndefined();
    expect(bindingMismatch(BINDING, { serverId: 'x' })).toMatch(/server id/);
  });
});

describe('tampering and keys', () => {
  it('refuses a changed ciphertext, tag or wrapped key', async () => {
    const jwe = await seal(PASSPHRASE, BINDING, pair.publicKey);
    const parts = jwe.split('.');
    for (const index of [1, 3, 4]) {
      const bytes = base64url.decode(parts[index]!);
      bytes[0] = bytes[0]! ^ 1;
      const changed = parts.map((p, i) => (i === index ? base64url.encode(bytes) : p)).join('.');
      expect((await reasonOf(open(changed, keys, BINDING))).reason).toBe('DecryptFailed');
    }
  });

  it('refuses a value sealed to a key this operator does not hold', async () => {
    const jwe = await seal(PASSPHRASE, BINDING, other.publicKey);
    const refused = await reasonOf(open(jwe, keys, BINDING));
    expect(refused.reason).toBe('UnknownSealingKey');
    // A kid pointing at our key does not help: the wrapped key is for the other one.
    const relabelled = withHeader(jwe, { kid: keys[0]!.kid });
    expect((await reasonOf(open(relabelled, keys, BINDING))).reason).toBe('DecryptFailed');
  });

  it('opens with whichever key the kid names (old keys keep working after a rotation)', async () => {
    const both = [...keys, { kid: await keyIdOf(other.publicKey), privateKey: other.privateKey }];
    expect(text(await open(await seal(PASSPHRASE, BINDING, pair.publicKey), both, BINDING))).toBe(PASSPHRASE);
    expect(text(await open(await seal('newer', BINDING, other.publicKey), both, BINDING))).toBe('newer');
  });

  it('accepts only RSA keys of 2048 bits or more', () => {
    expect(() => publicKeyFromPem('nope')).toThrow(/not a PEM public key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => publicKeyFromPem(ec)).toThrow(/must be RSA/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => publicKeyFromPem(small)).toThrow(/1024 bits/);
  });
});

describe('readHeader', () => {
  it('refuses what is not a sealed pika passphrase', async () => {
    const jwe = await seal(PASSPHRASE, BINDING, pair.publicKey);
    for (const [bad, message] of [
      ['a.b.c', /five dot-separated parts/],
      ['!!!!.a.b.c.d', /not a sealed pika passphrase/],
      [withHeader(jwe, { alg: 'RSA1_5' }), new RegExp(`must use ${ALG}`)],
      [withHeader(jwe, { typ: 'JWT' }), /not a pika unlock value/],
      [withHeader(jwe, { 'pika.io/server': undefined }), /lacks kid/],
    ] as const) {
      expect(() => readHeader(bad)).toThrow(message);
      try {
        readHeader(bad);
      } catch (err) {
        expect((err as SealError).reason).toBe('InvalidSealedKey');
      }
    }
  });
});
