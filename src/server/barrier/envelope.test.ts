import { describe, expect, it } from 'vitest';
import { ENVELOPE_TAG, EnvelopeError, envelopeKeyId, newDataKey, open, seal } from './envelope.ts';
import { deriveKey, newKdfParams } from './kdf.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('envelope', () => {
  it('round-trips and lays out tag ‖ key id ‖ nonce ‖ ciphertext+tag', () => {
    const key = newDataKey();
    const env = seal(key, enc('hello'), 'ctx');
    expect(env[0]).toBe(ENVELOPE_TAG);
    expect(envelopeKeyId(env)).toBe(key.id);
    expect(env.length).toBe(1 + 8 + 24 + 5 + 16);
    expect(new TextDecoder().decode(open(new Map([[key.id, key.bytes]]), env, 'ctx'))).toBe('hello');
  });

  it('uses a fresh nonce each time', () => {
    const key = newDataKey();
    expect(Buffer.from(seal(key, enc('x'), 'c')).equals(Buffer.from(seal(key, enc('x'), 'c')))).toBe(false);
  });

  it('refuses a tampered byte, another context, a relabelled key id and an unknown key', () => {
    const key = newDataKey();
    const keys = new Map([[key.id, key.bytes]]);
    const env = seal(key, enc('secret'), 'settings/auth');
    const flipped = Uint8Array.from(env);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(() => open(keys, flipped, 'settings/auth')).toThrow(EnvelopeError);
    expect(() => open(keys, env, 'settings/hooks')).toThrow(EnvelopeError);
    const other = newDataKey();
    const relabelled = Uint8Array.from(env);
    relabelled.set(Buffer.from(other.id, 'hex'), 1);
    expect(() => open(new Map([...keys, [other.id, key.bytes]]), relabelled, 'settings/auth')).toThrow(EnvelopeError);
    expect(() => open(new Map(), env, 'settings/auth')).toThrow(/unknown key/);
    expect(() => envelopeKeyId(enc('plain text'))).toThrow(/not a pika envelope/);
  });
});

describe('kdf', () => {
  it('derives the same key for the same salt and a different one for a new salt', async () => {
    const cost = { N: 2 ** 10, r: 8, p: 1 };
    const params = newKdfParams(cost);
    const a = await deriveKey('pass', params);
    const b = await deriveKey('pass', params);
    const c = await deriveKey('pass', newKdfParams(cost));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    expect(a.length).toBe(32);
  });
});
