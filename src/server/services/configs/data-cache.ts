/**
 * Cache of rendered `/data` responses (SPEC §5: repeated reads do no parsing or merging).
 * Each entry remembers every config it was built from; a change to any of them drops it. Entries
 * are kept in least-recently-used order within a count and a byte budget.
 */
export interface CachedResponse {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly version: number;
  /** File keys the response was built from, the requested one first. */
  readonly deps: readonly string[];
}

export interface DataCacheOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export type DataCache = ReturnType<typeof createDataCache>;

export function createDataCache(options: DataCacheOptions) {
  const entries = new Map<string, CachedResponse>();
  const byDep = new Map<string, Set<string>>();
  let bytes = 0;
  let generation = 0;

  /** Responses currently cached: a holder of one can tell whether it is still current. */
  const live = new WeakSet<CachedResponse>();

  function drop(key: string): void {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    live.delete(entry);
    bytes -= entry.body.length;
    for (const dep of entry.deps) {
      const keys = byDep.get(dep);
      keys?.delete(key);
      // Evicted entries must not leave empty index sets behind for configs never written again.
      if (keys?.size === 0) byDep.delete(dep);
    }
  }

  function get(key: string): CachedResponse | undefined {
    const entry = entries.get(key);
    if (entry) {
      entries.delete(key);
      entries.set(key, entry); // most recently used last
    }
    return entry;
  }

  /** Stores a response computed since `startedAt` (a {@link mark}); skipped if a write happened since. */
  function set(key: string, value: CachedResponse, startedAt: number): void {
    if (startedAt !== generation || value.body.length > options.maxBytes / 4) return;
    drop(key);
    entries.set(key, value);
    live.add(value);
    bytes += value.body.length;
    for (const dep of value.deps) {
      let keys = byDep.get(dep);
      if (!keys) byDep.set(dep, (keys = new Set()));
      keys.add(key);
    }
    while (entries.size > options.maxEntries || bytes > options.maxBytes) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      drop(oldest.value);
    }
  }

  function invalidate(fileKey: string): void {
    generation++;
    const keys = byDep.get(fileKey);
    if (!keys) return;
    for (const key of [...keys]) drop(key);
    byDep.delete(fileKey);
  }

  /** Drops everything (a restore replaced the data); responses being built now are not cached. */
  function clear(): void {
    generation++;
    for (const key of [...entries.keys()]) drop(key);
  }

  /** Sizes for metrics and tests: entries, body bytes, and configs indexed for invalidation. */
  const stats = () => ({ entries: entries.size, bytes, deps: byDep.size });

  return { get, set, invalidate, clear, isLive: (response: CachedResponse) => live.has(response), mark: () => generation, size: () => entries.size, stats };
}
