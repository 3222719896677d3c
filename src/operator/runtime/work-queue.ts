/**
 * A deduplicating keyed work queue with delayed adds and per-key exponential backoff — the shape
 * of client-go's workqueue, which the JS client does not ship (style §4.2.8):
 * - a key is queued at most once, however often it is added;
 * - a key being processed is never handed to a second worker; adding it meanwhile marks it dirty
 *   and it is queued again when the first worker calls `done`;
 * - `addAfter` keeps only the earliest pending timer per key;
 * - `addRateLimited` delays by base·2^failures (capped, with jitter) until `forget`.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => {
    clearTimeout(h as NodeJS.Timeout);
  },
  now: () => Date.now(),
};

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** 0.1 = ±10% random spread, so retries of many keys do not arrive in lockstep. */
  readonly jitter: number;
}

export type WorkQueue = ReturnType<typeof createWorkQueue>;

/** `high`: caused by a change someone is waiting for; `low`: background re-checks. */
export type Priority = 'high' | 'low';

export function createWorkQueue(options: { timers?: Timers; backoff?: BackoffOptions; random?: () => number } = {}) {
  const timers = options.timers ?? realTimers;
  const backoff = options.backoff ?? { baseMs: 500, maxMs: 5 * 60_000, jitter: 0.1 };
  const random = options.random ?? Math.random;
  // Two lanes: work caused by a change (high) is never stuck behind background re-checks (low:
  // periodic refresh, the inheritance fan-out of a change elsewhere).
  const queue: string[] = [];
  const low: string[] = [];
  const dirty = new Map<string, Priority>();
  const processing = new Set<string>();
  const waiting = new Map<string, { at: number; handle: unknown }>();
  const failures = new Map<string, number>();
  const waiters: ((key: string | undefined) => void)[] = [];
  let shuttingDown = false;

  function add(key: string, priority: Priority = 'high'): void {
    if (shuttingDown) return;
    const queued = dirty.get(key);
    if (queued !== undefined) {
      // Already waiting: a high-priority add promotes a key waiting in the low lane.
      if (queued === 'low' && priority === 'high') {
        dirty.set(key, 'high');
        const at = low.indexOf(key);
        if (at >= 0) {
          low.splice(at, 1);
          queue.push(key);
        }
      }
      return;
    }
    dirty.set(key, priority);
    if (processing.has(key)) return;
    const waiter = waiters.shift();
    if (waiter) {
      dirty.delete(key);
      processing.add(key);
      waiter(key);
    } else (priority === 'high' ? queue : low).push(key);
  }

  function addAfter(key: string, delayMs: number, priority: Priority = 'high'): void {
    if (shuttingDown) return;
    if (delayMs <= 0) {
      add(key, priority);
      return;
    }
    const at = timers.now() + delayMs;
    const pending = waiting.get(key);
    if (pending && pending.at <= at) return;
    if (pending) timers.clearTimeout(pending.handle);
    const handle = timers.setTimeout(() => {
      waiting.delete(key);
      add(key, priority);
    }, delayMs);
    waiting.set(key, { at, handle });
  }

  /** The next retry delay for a key that failed; grows until `forget`. */
  function nextBackoff(key: string): number {
    const n = failures.get(key) ?? 0;
    failures.set(key, n + 1);
    const raw = Math.min(backoff.baseMs * 2 ** n, backoff.maxMs);
    return Math.round(raw * (1 + backoff.jitter * (2 * random() - 1)));
  }

  function addRateLimited(key: string): number {
    const delay = nextBackoff(key);
    addAfter(key, delay);
    return delay;
  }

  function forget(key: string): void {
    failures.delete(key);
  }

  /** The next key to process; resolves undefined once the queue shuts down. */
  function get(): Promise<string | undefined> {
    const key = queue.shift() ?? low.shift();
    if (key !== undefined) {
      dirty.delete(key);
      processing.add(key);
      return Promise.resolve(key);
    }
    if (shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => waiters.push(resolve));
  }

  function done(key: string): void {
    processing.delete(key);
    const again = dirty.get(key);
    if (again !== undefined) {
      dirty.delete(key);
      add(key, again);
    }
  }

  function shutDown(): void {
    shuttingDown = true;
    for (const { handle } of waiting.values()) timers.clearTimeout(handle);
    waiting.clear();
    for (const waiter of waiters.splice(0)) waiter(undefined);
  }

  return {
    add,
    addAfter,
    addRateLimited,
    forget,
    get,
    done,
    shutDown,
    failures: (key: string) => failures.get(key) ?? 0,
    len: () => queue.length + low.length,
    isProcessing: (key: string) => processing.has(key),
  };
}
