import { decodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import type { BatchOp, Store } from '../../storage/store.ts';
import type { ArchiveEntry } from './archive-payload.ts';

/**
 * A merge restore writes the archive's keys over the current ones. Entities behind a unique index
 * (usernames, bundle keys, token hashes) need more than that, or two users could end up with the
 * same name: when the archive's index entry points at a different entity than the current one,
 * the archive wins and the displaced entity is removed. When the archive rewrites an entity that
 * the current store indexes under another name, the stale index entry is removed too.
 */
interface UniqueIndex {
  readonly indexPrefix: string;
  readonly entity: (id: string) => string;
  readonly entityPrefix: string;
  /** The index key an entity record is filed under (to find stale entries after a rename). */
  readonly indexOf: (record: unknown) => string | undefined;
  /** Keys that belong to the entity besides its record (a user's session index). */
  readonly extra?: (id: string, store: Pick<Store, 'iterate'>) => Promise<string[]>;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const INDEXES: readonly UniqueIndex[] = [
  {
    indexPrefix: 'id/username/',
    entity: identityKeys.user,
    entityPrefix: identityKeys.userPrefix,
    indexOf: (r) => (typeof (r as { username?: unknown }).username === 'string' ? identityKeys.username((r as { username: string }).username) : undefined),
    extra: async (id, store) => {
      const keys: string[] = [];
      for await (const item of store.iterate(identityKeys.userSessionPrefix(id))) keys.push(item.key, identityKeys.session(identityKeys.userSessionHash(item.key)));
      return keys;
    },
  },
  {
    indexPrefix: 'id/bundlekey/',
    entity: identityKeys.bundle,
    entityPrefix: identityKeys.bundlePrefix,
    indexOf: (r) => (typeof (r as { key?: unknown }).key === 'string' ? identityKeys.bundleKey((r as { key: string }).key) : undefined),
  },
  {
    indexPrefix: 'id/tokenhash/',
    entity: identityKeys.token,
    entityPrefix: identityKeys.tokenPrefix,
    indexOf: (r) => (typeof (r as { hashed_key?: unknown }).hashed_key === 'string' ? identityKeys.tokenHash((r as { hashed_key: string }).hashed_key) : undefined),
  },
];

export async function mergeConflictDeletions(entries: readonly ArchiveEntry[], store: Pick<Store, 'get' | 'iterate'>): Promise<BatchOp[]> {
  const inArchive = new Set(entries.map((e) => e.key));
  const doomed = new Set<string>();
  for (const entry of entries) {
    for (const index of INDEXES) {
      if (entry.key.startsWith(index.indexPrefix)) {
        const current = await store.get(entry.key);
        const currentId = current ? text(current.value) : undefined;
        if (currentId === undefined || currentId === text(entry.value)) continue;
        doomed.add(index.entity(currentId));
        for (const key of (await index.extra?.(currentId, store)) ?? []) doomed.add(key);
      } else if (entry.key.startsWith(index.entityPrefix)) {
        const current = await store.get(entry.key);
        const staleIndex = current ? index.indexOf(decodeJson(current.value)) : undefined;
        if (staleIndex !== undefined && staleIndex !== index.indexOf(decodeJson(entry.value))) doomed.add(staleIndex);
      }
    }
  }
  return [...doomed].filter((key) => !inArchive.has(key)).map((key) => ({ type: 'del', key }));
}
