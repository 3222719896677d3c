import { createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, CompactEncrypt, compactDecrypt, decodeProtectedHeader, exportJWK } from 'jose';

/**
 * Sealing an unlock passphrase (SPEC §13.1, UnlockRequest): a compact JWE, RSA-OAEP-256 wrapping
 * a fresh AES-256-GCM key, as sealed-secrets does with its OAEP label — except that the binding
 * lives in the JWE *protected header*, which AES-GCM authenticates: the namespace and name of the
 * UnlockRequest and the id of the pika server it unlocks. `open` refuses a header that names
 * another object or server, so a sealed value copied into another UnlockRequest (another name,
 * namespace, or server) is useless, and a header edited to match fails authentication.
 *
 * Pure functions over keys: where the keys live is sealing-keys.ts.
 */

export const ALG = 'RSA-OAEP-256';
export const ENC = 'A256GCM';
export const TYP = 'pika-unlock+jwe';
export const HEADER_NAMESPACE = 'pika.io/ns';
export const HEADER_NAME = 'pika.io/name';
export const HEADER_SERVER = 'pika.io/server';
/** pika's own limit on a passphrase (POST /api/v1/key/unlock). */
export const MAX_PASSPHRASE_LENGTH = 4096;

/** What a sealed passphrase is bound to. */
export interface Binding {
  readonly namespace: string;
  readonly name: string;
  /** The pika server's stable id (`server_id` of /api/v1/key/status). */
  readonly serverId: string;
}

/** What the protected header says, readable without any key (not yet authenticated). */
export interface SealedHeader extends Binding {
  readonly kid: string;
  /** Seconds since the epoch, when it was sealed. */
  readonly iat: number | undefined;
}

export type SealErrorReason = 'InvalidSealedKey' | 'BindingMismatch' | 'UnknownSealingKey' | 'DecryptFailed';

/** Why a sealed value cannot be used. Messages name fields, never the plaintext. */
export class SealError extends Error {
  readonly reason: SealErrorReason;
  constructor(reason: SealErrorReason, message: string) {
    super(message);
    this.name = 'SealError';
    this.reason = reason;
  }
}

/** A private sealing key and its id. */
export interface OpeningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/** The key id of a public key: its RFC 7638 JWK thumbprint (SHA-256, base64url), so anyone holding the PEM computes the same. */
export async function keyIdOf(publicKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
}

/** A public key from PEM (SPKI `PUBLIC KEY`, or a certificate), checked to be RSA of at least 2048 bits. */
export function publicKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new Error(`not a PEM public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`the sealing key must be RSA, got ${key.asymmetricKeyType ?? 'unknown'}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new Error(`the sealing key has ${bits} bits; at least 2048 are needed`);
  return key;
}

function checkBinding(binding: Binding): void {
  for (const [field, value] of [['namespace', binding.namespace], ['name', binding.name], ['serverId', binding.serverId]] as const) {
    if (value.trim() === '' || value.length > 253) throw new Error(`${field} must be 1 to 253 characters`);
  }
}

/** Seals `passphrase` to `publicKey`, bound to `binding`. Returns the compact JWE. */
export async function seal(passphrase: string, binding: Binding, publicKey: KeyObject, now: () => number = Date.now): Promise<string> {
  if (passphrase === '') throw new Error('the passphrase is empty');
  if (Array.from(passphrase).length > MAX_PASSPHRASE_LENGTH) throw new Error(`the passphrase is longer than ${MAX_PASSPHRASE_LENGTH} characters`);
  checkBinding(binding);
  const kid = await keyIdOf(publicKey);
  return new CompactEncrypt(new TextEncoder().encode(passphrase))
    .setProtectedHeader({
      alg: ALG,
      enc: ENC,
      typ: TYP,
      kid,
      iat: Math.floor(now() / 1000),
      [HEADER_NAMESPACE]: binding.namespace,
      [HEADER_NAME]: binding.name,
      [HEADER_SERVER]: binding.serverId,
    })
    .encrypt(publicKey);
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** Reads the protected header without any key; throws SealError(InvalidSealedKey) when it is not one of ours. */
export function readHeader(jwe: string): SealedHeader {
  let header: Record<string, unknown>;
  try {
    if (jwe.split('.').length !== 5) throw new Error('not a compact JWE (five dot-separated parts)');
    header = decodeProtectedHeader(jwe);
  } catch (err) {
    throw new SealError('InvalidSealedKey', `sealedKey is not a sealed pika passphrase: ${(err as Error).message}`);
  }
  if (header['alg'] !== ALG || header['enc'] !== ENC) throw new SealError('InvalidSealedKey', `sealedKey must use ${ALG} + ${ENC}, not ${String(header['alg'])} + ${String(header['enc'])}`);
  if (header['typ'] !== TYP) throw new SealError('InvalidSealedKey', `sealedKey is not a pika unlock value (typ ${String(header['typ'])})`);
  const kid = text(header['kid']);
  const namespace = text(header[HEADER_NAMESPACE]);
  const name = text(header[HEADER_NAME]);
  const serverId = text(header[HEADER_SERVER]);
  if (!kid || !namespace || !name || !serverId) throw new SealError('InvalidSealedKey', `sealedKey's header lacks kid, ${HEADER_NAMESPACE}, ${HEADER_NAME} or ${HEADER_SERVER}: seal it with \`pika seal\``);
  return { kid, namespace, name, serverId, iat: typeof header['iat'] === 'number' ? header['iat'] : undefined };
}

/** Compares a header with what it must be bound to; the message says which field differs (names and ids only). */
export function bindingMismatch(header: Binding, expected: Partial<Binding>): string | undefined {
  const wrong: string[] = [];
  if (expected.namespace !== undefined && header.namespace !== expected.namespace) wrong.push(`namespace "${header.namespace}", not "${expected.namespace}"`);
  if (expected.name !== undefined && header.name !== expected.name) wrong.push(`name "${header.name}", not "${expected.name}"`);
  if (expected.serverId !== undefined && header.serverId !== expected.serverId) wrong.push(`server id "${header.serverId}", not "${expected.serverId}"`);
  return wrong.length === 0 ? undefined : `the sealed value is bound to ${wrong.join(', ')}: seal the passphrase again for this object (\`pika seal\`)`;
}

/**
 * Opens a sealed passphrase for exactly `expected`: the header must name it (checked before any
 * decryption, and again on the authenticated header after), the kid must be one of `keys`.
 * Returns the plaintext bytes: the caller uses them at once and zeroes them.
 */
export async function open(jwe: string, keys: readonly OpeningKey[], expected: Binding): Promise<Uint8Array> {
  const header = readHeader(jwe);
  const mismatch = bindingMismatch(header, expected);
  if (mismatch) throw new SealError('BindingMismatch', mismatch);
  const key = keys.find((k) => k.kid === header.kid);
  if (!key) throw new SealError('UnknownSealingKey', `sealedKey was sealed to key ${header.kid}, which this operator does not hold (another cluster, or a sealing Secret that was replaced)`);
  let result: Awaited<ReturnType<typeof compactDecrypt>>;
  try {
    result = await compactDecrypt(jwe, key.privateKey, { keyManagementAlgorithms: [ALG], contentEncryptionAlgorithms: [ENC] });
  } catch (err) {
    throw new SealError('DecryptFailed', `sealedKey does not decrypt with key ${header.kid} (${(err as Error).name}): it was altered or sealed to another key`);
  }
  // Authenticated now: the header that was decrypted is the one that was checked.
  const authenticated = { namespace: String(result.protectedHeader[HEADER_NAMESPACE]), name: String(result.protectedHeader[HEADER_NAME]), serverId: String(result.protectedHeader[HEADER_SERVER]) };
  const late = bindingMismatch(authenticated, expected);
  if (late) {
    result.plaintext.fill(0);
    throw new SealError('BindingMismatch', late);
  }
  return result.plaintext;
}
