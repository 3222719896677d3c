import type { CachedResponse } from '../../services/configs/data-cache.ts';

/**
 * Remembers the fully checked outcome of a `/data` request — token authenticated, scopes and
 * inherited sources allowed, response resolved — keyed by the exact Authorization header and URL,
 * so a repeated read skips hashing, path parsing and permission matching (SPEC §5, bench goal).
 *
 * An entry is used only while everything it was derived from still holds:
 * - the identity generation is unchanged (any token, user or bundle write moves it, so a
 *   disabled, deleted or rescoped token is re-checked on its next request);
 * - the response is still in the data cache (a write to the config or any inherited source
 *   evicts it);
 * - the token has not expired since.
 * The lock gate runs before the route, so a locked server never reaches the memo.
 */
export interface MemoEntry {
  readonly response: CachedResponse;
  /** Undefined for a token-less reader of a public path (never memoised: no Authorization header). */
  readonly tokenId: string | undefined;
  /** Epoch ms; Infinity for tokens that never expire. */
  readonly expiresAt: number;
  readonly actor: string;
  readonly target: string;
  readonly generation: number;
}

export interface DataMemoDeps {
  readonly generation: () => number;
  readonly isLive: (response: CachedResponse) => boolean;
  readonly clock: () => number;
  readonly maxEntries?: number;
}

export type DataMemo = ReturnType<typeof createDataMemo>;

export function createDataMemo(deps: DataMemoDeps) {
  const entries = new Map<string, MemoEntry>();
  const max = deps.maxEntries ?? 10_000;

  function key(authorization: string, url: string): string {
    return `${authorization}\n${url}`;
  }

  function lookup(authorization: string | undefined, url: string): MemoEntry | undefined {
    if (authorization === undefined) return undefined;
    const k = key(authorization, url);
    const entry = entries.get(k);
    if (!entry) return undefined;
    if (entry.generation === deps.generation() && deps.isLive(entry.response) && entry.expiresAt > deps.clock()) return entry;
    entries.delete(k);
    return undefined;
  }

  function remember(authorization: string, url: string, entry: Omit<MemoEntry, 'generation'>, generation: number): void {
    if (!deps.isLive(entry.response)) return; // uncached responses (external sources) are never memoised
    if (entries.size >= max) entries.clear();
    entries.set(key(authorization, url), { ...entry, generation });
  }

  return { lookup, remember, size: () => entries.size };
}
