import type { ClusterPikaServer, Condition, PikaServer, PikaServerStatus } from '../../shared/crds/index.ts';
import type { Kube } from '../kube/kube.ts';
import { PikaError } from '../pika/pika-client.ts';
import type { ReconcileResult } from '../runtime/controller.ts';
import { ResolveError, type ServerConnections } from '../servers/server-connections.ts';
import { type ConditionInput, sameConditions, setConditions } from '../sync/conditions.ts';

/**
 * Checks a PikaServer or ClusterPikaServer (key `PikaServer/<ns>/<name>` or
 * `ClusterPikaServer/<name>`): reachable, token accepted, unlocked. Its lock state feeds the
 * connection registry, which announces an unlock so every dependent resyncs at once; that is why
 * a locked or unreachable server is checked every couple of seconds and a healthy one rarely.
 */
export interface PikaServerReconcilerDeps {
  readonly servers: { get(name: string, namespace?: string): PikaServer | undefined };
  readonly clusterServers: { get(name: string): ClusterPikaServer | undefined };
  readonly connections: Pick<ServerConnections, 'resolve' | 'setLocked' | 'forget'>;
  readonly kube: Pick<Kube, 'patchStatus'>;
  readonly checkIntervalMs: number;
  readonly lockedCheckIntervalMs: number;
  readonly onError?: (reason: string) => void;
  readonly now?: () => number;
}

export function createPikaServerReconciler(deps: PikaServerReconcilerDeps) {
  const now = deps.now ?? Date.now;

  async function reconcile(key: string): Promise<ReconcileResult | undefined> {
    const parts = key.split('/');
    const cluster = parts[0] === 'ClusterPikaServer';
    const name = parts[parts.length - 1] ?? '';
    const namespace = cluster ? '' : (parts[1] ?? '');
    const server = cluster ? deps.clusterServers.get(name) : deps.servers.get(name, namespace);
    if (!server) {
      await deps.connections.forget(key);
      return undefined;
    }

    const conditions: ConditionInput[] = [];
    const status: PikaServerStatus = {};
    let healthy = false;
    try {
      const connection = await deps.connections.resolve({ kind: cluster ? 'ClusterPikaServer' : 'PikaServer', name }, namespace, { tenancy: false });
      const key_ = await connection.client.keyStatus();
      conditions.push({ type: 'Reachable', status: 'True', reason: 'Reachable', message: `answered at ${server.spec.url}` });
      deps.connections.setLocked(connection.key, !key_.unlocked);
      conditions.push(key_.unlocked ? { type: 'Unlocked', status: 'True', reason: 'Unlocked', message: 'the server key is unlocked' } : { type: 'Unlocked', status: 'False', reason: 'ServerLocked', message: 'the server is locked: dependents keep their data until it is unlocked' });
      if (key_.server_id !== undefined) status.serverId = key_.server_id;
      try {
        const info = await connection.client.info();
        status.serverVersion = info.version;
        if (info.server_id !== undefined) status.serverId = info.server_id;
        if (!info.user) conditions.push({ type: 'Ready', status: 'False', reason: 'Unauthorized', message: 'the token was not accepted' });
        else if (!key_.unlocked) conditions.push({ type: 'Ready', status: 'False', reason: 'ServerLocked', message: 'the server is locked' });
        else {
          conditions.push({ type: 'Ready', status: 'True', reason: 'Ready', message: `reachable, unlocked, token of ${info.user}` });
          healthy = true;
        }
      } catch (err) {
        const reason = err instanceof PikaError && err.status === 401 ? 'Unauthorized' : err instanceof PikaError && err.code === 'server_locked' ? 'ServerLocked' : 'ServerError';
        conditions.push({ type: 'Ready', status: 'False', reason, message: (err as Error).message });
      }
    } catch (err) {
      if (err instanceof ResolveError) conditions.push({ type: 'Ready', status: 'False', reason: err.reason, message: err.message });
      else {
        conditions.push({ type: 'Reachable', status: 'False', reason: 'ServerUnreachable', message: (err as Error).message }, { type: 'Ready', status: 'False', reason: 'ServerUnreachable', message: (err as Error).message });
      }
    }
    const ready = conditions.find((c) => c.type === 'Ready');
    if (ready && ready.status !== 'True') deps.onError?.(ready.reason);

    const generation = server.metadata.generation;
    const next = setConditions(server.status?.conditions as Condition[] | undefined, conditions, generation, new Date(now()));
    // Write only what changed (or a stale check time): a locked server is checked every 2 s.
    const lastCheck = server.status?.lastCheckTime ? Date.parse(server.status.lastCheckTime) : 0;
    const changed = !sameConditions(server.status?.conditions as Condition[] | undefined, next) || server.status?.serverVersion !== status.serverVersion || server.status?.serverId !== status.serverId || server.status?.observedGeneration !== generation;
    if (changed || now() - lastCheck > deps.checkIntervalMs) {
      await deps.kube.patchStatus(
        { apiVersion: server.apiVersion, kind: server.kind, name, ...(cluster ? {} : { namespace }) },
        { ...status, conditions: next, lastCheckTime: new Date(now()).toISOString(), ...(generation === undefined ? {} : { observedGeneration: generation }) },
      );
    }
    return { requeueAfterMs: healthy ? deps.checkIntervalMs : deps.lockedCheckIntervalMs };
  }

  return { reconcile };
}
