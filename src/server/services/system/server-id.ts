import { randomUUID } from 'node:crypto';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { systemKeys } from '../../storage/keys.ts';
import { isStoreConflict, type Store } from '../../storage/store.ts';

export interface ServerIdDeps {
  readonly store: Pick<Store, 'get' | 'batch'>;
  readonly clock: () => number;
  /** New ids (default: a random UUID). */
  readonly newId?: () => string;
}

interface ServerIdRecord {
  readonly id: string;
  readonly created_at: string;
}

export type ServerIdService = ReturnType<typeof createServerIdService>;

/**
 * The server's stable id (`server_id` in `/api/v1/info` and `/api/v1/key/status`): a random UUID
 * made on the first start and kept in the store (`sys/server-id`), so it survives restarts. It is
 * data like any other key: a backup carries it and a restore brings it back, so restoring a data
 * directory's backup (onto the same or a new machine) keeps the id the operator's sealed unlock
 * requests are bound to. An archive without one (older backups) leaves the current id in place.
 * It is not a secret and is readable while the server is locked (docs/backup.md).
 */
export function createServerIdService(deps: ServerIdDeps) {
  const newId = deps.newId ?? randomUUID;
  let current: string | undefined;

  /** Reads the id, creating it on the first start (compare-on-absent, so two writers agree). */
  async function load(): Promise<string> {
    for (;;) {
      const entry = await deps.store.get(systemKeys.serverId);
      if (entry) {
        current = decodeJson<ServerIdRecord>(entry.value).id;
        return current;
      }
      const record: ServerIdRecord = { id: newId(), created_at: new Date(deps.clock()).toISOString() };
      try {
        await deps.store.batch([{ type: 'put', key: systemKeys.serverId, value: encodeJson(record) }], [{ key: systemKeys.serverId, revision: 0 }]);
      } catch (err) {
        if (isStoreConflict(err)) continue;
        throw err;
      }
      current = record.id;
      return current;
    }
  }

  function id(): string {
    if (current === undefined) throw new Error('the server id has not been loaded');
    return current;
  }

  return { load, id };
}
