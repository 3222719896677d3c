import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { syncKeys } from '../../storage/keys.ts';
import type { Store } from '../../storage/store.ts';

/** What one run of a user-sync source did (`POST /api/v1/user-sync/run/<id>`, `GET …/status`). */
export interface SyncResult {
  source: string;
  started_at: string;
  finished_at: string;
  /** Who started it: a username, `token:<name>`, or `scheduler`. */
  trigger: string;
  created: number;
  updated: number;
  disabled: number;
  enabled: number;
  unchanged: number;
  /** Problems, one line each; a run that could not reach the directory has exactly one. */
  errors: string[];
}

export type SyncStatus = ReturnType<typeof createSyncStatus>;

/**
 * The persistent side of the user sync: the last result per source (so the status survives a
 * restart and the scheduler knows when a source last ran) and the markers of users a source
 * disabled. The markers are what makes re-enabling safe: a user an administrator disabled by
 * hand has none, so the sync never re-enables them.
 */
export function createSyncStatus(store: Pick<Store, 'get' | 'batch'>) {
  async function last(sourceId: string): Promise<SyncResult | undefined> {
    const entry = await store.get(syncKeys.status(sourceId));
    return entry ? decodeJson<SyncResult>(entry.value) : undefined;
  }

  async function save(result: SyncResult): Promise<void> {
    await store.batch([{ type: 'put', key: syncKeys.status(result.source), value: encodeJson(result) }]);
  }

  async function disabledBySync(sourceId: string, userId: string): Promise<boolean> {
    return (await store.get(syncKeys.disabled(sourceId, userId))) !== undefined;
  }

  async function markDisabled(sourceId: string, userId: string): Promise<void> {
    await store.batch([{ type: 'put', key: syncKeys.disabled(sourceId, userId), value: new Uint8Array() }]);
  }

  async function clearDisabled(sourceId: string, userId: string): Promise<void> {
    await store.batch([{ type: 'del', key: syncKeys.disabled(sourceId, userId) }]);
  }

  return { last, save, disabledBySync, markDisabled, clearDisabled };
}
