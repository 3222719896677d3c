import { AppError } from '../../../shared/errors.ts';
import type { KdfParams } from '../../barrier/kdf.ts';

/**
 * The fixed framing of a backup archive (docs/backup.md has the byte-by-byte layout):
 *
 *   bytes 0–7    magic "PIKABAK\0"
 *   bytes 8–9    format version, uint16 big-endian (1)
 *   byte  10     flags (bit 0: the payload is password-encrypted)
 *   bytes 11–14  header length L, uint32 big-endian
 *   next L bytes the JSON header
 *   the rest     the payload (gzip of NDJSON, or its XChaCha20-Poly1305 envelope)
 *
 * Everything here is about recognising a damaged or foreign file before anything else happens;
 * the payload is checked by archive.ts.
 */
export const MAGIC = new Uint8Array([0x50, 0x49, 0x4b, 0x41, 0x42, 0x41, 0x4b, 0x00]);
export const FORMAT_VERSION = 1;
export const FLAG_ENCRYPTED = 0x01;
export const PRELUDE_BYTES = MAGIC.length + 2 + 1 + 4;
/** A header is a few hundred bytes; a bigger length field means a damaged file, not a big one. */
export const MAX_HEADER_BYTES = 64 * 1024;

export interface ArchiveHeader {
  readonly created_at: string;
  readonly pika_version: string;
  /** Number of NDJSON lines (store keys) in the payload. */
  readonly entries: number;
  /** Present exactly when the payload is encrypted. */
  readonly kdf?: KdfParams | undefined;
  /** base64 HMAC proving the password before decrypting, so a wrong password is told apart from damage. */
  readonly password_check?: string | undefined;
  /** hex SHA-256 of the gzip bytes (the plaintext payload). */
  readonly payload_sha256: string;
}

export interface ParsedArchive {
  readonly version: number;
  readonly flags: number;
  readonly header: ArchiveHeader;
  /** Prelude and header bytes: authenticated as associated data when encrypted. */
  readonly head: Uint8Array;
  readonly payload: Uint8Array;
}

const corrupt = (why: string) => new AppError('ERR_BACKUP_CORRUPT', `the backup archive is damaged or not a pika backup: ${why}`);

export function encodeHead(header: ArchiveHeader, flags: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(PRELUDE_BYTES + json.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  view.setUint16(MAGIC.length, FORMAT_VERSION);
  view.setUint8(MAGIC.length + 2, flags);
  view.setUint32(MAGIC.length + 3, json.length);
  out.set(json, PRELUDE_BYTES);
  return out;
}

/** Splits an archive into head and payload; throws ERR_BACKUP_CORRUPT / ERR_BACKUP_VERSION. */
export function parseArchive(bytes: Uint8Array): ParsedArchive {
  if (bytes.length < PRELUDE_BYTES) throw corrupt('it is shorter than the fixed header');
  if (!MAGIC.every((b, i) => bytes[i] === b)) throw corrupt('wrong magic bytes');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(MAGIC.length);
  if (version !== FORMAT_VERSION) throw new AppError('ERR_BACKUP_VERSION', `backup format version ${version} is not supported (this server reads version ${FORMAT_VERSION})`);
  const flags = view.getUint8(MAGIC.length + 2);
  if ((flags & ~FLAG_ENCRYPTED) !== 0) throw corrupt(`unknown flags 0x${flags.toString(16)}`);
  const length = view.getUint32(MAGIC.length + 3);
  if (length > MAX_HEADER_BYTES || PRELUDE_BYTES + length > bytes.length) throw corrupt('the header length is out of range (truncated file?)');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PRELUDE_BYTES, PRELUDE_BYTES + length)));
  } catch {
    throw corrupt('the header is not JSON');
  }
  const header = validateHeader(raw, (flags & FLAG_ENCRYPTED) !== 0);
  return { version, flags, header, head: bytes.subarray(0, PRELUDE_BYTES + length), payload: bytes.subarray(PRELUDE_BYTES + length) };
}

function validateHeader(raw: unknown, encrypted: boolean): ArchiveHeader {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw corrupt('the header is not an object');
  const h = raw as Record<string, unknown>;
  const base = plainHeader(h);
  if (encrypted !== (h.kdf !== undefined) || encrypted !== (h.password_check !== undefined)) throw corrupt('the encryption flag and the header disagree');
  if (!encrypted) return base;
  if (typeof h.password_check !== 'string' || base64Length(h.password_check) !== 32) throw corrupt('header.password_check');
  return { ...base, kdf: validateKdf(h.kdf), password_check: h.password_check };
}

/** The fields every header has; unknown extra fields are ignored (and authenticated when encrypted). */
function plainHeader(h: Record<string, unknown>): ArchiveHeader {
  const { created_at, pika_version, entries, payload_sha256 } = h;
  if (typeof created_at !== 'string' || Number.isNaN(Date.parse(created_at))) throw corrupt('header.created_at');
  if (typeof pika_version !== 'string') throw corrupt('header.pika_version');
  if (typeof entries !== 'number' || !Number.isSafeInteger(entries) || entries < 0) throw corrupt('header.entries');
  if (typeof payload_sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(payload_sha256)) throw corrupt('header.payload_sha256');
  return { created_at, pika_version, entries, payload_sha256 };
}

/**
 * The KDF cost comes from the file, so it is bounded before anyone derives with it: an archive
 * must not make the server allocate gigabytes. The bound is the default cost (2^17 × 8 = 128 MiB).
 */
function validateKdf(raw: unknown): KdfParams {
  if (typeof raw !== 'object' || raw === null) throw corrupt('header.kdf');
  const k = raw as Record<string, unknown>;
  const int = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
  if (k.alg !== 'scrypt') throw corrupt('header.kdf.alg must be scrypt');
  if (!int(k.N, 2, 2 ** 20) || (k.N & (k.N - 1)) !== 0) throw corrupt('header.kdf.N must be a power of two up to 2^20');
  if (!int(k.r, 1, 32) || !int(k.p, 1, 16) || k.N * k.r > 2 ** 20) throw corrupt('header.kdf cost is out of range');
  if (typeof k.salt !== 'string') throw corrupt('header.kdf.salt');
  const salt = base64Length(k.salt);
  if (salt < 16 || salt > 64) throw corrupt('header.kdf.salt must be 16 to 64 bytes');
  return { alg: 'scrypt', N: k.N, r: k.r, p: k.p, salt: k.salt };
}

/** Decoded length of canonical base64, or -1. */
export function base64Length(value: string): number {
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes.length : -1;
}
