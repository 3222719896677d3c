import { mergeConflictDeletions } from './merge-conflicts.ts';
import { AppError } from '../../../shared/errors.ts';
import { createMutex } from '../../storage/mutex.ts';
import { feedKeys, SESSION_PREFIXES, systemKeys } from '../../storage/keys.ts';
import type { BatchOp, Store } from '../../storage/store.ts';
import { decodeSequence } from '../configs/change-feed.ts';
import { type KdfCost, readArchive, writeArchive } from './archive.ts';
import type { ArchiveEntry, ArchiveLimits } from './archive-payload.ts';

/**
 * Backup and restore of the whole store (SPEC §7.4, docs/backup.md). A backup is every key except
 * sign-in sessions, values exactly as stored — sealed settings and the server key record stay
 * ciphertext. A restore reads and checks the entire archive first and writes only after that.
 */
export type RestoreMode = 'merge' | 'wipe';

/** What the rest of the server must catch up on once the store was rewritten underneath it. */
export interface RestoreOutcome {
  /** `sys/key` differs from before: the key in memory no longer matches the record. */
  readonly keyRecordChanged: boolean;
  /** The restored archive's change-feed sequence (0 if it had none). */
  readonly feedSequence: number;
}

export interface BackupServiceDeps {
  readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>;
  readonly clock: () => number;
  /** scrypt cost for backup passwords (default: the server key's default). */
  readonly kdfCost?: KdfCost | undefined;
  readonly limits?: ArchiveLimits | undefined;
  /** Writes queued audit entries, so a backup holds every action before it. */
  readonly flushAudit: () => Promise<void>;
  readonly afterRestore: (outcome: RestoreOutcome) => Promise<void>;
}

export interface CreatedBackup {
  readonly bytes: Buffer;
  readonly entries: number;
  readonly filename: string;
  readonly encrypted: boolean;
}

/** Store writes per batch: each batch is one LevelDB write, kept small enough to stay cheap. */
export const RESTORE_BATCH_OPS = 500;

export type BackupService = ReturnType<typeof createBackupService>;

const isSessionKey = (key: string) => SESSION_PREFIXES.some((prefix) => key.startsWith(prefix));
// The change feed is history, not data: a restore starts a new one (ChangeFeed.restart).
const isFeedKey = (key: string) => key === feedKeys.sequence || key.startsWith(feedKeys.eventPrefix);

export function createBackupService(deps: BackupServiceDeps) {
  const { store } = deps;
  // One backup or restore at a time: a backup taken during a restore would capture a mix.
  const exclusive = createMutex();

  async function* storeEntries(): AsyncGenerator<ArchiveEntry> {
    // One iterator over the whole store: LevelDB iterators read from an implicit snapshot, so
    // the archive is one point in time even while requests keep writing.
    for await (const item of store.iterate('')) if (!isSessionKey(item.key)) yield { key: item.key, value: item.value };
  }

  function create(password: string | undefined): Promise<CreatedBackup> {
    return exclusive(async () => {
      await deps.flushAudit();
      const createdAt = new Date(deps.clock()).toISOString();
      const archive = await writeArchive(storeEntries(), { password, createdAt, kdfCost: deps.kdfCost, limits: deps.limits });
      return { bytes: archive.bytes, entries: archive.header.entries, filename: filenameFor(createdAt), encrypted: archive.header.kdf !== undefined };
    });
  }

  function restore(bytes: Uint8Array, options: { password?: string | undefined; mode: RestoreMode }): Promise<{ mode: RestoreMode; entries: number }> {
    return exclusive(async () => {
      const { entries } = await readArchive(bytes, { password: options.password, limits: deps.limits });
      const feedSequence = validateEntries(entries);
      // Validation is over: from here on the store is written.
      await deps.flushAudit();
      const keyBefore = (await store.get(systemKeys.key))?.value;
      const data = entries.filter((e) => !isFeedKey(e.key));
      const ops: BatchOp[] = data.map((e) => ({ type: 'put', key: e.key, value: e.value }));
      if (options.mode === 'wipe') ops.push(...(await deletionsFor(new Set(data.map((e) => e.key)))));
      else ops.push(...(await mergeConflictDeletions(data, store)));
      const keyInArchive = entries.find((e) => e.key === systemKeys.key)?.value;
      const keyAfter = keyInArchive ?? (options.mode === 'wipe' ? undefined : keyBefore);
      let written = false;
      try {
        // Puts first, deletions last: an interrupted wipe leaves the archive's data in place.
        for (let i = 0; i < ops.length; i += RESTORE_BATCH_OPS) {
          await store.batch(ops.slice(i, i + RESTORE_BATCH_OPS));
          written = true;
        }
      } finally {
        // Even a restore that failed half-way changed the store: the services must not keep
        // serving what they cached from before.
        if (written) await deps.afterRestore({ keyRecordChanged: !sameBytes(keyBefore, keyAfter), feedSequence });
      }
      return { mode: options.mode, entries: entries.length };
    });
  }

  /**
   * Every existing key the archive does not have, sessions included; the feed restarts on its own,
   * and the server id stays when the archive has none (a backup from before ids existed).
   */
  async function deletionsFor(keep: ReadonlySet<string>): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    for await (const item of store.iterate('')) if (!keep.has(item.key) && !isFeedKey(item.key) && item.key !== systemKeys.serverId) ops.push({ type: 'del', key: item.key });
    return ops;
  }

  return { create, restore };
}

/**
 * What the archive format cannot check on its own: no sessions (a backup never holds them, so an
 * archive that does was not written by pika) and a readable feed sequence. Returns the sequence.
 */
function validateEntries(entries: readonly ArchiveEntry[]): number {
  let feedSequence = 0;
  for (const entry of entries) {
    if (isSessionKey(entry.key)) throw new AppError('ERR_BACKUP_CORRUPT', `the backup archive is damaged or not a pika backup: it holds a sign-in session (${JSON.stringify(entry.key)})`);
    if (entry.key !== feedKeys.sequence) continue;
    const seq = decodeSequence(entry.value);
    if (seq === undefined) throw new AppError('ERR_BACKUP_CORRUPT', 'the backup archive is damaged or not a pika backup: the change-feed sequence is not a number');
    feedSequence = seq;
  }
  return feedSequence;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** `pika-backup-YYYYMMDD-HHMMSS.pikabak`, in UTC. */
export function filenameFor(iso: string): string {
  const compact = iso.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `pika-backup-${compact}.pikabak`;
}
