import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { PikaConfig } from '../../shared/crds/index.ts';
import { parseDuration } from '../../shared/duration.ts';
import type { Kube } from '../kube/kube.ts';

/**
 * Rollout restarts of the workloads a PikaConfig names (issue 7.4), debounced: the first data
 * change opens a window of `rollout.debounce`; when it closes, every workload whose pod template
 * does not carry the current content hash gets it, which makes its controller roll the pods.
 * A burst of changes therefore causes one restart, with the last data.
 *
 * Never on the first sync (there is no previous hash) and never because the operator restarted
 * (the previous hash lives in status and the key of the HMAC in a Secret, so both compare equal).
 * A window still open when the operator stops is recovered for workloads that carry an older
 * hash from an earlier restart; one that has never been restarted waits for the next change.
 */
export function rolloutAnnotation(configName: string): string {
  const name = configName.length <= 63 ? configName : `${configName.slice(0, 50)}-${createHash('sha256').update(configName).digest('hex').slice(0, 12)}`;
  return `checksum.pika.io/${name}`;
}

export type RolloutTracker = ReturnType<typeof createRolloutTracker>;

type Workload = KubernetesObject & { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };

export function createRolloutTracker(deps: { readonly kube: Pick<Kube, 'get' | 'mergePatch'>; readonly now: () => number; readonly onRestart?: (kind: string) => void }) {
  /** When the pending window of each PikaConfig opened. */
  const pending = new Map<string, number>();

  type Target = { readonly kind: string; readonly name: string };
  const read = (namespace: string, t: Target) => deps.kube.get<Workload>({ apiVersion: 'apps/v1', kind: t.kind, name: t.name, namespace });
  const stampOf = (w: Workload | undefined, annotation: string) => w?.spec?.template?.metadata?.annotations?.[annotation];

  /** A workload stamped by an earlier restart but with an older hash: a window lost to an operator restart. */
  async function staleStamp(namespace: string, targets: readonly Target[], annotation: string, hmac: string): Promise<boolean> {
    for (const target of targets) {
      const stamped = stampOf(await read(namespace, target), annotation);
      if (stamped !== undefined && stamped !== hmac) return true;
    }
    return false;
  }

  async function restart(namespace: string, targets: readonly Target[], annotation: string, hmac: string): Promise<void> {
    for (const target of targets) {
      const workload = await read(namespace, target);
      if (!workload || stampOf(workload, annotation) === hmac) continue;
      await deps.kube.mergePatch({ apiVersion: 'apps/v1', kind: target.kind, name: target.name, namespace }, { spec: { template: { metadata: { annotations: { [annotation]: hmac } } } } });
      deps.onRestart?.(target.kind);
    }
  }

  return {
    /**
     * Called after every successful sync with the data's HMAC and the one status held before.
     * Returns the ms until a pending restart is due (the caller requeues then), or undefined.
     */
    async observe(key: string, config: PikaConfig, hmac: string, previous: string | undefined): Promise<number | undefined> {
      const rollout = config.spec.rollout;
      if (!rollout) {
        pending.delete(key);
        return undefined;
      }
      const namespace = config.metadata.namespace ?? 'default';
      const annotation = rolloutAnnotation(config.metadata.name ?? '');
      const changed = previous !== undefined && previous !== hmac;
      if (!pending.has(key) && (changed || (await staleStamp(namespace, rollout.targets, annotation, hmac)))) pending.set(key, deps.now());
      const since = pending.get(key);
      if (since === undefined) return undefined;
      const due = since + parseDuration(rollout.debounce ?? '10s') - deps.now();
      if (due > 0) return due;
      pending.delete(key);
      await restart(namespace, rollout.targets, annotation, hmac);
      return undefined;
    },
    forget(key: string): void {
      pending.delete(key);
    },
  };
}
