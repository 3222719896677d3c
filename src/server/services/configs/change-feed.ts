import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { feedKeys } from '../../storage/keys.ts';
import type { BatchOp, Condition, Store } from '../../storage/store.ts';

export type ChangeType = 'config.created' | 'config.updated' | 'config.deleted';

export interface ChangeEvent {
  type: ChangeType;
  path: string;
  variant?: string | undefined;
  version?: number | undefined;
  /** Monotonic per server; the SSE event id. */
  revision: number;
  user?: string | undefined;
  timestamp: string;
}

export type ChangeDraft = Omit<ChangeEvent, 'revision' | 'timestamp'>;

export interface PreparedChanges {
  readonly ops: BatchOp[];
  readonly conditions: Condition[];
  readonly events: ChangeEvent[];
}

export interface ChangeFeedDeps {
  readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>;
  readonly clock: () => number;
  /** How many events to keep for resuming watchers. */
  readonly retain: number;
}

export type ChangeListener = (event: ChangeEvent) => void;
export type ChangeFeed = ReturnType<typeof createChangeFeed>;

/**
 * The change feed (SPEC §4): every config write appends events with increasing revisions in the
 * same atomic batch as the write (so an event exists exactly when its write does), then announces
 * them to in-process listeners: watchers, the resolved-config cache, later hooks.
 */
export function createChangeFeed(deps: ChangeFeedDeps) {
  const { store, clock } = deps;
  const listeners = new Set<ChangeListener>();

  async function current(): Promise<{ seq: number; revision: number }> {
    const entry = await store.get(feedKeys.sequence);
    return { seq: entry ? Number(new TextDecoder().decode(entry.value)) : 0, revision: entry?.revision ?? 0 };
  }

  /** Ops and a guard condition that append `drafts` to the feed; include them in the write's batch. */
  async function prepare(drafts: readonly ChangeDraft[]): Promise<PreparedChanges> {
    const { seq, revision } = await current();
    const timestamp = new Date(clock()).toISOString();
    const events = drafts.map((d, i) => ({ ...stripUndefined(d), revision: seq + i + 1, timestamp }));
    const ops: BatchOp[] = events.map((e) => ({ type: 'put', key: feedKeys.event(e.revision), value: encodeJson(e) }));
    ops.push({ type: 'put', key: feedKeys.sequence, value: new TextEncoder().encode(String(seq + events.length)) });
    return { ops, conditions: [{ key: feedKeys.sequence, revision }], events };
  }

  /** Announces committed events to listeners. A failing listener never blocks the others. */
  function publish(events: readonly ChangeEvent[]): void {
    for (const event of events) for (const listener of listeners) listener(event);
  }

  function subscribe(listener: ChangeListener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * Events after `revision`, oldest first. `complete` is false when the watcher cannot resume
   * exactly: events it missed were pruned, or it names a revision this server never had.
   */
  async function since(revision: number, limit = 10_000): Promise<{ events: ChangeEvent[]; complete: boolean }> {
    const events: ChangeEvent[] = [];
    for await (const item of store.iterate(feedKeys.eventPrefix, { after: feedKeys.event(revision), limit })) events.push(decodeJson<ChangeEvent>(item.value));
    const first = events[0]?.revision;
    const complete = revision <= (await current()).seq && (first === undefined || first === revision + 1);
    return { events, complete };
  }

  /** Keeps the newest `retain` events. */
  async function prune(): Promise<number> {
    const { seq } = await current();
    const cutoff = seq - deps.retain;
    if (cutoff <= 0) return 0;
    const doomed: BatchOp[] = [];
    for await (const item of store.iterate(feedKeys.eventPrefix)) {
      if (feedKeys.seqOf(item.key) > cutoff) break;
      doomed.push({ type: 'del', key: item.key });
    }
    for (let i = 0; i < doomed.length; i += 500) await store.batch(doomed.slice(i, i + 500));
    return doomed.length;
  }

  return { prepare, publish, subscribe, since, current: async () => (await current()).seq, prune };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
