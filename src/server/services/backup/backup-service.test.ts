import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.ts';
import { openMemoryStore } from '../../storage/level-store.ts';
import type { BatchOp, Store } from '../../storage/store.ts';
import { encodeHead } from './archive-format.ts';
import { createBackupService, filenameFor, RESTORE_BATCH_OPS, type RestoreOutcome } from './backup-service.ts';

const COST = { N: 2 ** 10, r: 8, p: 1 };
const text = (s: string) => new TextEncoder().encode(s);
const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** A memory store that records the size of every batch, and a backup service over it. */
async function setup(seed: Record<string, string> = {}, failBatch?: number) {
  const store = await openMemoryStore();
  stores.push(store);
  for (const [key, value] of Object.entries(seed)) await store.put(key, text(value));
  const batches: number[] = [];
  const counted: Store = {
    ...store,
    batch: (ops: readonly BatchOp[], conditions) => {
      batches.push(ops.length);
      return batches.length === failBatch ? Promise.reject(new Error('disk full')) : store.batch(ops, conditions);
    },
  };
  const outcomes: RestoreOutcome[] = [];
  let flushes = 0;
  const service = createBackupService({
    store: counted,
    clock: () => Date.parse('2030-04-05T06:07:08.900Z'),
    kdfCost: COST,
    flushAudit: async () => { flushes++; },
    afterRestore: async (outcome) => { outcomes.push(outcome); },
  });
  return { store, service, batches, outcomes, flushes: () => flushes };
}

async function dump(store: Store): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const item of store.iterate('')) out[item.key] = Buffer.from(item.value).toString('utf8');
  return out;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  throw new Error('expected a refusal');
}

const SOURCE = {
  'cfg/file/a': 'file a',
  'id/user/u1': 'user 1',
  'id/session/abc': 'session',
  'id/usersession/u1\u0000abc': '',
  'sys/key': 'key record',
  'feed/seq': '7',
  'feed/event/0000000000000007': 'event 7',
};

describe('backup service', () => {
  it('backs up everything but sessions, after flushing the audit queue', async () => {
    const source = await setup(SOURCE);
    const backup = await source.service.create(undefined);
    expect(source.flushes()).toBe(1);
    expect(backup).toMatchObject({ entries: 5, filename: 'pika-backup-20300405-060708.pikabak', encrypted: false });
    const target = await setup();
    await target.service.restore(backup.bytes, { mode: 'merge' });
    const restored = await dump(target.store);
    expect(Object.keys(restored)).toEqual(['cfg/file/a', 'id/user/u1', 'sys/key']);
    expect(target.outcomes).toEqual([{ keyRecordChanged: true, feedSequence: 7 }]);
  });

  it('merges over existing keys, or wipes what the archive does not hold', async () => {
    const backup = await (await setup({ 'cfg/file/a': 'from backup', 'id/user/u1': 'user 1' })).service.create(undefined);
    const existing = { 'cfg/file/a': 'local', 'cfg/file/b': 'local only', 'id/session/s': 'live session', 'sys/key': 'local key', 'feed/seq': '3' };

    const merged = await setup(existing);
    expect(await merged.service.restore(backup.bytes, { mode: 'merge' })).toEqual({ mode: 'merge', entries: 2 });
    expect(await dump(merged.store)).toEqual({ ...existing, 'cfg/file/a': 'from backup', 'id/user/u1': 'user 1' });
    expect(merged.outcomes).toEqual([{ keyRecordChanged: false, feedSequence: 0 }]);

    const wiped = await setup(existing);
    expect(await wiped.service.restore(backup.bytes, { mode: 'wipe' })).toEqual({ mode: 'wipe', entries: 2 });
    // The feed is left to ChangeFeed.restart (called from afterRestore), everything else goes.
    expect(await dump(wiped.store)).toEqual({ 'cfg/file/a': 'from backup', 'id/user/u1': 'user 1', 'feed/seq': '3' });
    expect(wiped.outcomes).toEqual([{ keyRecordChanged: true, feedSequence: 0 }]);
  });

  it('reports the key record as unchanged only when its bytes are identical', async () => {
    const backup = await (await setup({ 'sys/key': 'same' })).service.create(undefined);
    const same = await setup({ 'sys/key': 'same' });
    await same.service.restore(backup.bytes, { mode: 'wipe' });
    const other = await setup({ 'sys/key': 'other' });
    await other.service.restore(backup.bytes, { mode: 'merge' });
    expect([same.outcomes[0]?.keyRecordChanged, other.outcomes[0]?.keyRecordChanged]).toEqual([false, true]);
  });

  it(`writes in batches of at most ${RESTORE_BATCH_OPS} operations`, async () => {
    const many = Object.fromEntries(Array.from({ length: 1_203 }, (_, i) => [`cfg/file/k${String(i).padStart(5, '0')}`, `v${i}`]));
    const backup = await (await setup(many)).service.create(undefined);
    const target = await setup(Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`old/${i}`, 'x'])));
    target.batches.length = 0;
    await target.service.restore(backup.bytes, { mode: 'wipe' });
    // 1,203 puts, then 600 deletions.
    expect(target.batches).toEqual([500, 500, 500, 303]);
    expect(Object.keys(await dump(target.store))).toHaveLength(1_203);
  });

  it('still runs the hook when the store fails half-way, then reports the failure', async () => {
    const many = Object.fromEntries(Array.from({ length: 700 }, (_, i) => [`cfg/file/k${String(i).padStart(4, '0')}`, 'v']));
    const backup = await (await setup(many)).service.create(undefined);
    const target = await setup({}, 2);
    await expect(target.service.restore(backup.bytes, { mode: 'merge' })).rejects.toThrow('disk full');
    expect(Object.keys(await dump(target.store))).toHaveLength(500);
    expect(target.outcomes).toEqual([{ keyRecordChanged: false, feedSequence: 0 }]);
  });

  it('writes nothing and skips the hook when the archive or password is refused', async () => {
    const backup = await (await setup(SOURCE)).service.create('secret password');
    const target = await setup({ 'cfg/file/z': 'untouched' });
    target.batches.length = 0;
    expect(await refusal(target.service.restore(backup.bytes, { mode: 'wipe', password: 'wrong' }))).toBe('ERR_BACKUP_PASSWORD');
    expect(await refusal(target.service.restore(backup.bytes.subarray(0, 100), { mode: 'wipe' }))).toBe('ERR_BACKUP_CORRUPT');
    expect(target.batches).toEqual([]);
    expect(target.outcomes).toEqual([]);
    expect(target.flushes()).toBe(0);
    expect(await dump(target.store)).toEqual({ 'cfg/file/z': 'untouched' });
  });

  it('refuses archives holding sessions or an unreadable feed sequence', async () => {
    const target = await setup({ 'cfg/file/z': 'untouched' });
    for (const [key, value] of [['id/session/abc', 'e30='], ['id/usersession/u\u0000abc', ''], ['feed/seq', Buffer.from('seven').toString('base64')]] as const) {
      const gzip = gzipSync(`${JSON.stringify({ k: 'cfg/file/y', v: 'e30=' })}\n${JSON.stringify({ k: key, v: value })}\n`);
      const head = encodeHead({ created_at: '2030-01-01T00:00:00.000Z', pika_version: 'test', entries: 2, payload_sha256: createHash('sha256').update(gzip).digest('hex') }, 0);
      expect(await refusal(target.service.restore(Buffer.concat([head, gzip]), { mode: 'merge' })), key).toBe('ERR_BACKUP_CORRUPT');
    }
    expect(await dump(target.store)).toEqual({ 'cfg/file/z': 'untouched' });
  });

  it('names files after the UTC creation time', () => {
    expect(filenameFor('2031-12-30T23:59:58.123Z')).toBe('pika-backup-20311230-235958.pikabak');
  });
});
