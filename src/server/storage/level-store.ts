import type { AbstractBatchOptions, AbstractLevel } from 'abstract-level';
import { ClassicLevel } from 'classic-level';
import { MemoryLevel } from 'memory-level';
import type { BatchOp, Condition, IterateOptions, Store, StoreEntry, StoreItem } from './store.ts';
import { StoreConflictError } from './store.ts';
import { REVISION_KEY, RESERVED_PREFIX } from './keys.ts';
import { createMutex } from './mutex.ts';

type Level = AbstractLevel<string | Uint8Array, string, Uint8Array>;

export interface LevelStoreOptions {
  /** fsync every batch before acknowledging it (survives power loss, not only a killed process). */
  readonly sync: boolean;
}

/**
 * The store on any abstract-level database: classic-level on disk (the embedded default) or
 * memory-level (tests). Values are framed as 8-byte big-endian revision ‖ payload. One process owns
 * the database (LevelDB's lock file enforces it), so an in-process mutex makes compare-and-write
 * atomic; the write itself is one LevelDB batch, so a crash never leaves half of it.
 */
export async function openLevelStore(db: Level, options: LevelStoreOptions): Promise<Store> {
  await db.open();
  const stored = await db.get(REVISION_KEY);
  let revision = stored ? Number(readRevision(stored)) : 0;
  const lock = createMutex();

  async function get(key: string): Promise<StoreEntry | undefined> {
    const raw = await db.get(key);
    return raw ? decode(raw) : undefined;
  }

  async function check(conditions: readonly Condition[]): Promise<void> {
    const keys = conditions.map((c) => c.key);
    const raws = keys.length > 0 ? await db.getMany(keys) : [];
    conditions.forEach((cond, i) => {
      const raw = raws[i];
      const current = raw ? Number(readRevision(raw)) : 0;
      if (current !== cond.revision) throw new StoreConflictError(cond.key);
    });
  }

  async function batch(ops: readonly BatchOp[], conditions: readonly Condition[] = []): Promise<number> {
    for (const op of ops) assertUserKey(op.key);
    return lock(async () => {
      await check(conditions);
      const next = revision + 1;
      const framed = ops.map((op) =>
        op.type === 'put' ? { type: 'put' as const, key: op.key, value: frame(next, op.value) } : { type: 'del' as const, key: op.key },
      );
      framed.push({ type: 'put', key: REVISION_KEY, value: frame(next, new Uint8Array(0)) });
      // `sync` is classic-level's (LevelDB WriteOptions.sync); memory-level ignores it.
      await db.batch(framed, { sync: options.sync } as AbstractBatchOptions<string, Uint8Array>);
      revision = next;
      return next;
    });
  }

  async function* iterate(prefix: string, opts: IterateOptions = {}): AsyncIterable<StoreItem> {
    const range: Record<string, unknown> = { reverse: opts.reverse ?? false, limit: opts.limit ?? -1 };
    const upper = prefixUpperBound(prefix);
    if (opts.reverse) {
      range.gte = prefix;
      if (opts.after !== undefined) range.lt = opts.after;
      else if (upper !== undefined) range.lt = upper;
    } else {
      range[opts.after !== undefined ? 'gt' : 'gte'] = opts.after ?? prefix;
      if (upper !== undefined) range.lt = upper;
    }
    for await (const [key, raw] of db.iterator(range)) {
      if (!key.startsWith(prefix) || key.startsWith(RESERVED_PREFIX)) continue;
      const entry = decode(raw);
      yield { key, value: entry.value, revision: entry.revision };
    }
  }

  return {
    get,
    put: (key, value) => batch([{ type: 'put', key, value }]),
    del: (key) => batch([{ type: 'del', key }]),
    batch,
    iterate,
    revision: () => Promise.resolve(revision),
    close: () => lock(() => db.close()),
  };
}

export function openDiskStore(path: string, options: LevelStoreOptions): Promise<Store> {
  return openLevelStore(new ClassicLevel<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' }), options);
}

export function openMemoryStore(): Promise<Store> {
  return openLevelStore(new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }), { sync: false });
}

function assertUserKey(key: string): void {
  if (key.length === 0 || key.startsWith(RESERVED_PREFIX)) throw new Error(`invalid store key ${JSON.stringify(key)}`);
}

function frame(revision: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(revision));
  out.set(payload, 8);
  return out;
}

function readRevision(raw: Uint8Array): bigint {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigUint64(0);
}

function decode(raw: Uint8Array): StoreEntry {
  return { revision: Number(readRevision(raw)), value: raw.subarray(8) };
}

/** The smallest string greater than every string starting with `prefix` (undefined: no bound). */
function prefixUpperBound(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last === 0xffff) return undefined;
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
