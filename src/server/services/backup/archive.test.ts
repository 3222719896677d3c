import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.ts';
import { readArchive, writeArchive } from './archive.ts';
import { type ArchiveHeader, encodeHead, FLAG_ENCRYPTED, PRELUDE_BYTES } from './archive-format.ts';
import type { ArchiveEntry } from './archive-payload.ts';

const COST = { N: 2 ** 10, r: 8, p: 1 };
const CREATED = '2030-01-02T03:04:05.000Z';
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

/** Keys with the store's NUL separators, an empty value and bytes that are not UTF-8. */
const ENTRIES: ArchiveEntry[] = [
  { key: 'cfg/file/app/x', value: bytes('{"versions":[1,2]}') },
  { key: 'cfg/ver/app/x\u0000000000000001', value: new Uint8Array([0, 0, 0, 2, 123, 125, 0xff, 0xfe, 0x00]) },
  { key: 'id/user/u1', value: new Uint8Array(0) },
  { key: 'settings/auth', value: bytes('{"oauth2":[{"client_secret":"AhsealedAA=="}]}') },
];

async function* iterate(entries: readonly ArchiveEntry[]): AsyncGenerator<ArchiveEntry> {
  for (const entry of entries) yield entry;
}

const write = (password?: string, entries = ENTRIES) => writeArchive(iterate(entries), { password, createdAt: CREATED, kdfCost: COST });

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected the archive to be refused');
}

const asBuffers = (entries: readonly ArchiveEntry[]) => entries.map((e) => ({ key: e.key, value: Buffer.from(e.value) }));

/** An archive whose payload is exactly `ndjson`, with a matching checksum and entry count. */
function craft(ndjson: string, entries: number): Uint8Array {
  const gzip = gzipSync(Buffer.from(ndjson, 'utf8'));
  const header: ArchiveHeader = { created_at: CREATED, pika_version: 'test', entries, payload_sha256: createHash('sha256').update(gzip).digest('hex') };
  return Buffer.concat([encodeHead(header, 0), gzip]);
}

/** Replaces the JSON header of an archive with `patch` applied (same length or not). */
function withHeader(archive: Uint8Array, patch: (h: Record<string, unknown>) => void): Uint8Array {
  const length = Buffer.from(archive).readUInt32BE(11);
  const header = JSON.parse(Buffer.from(archive.subarray(PRELUDE_BYTES, PRELUDE_BYTES + length)).toString('utf8')) as Record<string, unknown>;
  patch(header);
  const flags = archive[10] ?? 0;
  return Buffer.concat([encodeHead(header as unknown as ArchiveHeader, flags), archive.subarray(PRELUDE_BYTES + length)]);
}

describe('backup archive format', () => {
  it('round-trips every key and value byte for byte, unencrypted', async () => {
    const archive = await write();
    expect(archive.bytes.subarray(0, 8).toString('latin1')).toBe('PIKABAK\0');
    expect(archive.bytes.readUInt16BE(8)).toBe(1);
    expect(archive.bytes[10]).toBe(0);
    expect(archive.header).toMatchObject({ created_at: CREATED, entries: 4 });
    const read = await readArchive(archive.bytes);
    expect(read.encrypted).toBe(false);
    expect(read.header).toEqual(archive.header);
    expect(asBuffers(read.entries)).toEqual(asBuffers(ENTRIES));
    // A plain archive is readable by standard tools: the payload is gzip of NDJSON.
    const length = archive.bytes.readUInt32BE(11);
    expect(archive.bytes.subarray(PRELUDE_BYTES + length, PRELUDE_BYTES + length + 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('round-trips an encrypted archive and keeps the plaintext out of it', async () => {
    const archive = await write('correct horse');
    expect(archive.bytes[10]).toBe(FLAG_ENCRYPTED);
    expect(archive.header.kdf).toMatchObject({ alg: 'scrypt', ...COST });
    const read = await readArchive(archive.bytes, { password: 'correct horse' });
    expect(read.encrypted).toBe(true);
    expect(asBuffers(read.entries)).toEqual(asBuffers(ENTRIES));
    expect(archive.bytes.includes(Buffer.from('client_secret'))).toBe(false);
    expect(archive.bytes.includes(Buffer.from('cfg/file/app/x'))).toBe(false);
  });

  it('round-trips an empty store', async () => {
    const archive = await write(undefined, []);
    expect((await readArchive(archive.bytes)).entries).toEqual([]);
  });

  it('tells a wrong or missing password apart from damage', async () => {
    const archive = await write('correct horse');
    expect((await failure(readArchive(archive.bytes, { password: 'wrong horse' }))).code).toBe('ERR_BACKUP_PASSWORD');
    expect((await failure(readArchive(archive.bytes))).code).toBe('ERR_BACKUP_PASSWORD_REQUIRED');
    expect((await failure(readArchive(archive.bytes, { password: '' }))).code).toBe('ERR_BACKUP_PASSWORD_REQUIRED');
  });

  it('detects a flipped byte anywhere in the payload', async () => {
    for (const password of [undefined, 'correct horse']) {
      const archive = await write(password);
      const length = archive.bytes.readUInt32BE(11);
      for (const at of [PRELUDE_BYTES + length, PRELUDE_BYTES + length + 30, archive.bytes.length - 1]) {
        const tampered = Buffer.from(archive.bytes);
        tampered[at] = (tampered[at] ?? 0) ^ 0x01;
        expect((await failure(readArchive(tampered, { password }))).code, `${password ?? 'plain'} @${at}`).toBe('ERR_BACKUP_CORRUPT');
      }
    }
  });

  it('detects header tampering of an encrypted archive through the associated data', async () => {
    const archive = await write('correct horse');
    // Same length, still valid JSON, password check intact: only the AEAD can notice.
    const later = withHeader(archive.bytes, (h) => { h.created_at = '2031-01-02T03:04:05.000Z'; });
    expect(later.length).toBe(archive.bytes.length);
    const err = await failure(readArchive(later, { password: 'correct horse' }));
    expect(err).toMatchObject({ code: 'ERR_BACKUP_CORRUPT' });
    expect(err.message).toMatch(/altered/);
    const renamed = withHeader(archive.bytes, (h) => { h.pika_version = '9.9.9'; });
    expect((await failure(readArchive(renamed, { password: 'correct horse' }))).code).toBe('ERR_BACKUP_CORRUPT');
  });

  it('detects a changed checksum or entry count in a plain header', async () => {
    const archive = await write();
    const sha = withHeader(archive.bytes, (h) => { h.payload_sha256 = '0'.repeat(64); });
    expect((await failure(readArchive(sha))).message).toMatch(/checksum/);
    const count = withHeader(archive.bytes, (h) => { h.entries = 3; });
    expect((await failure(readArchive(count))).message).toMatch(/announces 3 entries, the payload holds 4/);
  });

  it('refuses truncated archives at every stage', async () => {
    for (const password of [undefined, 'correct horse']) {
      const archive = await write(password);
      const length = archive.bytes.readUInt32BE(11);
      for (const cut of [0, 7, 12, PRELUDE_BYTES + 5, PRELUDE_BYTES + length, archive.bytes.length - 1]) {
        expect((await failure(readArchive(archive.bytes.subarray(0, cut), { password }))).code, `cut at ${cut}`).toBe('ERR_BACKUP_CORRUPT');
      }
    }
  });

  it('refuses foreign files, other versions and unknown flags', async () => {
    const archive = await write();
    const magic = Buffer.from(archive.bytes);
    magic.write('PIKABW\0\u0001', 0, 'latin1');
    expect((await failure(readArchive(magic))).message).toMatch(/magic/);
    expect((await failure(readArchive(Buffer.from('{"not":"a backup"}')))).code).toBe('ERR_BACKUP_CORRUPT');
    const v2 = Buffer.from(archive.bytes);
    v2.writeUInt16BE(2, 8);
    expect(await failure(readArchive(v2))).toMatchObject({ code: 'ERR_BACKUP_VERSION', message: expect.stringMatching(/version 2/) });
    const flags = Buffer.from(archive.bytes);
    flags[10] = 0x02;
    expect((await failure(readArchive(flags))).message).toMatch(/unknown flags/);
    // Flag says encrypted, header has no KDF: refused before any password question.
    const flagged = Buffer.from(archive.bytes);
    flagged[10] = FLAG_ENCRYPTED;
    expect((await failure(readArchive(flagged, { password: 'x' }))).message).toMatch(/encryption flag/);
  });

  it('bounds the KDF cost an archive may ask for', async () => {
    const archive = await write('correct horse');
    for (const kdf of [{ N: 2 ** 22 }, { N: 1000 }, { r: 64 }, { N: 2 ** 20, r: 8 }, { alg: 'argon2id' }, { salt: 'c2hvcnQ=' }]) {
      const greedy = withHeader(archive.bytes, (h) => { h.kdf = { ...(h.kdf as object), ...kdf }; });
      expect((await failure(readArchive(greedy, { password: 'correct horse' }))).code, JSON.stringify(kdf)).toBe('ERR_BACKUP_CORRUPT');
    }
  });

  it('refuses payload lines that are not well-formed entries', async () => {
    const line = (k: unknown, v: unknown) => `${JSON.stringify({ k, v })}\n`;
    // The well-formed line the cases below break one way each.
    expect(asBuffers((await readArchive(craft(line('a', 'AA=='), 1))).entries)).toEqual([{ key: 'a', value: Buffer.from([0]) }]);
    const cases: [string, number, RegExp][] = [
      ['not json\n', 1, /line 1 is not JSON/],
      [line('a', 'AA==').trimEnd(), 1, /incomplete/],
      [line('a', 'AA='), 1, /base64/],
      [line('a', '%%%%'), 1, /base64/],
      [line('', 'AA=='), 1, /not a valid store key/],
      [line('\u0000revision', 'AA=='), 1, /not a valid store key/],
      [line('a', 'AA==') + line('a', 'AQ=='), 2, /appears twice/],
      [`${JSON.stringify({ k: 'a', v: 'AA==', x: 1 })}\n`, 1, /must be/],
      [`${JSON.stringify({ k: 1, v: 'AA==' })}\n`, 1, /must be/],
      ['\n', 1, /not JSON/],
    ];
    for (const [ndjson, entries, message] of cases) {
      expect((await failure(readArchive(craft(ndjson, entries)))).message, JSON.stringify(ndjson)).toMatch(message);
    }
  });

  it('refuses a payload that is not gzip even when its checksum matches', async () => {
    const junk = Buffer.from('this is not gzip');
    const header: ArchiveHeader = { created_at: CREATED, pika_version: 'test', entries: 0, payload_sha256: createHash('sha256').update(junk).digest('hex') };
    expect((await failure(readArchive(Buffer.concat([encodeHead(header, 0), junk])))).message).toMatch(/gzip/);
  });

  it('enforces the size limits on writing and reading', async () => {
    const big: ArchiveEntry[] = Array.from({ length: 50 }, (_, i) => ({ key: `k/${i}`, value: new Uint8Array(1000).fill(i) }));
    const limits = { maxArchiveBytes: 1024 ** 2, maxPlainBytes: 10_000 };
    expect((await failure(writeArchive(iterate(big), { createdAt: CREATED, limits }))).code).toBe('ERR_BACKUP_TOO_LARGE');
    // Compresses far below the archive limit but inflates past the plain limit: a gzip bomb.
    const bomb = (await writeArchive(iterate(big), { createdAt: CREATED })).bytes;
    expect(bomb.length).toBeLessThan(limits.maxPlainBytes);
    expect((await failure(readArchive(bomb, { limits }))).code).toBe('ERR_BACKUP_TOO_LARGE');
    expect((await failure(readArchive(bomb, { limits: { maxArchiveBytes: 100, maxPlainBytes: 1024 ** 2 } }))).code).toBe('ERR_BACKUP_TOO_LARGE');
  });
});
