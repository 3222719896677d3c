import type { ClusterPikaServer, PikaServer, PikaServerStatus } from '../../shared/crds/index.ts';
import type { Kube } from '../kube/kube.ts';
import { PikaError } from '../pika/pika-client.ts';
import type { ReconcileResult } from '../runtime/controller.ts';
import { ResolveError, type ServerConnection, type ServerConnections, type ServerRef } from '../servers/server-connections.ts';
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

interface Check {
  readonly conditions: ConditionInput[];
  readonly status: PikaServerStatus;
  readonly healthy: boolean;
}

/** Ready needs three things: the token is accepted, the key is unlocked, and the server answered. */
async function authenticated(connection: ServerConnection, unlocked: boolean, check: Check): Promise<boolean> {
  try {
    const info = await connection.client.info();
    check.status.serverVersion = info.version;
    if (info.server_id !== undefined) check.status.serverId = info.server_id;
    if (!info.user) check.conditions.push({ type: 'Ready', status: 'False', reason: 'Unauthorized', message: 'the token was not accepted' });
    else if (!unlocked) check.conditions.push({ type: 'Ready', status: 'False', reason: 'ServerLocked', message: 'the server is locked' });
    else check.conditions.push({ type: 'Ready', status: 'True', reason: 'Ready', message: `reachable, unlocked, token of ${info.user}` });
    return Boolean(info.user) && unlocked;
  } catch (err) {
    const reason = err instanceof PikaError && err.status === 401 ? 'Unauthorized' : 'ServerError';
    check.conditions.push({ type: 'Ready', status: 'False', reason, message: (err as Error).message });
    return false;
  }
}

export function createPikaServerReconciler(deps: PikaServerReconcilerDeps) {
  const now = deps.now ?? Date.now;

  async function check(ref: ServerRef, namespace: string, url: string): Promise<Check> {
    const result: Check = { conditions: [], status: {}, healthy: false };
    let connection: ServerConnection;
    try {
      connection = await deps.connections.resolve(ref, namespace, { tenancy: false });
    } catch (err) {
      if (!(err instanceof ResolveError)) throw err;
      result.conditions.push({ type: 'Ready', status: 'False', reason: err.reason, message: err.message });
      return result;
    }
    // Locked means a key exists and is not unlocked: a server without a key serves everything.
    let unlocked: boolean;
    let initialized: boolean;
    try {
      const key = await connection.client.keyStatus();
      unlocked = key.unlocked || !key.initialized;
      initialized = key.initialized;
      if (key.server_id !== undefined) result.status.serverId = key.server_id;
    } catch (err) {
      const message = (err as Error).message;
      result.conditions.push({ type: 'Reachable', status: 'False', reason: 'ServerUnreachable', message }, { type: 'Ready', status: 'False', reason: 'ServerUnreachable', message });
      return result;
    }
    result.conditions.push({ type: 'Reachable', status: 'True', reason: 'Reachable', message: `answered at ${url}` });
    deps.connections.setLocked(connection.key, !unlocked);
    result.conditions.push(
      !unlocked
        ? { type: 'Unlocked', status: 'False', reason: 'ServerLocked', message: 'the server is locked: dependents keep their data until it is unlocked' }
        : initialized
          ? { type: 'Unlocked', status: 'True', reason: 'Unlocked', message: 'the server key is unlocked' }
          : { type: 'Unlocked', status: 'True', reason: 'NoServerKey', message: 'no server key has been initialized, so the server cannot be locked' },
    );
    return { ...result, healthy: await authenticated(connection, unlocked, result) };
  }

  /** Writes status only when it says something new (or the check time is stale): a locked server is checked every 2 s. */
  async function report(server: PikaServer | ClusterPikaServer, namespace: string | undefined, result: Check): Promise<void> {
    const generation = server.metadata.generation;
    const before = server.status ?? {};
    const next = setConditions(before.conditions, result.conditions, generation, new Date(now()));
    const lastCheck = Date.parse(before.lastCheckTime ?? '') || 0;
    const same = sameConditions(before.conditions, next) && before.serverVersion === result.status.serverVersion && before.serverId === result.status.serverId && before.observedGeneration === generation;
    if (same && now() - lastCheck <= deps.checkIntervalMs) return;
    await deps.kube.patchStatus(
      { apiVersion: server.apiVersion, kind: server.kind, name: server.metadata.name ?? '', ...(namespace === undefined ? {} : { namespace }) },
      { ...result.status, conditions: next, lastCheckTime: new Date(now()).toISOString(), ...(generation === undefined ? {} : { observedGeneration: generation }) },
    );
  }

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
    const result = await check({ kind: cluster ? 'ClusterPikaServer' : 'PikaServer', name }, namespace, server.spec.url);
    const ready = result.conditions.find((c) => c.type === 'Ready');
    if (ready && ready.status !== 'True') deps.onError?.(ready.reason);
    await report(server, cluster ? undefined : namespace, result);
    return { requeueAfterMs: result.healthy ? deps.checkIntervalMs : deps.lockedCheckIntervalMs };
  }

  return { reconcile };
}
