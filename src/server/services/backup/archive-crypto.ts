import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../../shared/errors.ts';
import { type DataKey, EnvelopeError, envelopeKeyId, open, seal } from '../../barrier/envelope.ts';
import { deriveKey, type KdfParams } from '../../barrier/kdf.ts';

/**
 * Password protection of a backup payload (SPEC §7.4): scrypt → master secret, split with
 * HMAC-SHA256 into an encryption key and a password check, so the two never share a key.
 * The payload is sealed with the server's own envelope (barrier/envelope.ts: XChaCha20-Poly1305,
 * random 24-byte nonce) and the archive's prelude and header as associated data: changing any
 * header byte — the KDF parameters, the checksum, the entry count — makes decryption fail.
 */
const ENCRYPT_LABEL = 'pika-backup/v1/encrypt';
const CHECK_LABEL = 'pika-backup/v1/password-check';
/** The envelope names the key that sealed it; a backup has exactly one, so the id is fixed. */
const ARCHIVE_KEY_ID = '0000000000000000';

export interface ArchiveKeys {
  readonly key: Uint8Array;
  /** base64; stored in the header, compared before decrypting. */
  readonly check: string;
}

export async function deriveArchiveKeys(password: string, kdf: KdfParams): Promise<ArchiveKeys> {
  const master = await deriveKey(password, kdf);
  try {
    const key = new Uint8Array(createHmac('sha256', master).update(ENCRYPT_LABEL).digest());
    const check = createHmac('sha256', master).update(CHECK_LABEL).digest('base64');
    return { key, check };
  } finally {
    master.fill(0);
  }
}

/** 403 ERR_BACKUP_PASSWORD unless `password` produced the header's check value. */
export function assertPasswordMatches(keys: ArchiveKeys, expected: string): void {
  const a = Buffer.from(keys.check, 'base64');
  const b = Buffer.from(expected, 'base64');
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new AppError('ERR_BACKUP_PASSWORD');
}

/** The associated data: the whole head, as the envelope takes its context as text. */
function contextOf(head: Uint8Array): string {
  return `pika-backup:${Buffer.from(head).toString('hex')}`;
}

export function encryptPayload(key: Uint8Array, plaintext: Uint8Array, head: Uint8Array): Uint8Array {
  const dataKey: DataKey = { id: ARCHIVE_KEY_ID, bytes: key };
  return seal(dataKey, plaintext, contextOf(head));
}

/** After the password check passed, any failure here is damage or tampering: ERR_BACKUP_CORRUPT. */
export function decryptPayload(key: Uint8Array, sealed: Uint8Array, head: Uint8Array): Uint8Array {
  try {
    return open(new Map([[ARCHIVE_KEY_ID, key]]), sealed, contextOf(head));
  } catch (err) {
    if (!(err instanceof EnvelopeError)) throw err;
    const what = sealedKeyId(sealed) === ARCHIVE_KEY_ID ? 'the encrypted payload or the header was altered' : 'the encrypted payload is malformed';
    throw new AppError('ERR_BACKUP_CORRUPT', `the backup archive is damaged or not a pika backup: ${what}`);
  }
}

function sealedKeyId(sealed: Uint8Array): string | undefined {
  try {
    return envelopeKeyId(sealed);
  } catch {
    return undefined;
  }
}
