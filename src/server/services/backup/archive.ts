import { createHash } from 'node:crypto';
import { VERSION } from '../../../shared/version.ts';
import { AppError } from '../../../shared/errors.ts';
import { DEFAULT_KDF_COST, newKdfParams } from '../../barrier/kdf.ts';
import { assertPasswordMatches, decryptPayload, deriveArchiveKeys, encryptPayload } from './archive-crypto.ts';
import { type ArchiveHeader, encodeHead, FLAG_ENCRYPTED, parseArchive } from './archive-format.ts';
import { type ArchiveEntry, type ArchiveLimits, DEFAULT_LIMITS, decodePayload, encodePayload } from './archive-payload.ts';

/**
 * Writing and reading whole backup archives (docs/backup.md). Reading checks everything — framing,
 * header, password, checksum or AEAD tag, every line — and returns the entries only when all of
 * it holds, so a restore never starts from a half-valid file.
 */
export type KdfCost = { readonly N: number; readonly r: number; readonly p: number };

export interface WriteOptions {
  /** Encrypts the payload when set (non-empty). */
  readonly password?: string | undefined;
  readonly createdAt: string;
  readonly kdfCost?: KdfCost | undefined;
  readonly limits?: ArchiveLimits | undefined;
}

export interface WrittenArchive {
  readonly bytes: Buffer;
  readonly header: ArchiveHeader;
}

export async function writeArchive(entries: AsyncIterable<ArchiveEntry>, options: WriteOptions): Promise<WrittenArchive> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const payload = await encodePayload(entries, limits);
  const base = { created_at: options.createdAt, pika_version: VERSION, entries: payload.entries, payload_sha256: payload.sha256 };
  let header: ArchiveHeader = base;
  let body: Uint8Array = payload.gzip;
  let head: Uint8Array;
  if (options.password) {
    const kdf = newKdfParams(options.kdfCost ?? DEFAULT_KDF_COST);
    const keys = await deriveArchiveKeys(options.password, kdf);
    header = { ...base, kdf, password_check: keys.check };
    head = encodeHead(header, FLAG_ENCRYPTED);
    body = encryptPayload(keys.key, payload.gzip, head);
    keys.key.fill(0);
  } else {
    head = encodeHead(header, 0);
  }
  if (head.length + body.length > limits.maxArchiveBytes) throw new AppError('ERR_BACKUP_TOO_LARGE', `the backup archive exceeds the limit of ${limits.maxArchiveBytes} bytes`);
  return { bytes: Buffer.concat([head, body]), header };
}

export interface ReadOptions {
  readonly password?: string | undefined;
  readonly limits?: ArchiveLimits | undefined;
}

export interface ReadArchive {
  readonly header: ArchiveHeader;
  readonly encrypted: boolean;
  readonly entries: ArchiveEntry[];
}

export async function readArchive(bytes: Uint8Array, options: ReadOptions = {}): Promise<ReadArchive> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  if (bytes.length > limits.maxArchiveBytes) throw new AppError('ERR_BACKUP_TOO_LARGE', `the backup archive exceeds the limit of ${limits.maxArchiveBytes} bytes`);
  const { header, flags, head, payload } = parseArchive(bytes);
  const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
  let gzip = payload;
  if (encrypted && header.kdf && header.password_check) {
    if (!options.password) throw new AppError('ERR_BACKUP_PASSWORD_REQUIRED');
    const keys = await deriveArchiveKeys(options.password, header.kdf);
    try {
      assertPasswordMatches(keys, header.password_check);
      gzip = decryptPayload(keys.key, payload, head);
    } finally {
      keys.key.fill(0);
    }
  }
  // Also checked after decryption: the AEAD tag proves the bytes are the writer's, the checksum
  // that the writer hashed what it compressed.
  if (createHash('sha256').update(gzip).digest('hex') !== header.payload_sha256) {
    throw new AppError('ERR_BACKUP_CORRUPT', 'the backup archive is damaged or not a pika backup: the payload checksum does not match (truncated or altered file?)');
  }
  const entries = await decodePayload(gzip, limits);
  if (entries.length !== header.entries) throw new AppError('ERR_BACKUP_CORRUPT', `the backup archive is damaged or not a pika backup: the header announces ${header.entries} entries, the payload holds ${entries.length}`);
  return { header, encrypted, entries };
}
