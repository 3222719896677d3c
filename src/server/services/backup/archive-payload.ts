import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { AppError } from '../../../shared/errors.ts';
import { RESERVED_PREFIX } from '../../storage/keys.ts';

/**
 * The payload of a backup: gzip of NDJSON, one `{"k": key, "v": base64(value)}` line per store
 * key, in key order. Both directions stream through zlib, so neither the uncompressed text nor
 * (on restore) the decompressed buffer is ever held whole; the caps keep a hostile or runaway
 * archive from exhausting memory (docs/backup.md, "Limits").
 */
export interface ArchiveEntry {
  readonly key: string;
  readonly value: Uint8Array;
}

export interface ArchiveLimits {
  /** Largest archive written or accepted (compressed, header included). */
  readonly maxArchiveBytes: number;
  /** Largest uncompressed NDJSON payload written or accepted. */
  readonly maxPlainBytes: number;
}

/** 1 GiB compressed (the restore body limit) and 2 GiB of NDJSON. */
export const DEFAULT_LIMITS: ArchiveLimits = { maxArchiveBytes: 1024 ** 3, maxPlainBytes: 2 * 1024 ** 3 };

const corrupt = (why: string) => new AppError('ERR_BACKUP_CORRUPT', `the backup archive is damaged or not a pika backup: ${why}`);
const tooLarge = (what: string, limit: number) => new AppError('ERR_BACKUP_TOO_LARGE', `the backup ${what} exceeds the limit of ${limit} bytes`);

export interface EncodedPayload {
  readonly gzip: Buffer;
  readonly entries: number;
  /** hex SHA-256 of `gzip`. */
  readonly sha256: string;
}

export async function encodePayload(entries: AsyncIterable<ArchiveEntry>, limits: ArchiveLimits): Promise<EncodedPayload> {
  let count = 0;
  let plain = 0;
  async function* lines(): AsyncGenerator<Buffer> {
    for await (const entry of entries) {
      const line = Buffer.from(`${JSON.stringify({ k: entry.key, v: Buffer.from(entry.value).toString('base64') })}\n`, 'utf8');
      plain += line.length;
      if (plain > limits.maxPlainBytes) throw tooLarge('uncompressed payload', limits.maxPlainBytes);
      count++;
      yield line;
    }
  }
  const chunks: Buffer[] = [];
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(Readable.from(lines()), createGzip(), async (gzipped: AsyncIterable<Buffer>) => {
    for await (const chunk of gzipped) {
      size += chunk.length;
      if (size > limits.maxArchiveBytes) throw tooLarge('archive', limits.maxArchiveBytes);
      hash.update(chunk);
      chunks.push(chunk);
    }
  });
  return { gzip: Buffer.concat(chunks), entries: count, sha256: hash.digest('hex') };
}

/**
 * Decompresses and parses every line; any malformed line, bad base64, reserved or repeated key
 * makes the whole archive corrupt. The caller has already verified the checksum, so this only
 * fails for archives written wrongly, never for transport damage.
 */
export async function decodePayload(gzip: Uint8Array, limits: ArchiveLimits): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  const seen = new Set<string>();
  // Bytes of the current, unfinished line, as chunks: joining only once its newline arrives keeps
  // a long line (a large config) linear instead of re-copying it for every chunk.
  let partial: Buffer[] = [];
  let total = 0;
  const take = (line: Buffer) => {
    const entry = parseLine(line, entries.length + 1);
    if (seen.has(entry.key)) throw corrupt(`line ${entries.length + 1}: key ${JSON.stringify(entry.key)} appears twice`);
    seen.add(entry.key);
    entries.push(entry);
  };
  const gunzip = createGunzip();
  gunzip.end(gzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limits.maxPlainBytes) throw tooLarge('uncompressed payload', limits.maxPlainBytes);
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        partial.push(chunk.subarray(start, nl));
        take(Buffer.concat(partial));
        partial = [];
        start = nl + 1;
      }
      if (start < chunk.length) partial.push(chunk.subarray(start));
    }
  } catch (err) {
    gunzip.destroy();
    if (err instanceof AppError) throw err;
    throw corrupt('the payload is not valid gzip');
  }
  if (partial.length > 0) throw corrupt('the last line is incomplete');
  return entries;
}

function parseLine(line: Buffer, n: number): ArchiveEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(line.toString('utf8'));
  } catch {
    throw corrupt(`line ${n} is not JSON`);
  }
  if (typeof raw !== 'object' || raw === null) throw corrupt(`line ${n} is not an object`);
  const { k, v, ...rest } = raw as Record<string, unknown>;
  if (typeof k !== 'string' || typeof v !== 'string' || Object.keys(rest).length > 0) throw corrupt(`line ${n} must be {"k": string, "v": base64}`);
  if (k === '' || k.startsWith(RESERVED_PREFIX)) throw corrupt(`line ${n}: ${JSON.stringify(k)} is not a valid store key`);
  const value = Buffer.from(v, 'base64');
  // Node's decoder skips invalid characters silently; only a canonical encoding is accepted.
  if (value.toString('base64') !== v) throw corrupt(`line ${n}: the value is not valid base64`);
  return { key: k, value: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
}
