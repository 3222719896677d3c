/**
 * The storage port (SPEC §2): a narrow ordered key-value interface every adapter implements and
 * the shared contract suite (`store.contract.ts`) checks. Keys are built only in `keys.ts`.
 *
 * Every write stamps the keys it touches with a store-wide revision that grows by one per batch
 * (etcd's mod_revision). `batch` can compare those revisions first: "key K still has revision R"
 * (R = 0 means "K does not exist"), so read-modify-write sequences are safe without a global lock
 * and port directly to etcd transactions in cluster mode (SPEC §15).
 */
export interface StoreEntry {
  readonly value: Uint8Array;
  /** The store revision of the batch that last wrote this key. Always > 0. */
  readonly revision: number;
}

export interface StoreItem extends StoreEntry {
  readonly key: string;
}

export type BatchOp = { readonly type: 'put'; readonly key: string; readonly value: Uint8Array } | { readonly type: 'del'; readonly key: string };

/** "`key` is still at `revision`" — 0 means the key must not exist. */
export interface Condition {
  readonly key: string;
  readonly revision: number;
}

export interface IterateOptions {
  /** Newest-first (descending key order). */
  readonly reverse?: boolean;
  readonly limit?: number;
  /** Start strictly after this key (strictly before it when `reverse`). Used for paging. */
  readonly after?: string;
}

export interface Store {
  get(key: string): Promise<StoreEntry | undefined>;
  /** Writes one key; returns the new store revision. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** Deletes one key (a missing key is not an error); returns the new store revision. */
  del(key: string): Promise<number>;
  /**
   * Applies all ops atomically after checking every condition; throws {@link StoreConflictError}
   * (and writes nothing) when one does not hold. Returns the new store revision.
   */
  batch(ops: readonly BatchOp[], conditions?: readonly Condition[]): Promise<number>;
  /** Keys starting with `prefix`, in key order. */
  iterate(prefix: string, options?: IterateOptions): AsyncIterable<StoreItem>;
  /** The revision of the newest write. */
  revision(): Promise<number>;
  close(): Promise<void>;
}

export class StoreConflictError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`store condition failed for key ${JSON.stringify(key)}`);
    this.name = 'StoreConflictError';
    this.key = key;
  }
}

export function isStoreConflict(err: unknown): err is StoreConflictError {
  return err instanceof StoreConflictError;
}
