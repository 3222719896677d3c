import { randomBytes } from 'node:crypto';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { auditKeys, pad } from '../../storage/keys.ts';
import type { Store } from '../../storage/store.ts';

export interface AuditEntry {
  id: string;
  time: string;
  /** `METHOD /route/pattern`, or a named event such as `login.success`. */
  action: string;
  actor: string;
  actor_type: 'user' | 'token' | 'anonymous';
  target?: string | undefined;
  status: number;
  ip?: string | undefined;
  request_id?: string | undefined;
  detail?: string | undefined;
}

export interface AuditQuery {
  limit: number;
  offset: number;
  actor?: string | undefined;
  action?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
}

export interface AuditServiceDeps {
  readonly store: Pick<Store, 'batch' | 'iterate'>;
  readonly clock: () => number;
  readonly retentionMs: number;
  readonly onError: (err: unknown) => void;
}

export type AuditService = ReturnType<typeof createAuditService>;

/**
 * The audit log (SPEC §14). Entries are written in small batches right after the response (a
 * burst of requests costs one store write), keyed by a time-sortable id so the newest come first
 * with a reverse scan. `flush()` is awaited on shutdown so nothing queued is lost.
 */
export function createAuditService(deps: AuditServiceDeps) {
  const { store, clock } = deps;
  let queue: AuditEntry[] = [];
  let pending: Promise<void> | undefined;
  let sequence = 0;

  function newAuditId(now: number): string {
    sequence = (sequence + 1) % 1_000_000;
    return `${pad(now, 14)}${pad(sequence, 6)}-${randomBytes(4).toString('hex')}`;
  }

  function record(entry: Omit<AuditEntry, 'id' | 'time'>): AuditEntry {
    const now = clock();
    const full: AuditEntry = { id: newAuditId(now), time: new Date(now).toISOString(), ...entry };
    queue.push(full);
    pending ??= new Promise<void>((resolve) => setImmediate(resolve)).then(write);
    return full;
  }

  async function write(): Promise<void> {
    const batch = queue;
    queue = [];
    pending = undefined;
    if (batch.length === 0) return;
    try {
      await store.batch(batch.map((e) => ({ type: 'put' as const, key: auditKeys.entry(e.id), value: encodeJson(e) })));
    } catch (err) {
      deps.onError(err);
    }
  }

  async function flush(): Promise<void> {
    while (pending) await pending;
  }

  async function query(q: AuditQuery): Promise<{ entries: AuditEntry[]; total: number }> {
    await flush();
    const entries: AuditEntry[] = [];
    let total = 0;
    const needleActor = q.actor?.toLowerCase();
    const needleAction = q.action?.toLowerCase();
    for await (const item of store.iterate(auditKeys.prefix, { reverse: true })) {
      const entry = decodeJson<AuditEntry>(item.value);
      const at = Date.parse(entry.time);
      if (q.until !== undefined && at > q.until) continue;
      if (q.since !== undefined && at < q.since) break;
      if (needleActor !== undefined && entry.actor.toLowerCase() !== needleActor) continue;
      if (needleAction !== undefined && !entry.action.toLowerCase().includes(needleAction)) continue;
      if (total >= q.offset && entries.length < q.limit) entries.push(entry);
      total++;
    }
    return { entries, total };
  }

  /** Deletes entries older than the retention window. */
  async function prune(): Promise<number> {
    const cutoff = auditKeys.entry(pad(clock() - deps.retentionMs, 14));
    const doomed: string[] = [];
    for await (const item of store.iterate(auditKeys.prefix)) {
      if (item.key >= cutoff) break;
      doomed.push(item.key);
    }
    for (let i = 0; i < doomed.length; i += 500) await store.batch(doomed.slice(i, i + 500).map((key) => ({ type: 'del' as const, key })));
    return doomed.length;
  }

  return { record, flush, query, prune };
}
