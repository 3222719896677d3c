import type { KubernetesObject } from '@kubernetes/client-node';
import type { Kube } from './kube.ts';

/**
 * Kubernetes Events with deduplication (the JS client has no recorder): the same reason and
 * message for the same object within the window bumps `count` on the existing Event instead of
 * creating another, so a hot error loop cannot flood the API server.
 */
export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string | undefined;
}

export type EventRecorder = ReturnType<typeof createEventRecorder>;

export function createEventRecorder(kube: Pick<Kube, 'apply'>, options: { readonly component?: string; readonly windowMs?: number; readonly now?: () => number } = {}) {
  const component = options.component ?? 'pika-operator';
  const windowMs = options.windowMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  const seen = new Map<string, { name: string; count: number; first: string; at: number }>();

  async function record(object: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const key = `${object.namespace}/${object.kind}/${object.name}/${object.uid ?? ''}/${type}/${reason}/${message}`;
    const t = now();
    const previous = seen.get(key);
    const fresh = !previous || previous.at < t - windowMs;
    const entry = fresh ? { name: `${object.name}.${t.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`, count: 1, first: new Date(t).toISOString(), at: t } : { ...previous, count: previous.count + 1, at: t };
    seen.set(key, entry);
    if (seen.size > 10_000) seen.delete(seen.keys().next().value ?? '');
    const event: KubernetesObject & Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: entry.name, namespace: object.namespace },
      involvedObject: { apiVersion: object.apiVersion, kind: object.kind, name: object.name, namespace: object.namespace, ...(object.uid ? { uid: object.uid } : {}) },
      type,
      reason,
      message: message.slice(0, 1024),
      count: entry.count,
      firstTimestamp: entry.first,
      lastTimestamp: new Date(t).toISOString(),
      source: { component },
      reportingComponent: component,
    };
    await kube.apply(event, `${component}-events`);
  }

  return {
    /** Never throws: an Event that cannot be written must not fail a reconcile. */
    async emit(object: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
      try {
        await record(object, type, reason, message);
      } catch {
        // best effort by design
      }
    },
  };
}
