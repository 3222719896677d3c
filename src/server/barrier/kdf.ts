import { randomBytes, scrypt } from 'node:crypto';

/**
 * Passphrase → key-encryption key with scrypt (SPEC §7.1: a salted, memory-hard KDF instead of
 * upstream's bare SHA-256). Parameters travel with the key record so they can be raised later
 * without breaking existing installs.
 */
export interface KdfParams {
  readonly alg: 'scrypt';
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
  /** base64, 16 bytes. */
  readonly salt: string;
}

/** OWASP's scrypt baseline: 2^17 × 8 × 128 B = 128 MiB and ~0.3 s per derivation. */
export const DEFAULT_KDF_COST = { N: 2 ** 17, r: 8, p: 1 } as const;

export function newKdfParams(cost: { N: number; r: number; p: number } = DEFAULT_KDF_COST): KdfParams {
  return { alg: 'scrypt', ...cost, salt: randomBytes(16).toString('base64') };
}

export function deriveKey(passphrase: string, params: KdfParams): Promise<Uint8Array> {
  // Records come from the store, whose contents the type system cannot vouch for.
  if ((params.alg as string) !== 'scrypt') return Promise.reject(new Error(`unsupported KDF ${params.alg}`));
  const maxmem = 128 * params.N * params.r * 2 + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), Buffer.from(params.salt, 'base64'), 32, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => {
      if (err) reject(err);
      else resolve(new Uint8Array(key));
    });
  });
}
