/**
 * Observation for `npm run bench:operator`: a Kubernetes list + watch (client-node's Watch, one
 * streaming request) that stamps every event with performance.now() the moment it is parsed, so
 * latencies are not quantised by a poll interval. Waiting on a derived condition polls only local
 * state; the times reported are always the event arrival times.
 */
import { type KubeConfig, type KubernetesObject, KubernetesObjectApi, Watch } from '@kubernetes/client-node';

export interface WatchTarget {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  /** The collection URL path, e.g. `/api/v1/namespaces/ns/secrets`. */
  readonly path: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
}

export type WatchEvent = 'LIST' | 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ObjectWatch {
  /** Events seen so far (LIST counts the objects present at the start). */
  readonly events: number;
  stop(): void;
}

/**
 * Lists the objects (each reported as `LIST`), then watches from the list's resourceVersion, so
 * no change between the two is missed; resolves once the API server has accepted the watch. A
 * watch that ends without stop() is reported to `failed`.
 */
export async function watchObjects<T extends KubernetesObject>(
  kc: KubeConfig,
  target: WatchTarget,
  onEvent: (type: WatchEvent, obj: T, at: number) => void,
  failed: (err: unknown) => void,
): Promise<ObjectWatch> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const list = await objects.list<T>(target.apiVersion, target.kind, target.namespace, undefined, undefined, undefined, target.fieldSelector, target.labelSelector);
  let events = 0;
  for (const item of list.items) {
    events++;
    onEvent('LIST', item, performance.now());
  }
  let stopped = false;
  const query: Record<string, string | boolean> = { resourceVersion: list.metadata?.resourceVersion ?? '', allowWatchBookmarks: false };
  if (target.fieldSelector) query.fieldSelector = target.fieldSelector;
  if (target.labelSelector) query.labelSelector = target.labelSelector;
  const controller = await new Watch(kc).watch(
    target.path,
    query,
    (phase: string, obj: T) => {
      const at = performance.now();
      if (phase !== 'ADDED' && phase !== 'MODIFIED' && phase !== 'DELETED') return;
      events++;
      onEvent(phase, obj, at);
    },
    (err: unknown) => {
      if (!stopped) failed(err ?? new Error(`the watch on ${target.path} ended`));
    },
  );
  return {
    get events() {
      return events;
    },
    stop() {
      stopped = true;
      controller.abort();
    },
  };
}

/** Resolves when `done()` holds (checked every 5 ms); rejects after `timeoutMs` or on a watch failure. */
export async function waitUntil(done: () => boolean, what: string, timeoutMs: number, failure: () => unknown): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    const err = failure();
    if (err !== undefined) throw new Error(`${what}: the watch failed: ${err instanceof Error ? err.message : JSON.stringify(err)}`);
    if (Date.now() > deadline) throw new Error(`${what}: not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

export interface Distribution {
  readonly n: number;
  readonly p50_ms: number;
  readonly p95_ms: number;
  readonly max_ms: number;
  readonly min_ms: number;
  readonly mean_ms: number;
}

export function distribution(samples: readonly number[]): Distribution {
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    n: samples.length,
    p50_ms: round(percentile(samples, 50)),
    p95_ms: round(percentile(samples, 95)),
    max_ms: round(Math.max(...samples)),
    min_ms: round(Math.min(...samples)),
    mean_ms: round(samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)),
  };
}

/** A Secret's key, decoded (undefined when absent). */
export function secretValue(obj: { data?: Record<string, string> }, key: string): string | undefined {
  const raw = obj.data?.[key];
  return raw === undefined ? undefined : Buffer.from(raw, 'base64').toString('utf8');
}
