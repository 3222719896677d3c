import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from 'node:crypto';

/**
 * The sealed-value envelope (SPEC §7.1, docs/encryption.md):
 *
 *   byte 0      format tag (0x02: XChaCha20-Poly1305 with a key id)
 *   bytes 1–8   key id: which data key sealed it (rotation resumes by re-sealing older ids)
 *   bytes 9–32  nonce (24 random bytes)
 *   rest        ciphertext ‖ Poly1305 tag (16 bytes)
 *
 * The tag and key id are authenticated as associated data together with the caller's context
 * string, so a value cannot be moved to another field or relabelled with another key id.
 */
export const ENVELOPE_TAG = 0x02;
export const KEY_ID_BYTES = 8;
export const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES;
const encoder = new TextEncoder();

export interface DataKey {
  /** 16 hex characters (8 bytes). */
  readonly id: string;
  readonly bytes: Uint8Array;
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

export function newDataKey(): DataKey {
  return { id: randomBytes(KEY_ID_BYTES).toString('hex'), bytes: new Uint8Array(randomBytes(KEY_BYTES)) };
}

function aad(header: Uint8Array, context: string): Uint8Array {
  const ctx = encoder.encode(context);
  const out = new Uint8Array(1 + KEY_ID_BYTES + ctx.length);
  out.set(header.subarray(0, 1 + KEY_ID_BYTES));
  out.set(ctx, 1 + KEY_ID_BYTES);
  return out;
}

export function seal(key: DataKey, plaintext: Uint8Array, context: string): Uint8Array {
  if (key.bytes.length !== KEY_BYTES) throw new EnvelopeError('data keys are 32 bytes');
  const header = new Uint8Array(HEADER_BYTES);
  header[0] = ENVELOPE_TAG;
  header.set(Buffer.from(key.id, 'hex'), 1);
  header.set(randomBytes(NONCE_BYTES), 1 + KEY_ID_BYTES);
  const ciphertext = xchacha20poly1305(key.bytes, header.subarray(1 + KEY_ID_BYTES), aad(header, context)).encrypt(plaintext);
  const out = new Uint8Array(HEADER_BYTES + ciphertext.length);
  out.set(header);
  out.set(ciphertext, HEADER_BYTES);
  return out;
}

/** The key id an envelope names, without decrypting it. */
export function envelopeKeyId(envelope: Uint8Array): string {
  if (envelope.length < HEADER_BYTES + 16 || envelope[0] !== ENVELOPE_TAG) throw new EnvelopeError('not a pika envelope');
  return Buffer.from(envelope.subarray(1, 1 + KEY_ID_BYTES)).toString('hex');
}

/** Decrypts with the key the envelope names; throws EnvelopeError on any mismatch or tampering. */
export function open(keys: ReadonlyMap<string, Uint8Array>, envelope: Uint8Array, context: string): Uint8Array {
  const id = envelopeKeyId(envelope);
  const key = keys.get(id);
  if (!key) throw new EnvelopeError(`sealed with unknown key ${id}`);
  const nonce = envelope.subarray(1 + KEY_ID_BYTES, HEADER_BYTES);
  try {
    return xchacha20poly1305(key, nonce, aad(envelope, context)).decrypt(envelope.subarray(HEADER_BYTES));
  } catch {
    throw new EnvelopeError('authentication failed (wrong key or tampered value)');
  }
}
