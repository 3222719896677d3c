import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { feedKeys } from '../../storage/keys.ts';
import { type BatchOp, type Condition, isStoreConflict, type Store } from '../../storage/store.ts';

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
/** Told the feed's new revision when its history was discarded (a restore); clients must re-read. */
export type ResetListener = (revision: number) => void;
export type ChangeFeed = ReturnType<typeof createChangeFeed>;

/**
 * The change feed (SPEC §4): every config write appends events with increasing revisions in the
 * same atomic batch as the write (so an event exists exactly when its write does), then announces
 * them to in-process listeners: watchers, the resolved-config cache, later hooks.
 */
export function createChangeFeed(deps: ChangeFeedDeps) {
  const { store, clock } = deps;
  const listeners = new Set<ChangeListener>();
  const resetListeners = new Set<ResetListener>();

  async function current(): Promise<{ seq: number; revision: number }> {
    const entry = await store.get(feedKeys.sequence);
    return { seq: entry ? (decodeSequence(entry.value) ?? 0) : 0, revision: entry?.revision ?? 0 };
  }

  /** Ops and a guard condition that append `drafts` to the feed; include them in the write's batch. */
  async function prepare(drafts: readonly ChangeDraft[]): Promise<PreparedChanges> {
    const { seq, revision } = await current();
    const timestamp = new Date(clock()).toISOString();
    const events = drafts.map((d, i) => ({ ...stripUndefined(d), revision: seq + i + 1, timestamp }));
    const ops: BatchOp[] = events.map((e) => ({ type: 'put', key: feedKeys.event(e.revision), value: encodeJson(e) }));
    ops.push({ type: 'put', key: feedKeys.sequence, value: encodeSequence(seq + events.length) });
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
    // The sequence is read first: events committed meanwhile only add to what is found, so
    // "nothing found although the watcher is behind" reliably means its events are gone
    // (pruned, or discarded by a restore).
    const { seq } = await current();
    const events: ChangeEvent[] = [];
    for await (const item of store.iterate(feedKeys.eventPrefix, { after: feedKeys.event(revision), limit })) events.push(decodeJson<ChangeEvent>(item.value));
    const first = events[0]?.revision;
    const complete = revision <= seq && (first === undefined ? revision === seq : first === revision + 1);
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

  function onReset(listener: ResetListener): () => void {
    resetListeners.add(listener);
    return () => resetListeners.delete(listener);
  }

  /**
   * Starts a new history after a restore replaced the data underneath the feed: the sequence
   * moves past both the old one and `floor` (the restored archive's), every retained event is
   * dropped, and listeners hear a reset. Any revision a client holds is then behind with nothing
   * to replay, so a resuming watcher gets `reset` instead of a replay of an unrelated history.
   */
  async function restart(floor: number): Promise<number> {
    let next = 0;
    for (let attempt = 1; ; attempt++) {
      const { seq, revision } = await current();
      next = Math.max(seq, floor) + 1;
      try {
        await store.batch([{ type: 'put', key: feedKeys.sequence, value: encodeSequence(next) }], [{ key: feedKeys.sequence, revision }]);
        break;
      } catch (err) {
        // A config write appended meanwhile; read the sequence again.
        if (!isStoreConflict(err) || attempt >= 5) throw err;
      }
    }
    const doomed: BatchOp[] = [];
    for await (const item of store.iterate(feedKeys.eventPrefix)) {
      if (feedKeys.seqOf(item.key) > next) break;
      doomed.push({ type: 'del', key: item.key });
    }
    for (let i = 0; i < doomed.length; i += 500) await store.batch(doomed.slice(i, i + 500));
    for (const listener of resetListeners) listener(next);
    return next;
  }

  return { prepare, publish, subscribe, onReset, restart, since, current: async () => (await current()).seq, prune };
}

/** The stored sequence is its decimal text; undefined when the bytes are not one. */
export function decodeSequence(bytes: Uint8Array): number | undefined {
  const text = new TextDecoder().decode(bytes);
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) ? n : undefined;
}

function encodeSequence(seq: number): Uint8Array {
  return new TextEncoder().encode(String(seq));
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
