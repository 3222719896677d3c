import type { KubernetesObject } from '@kubernetes/client-node';
import type { Condition, PikaConfig, PikaConfigSource, PikaConfigStatus } from '../../shared/crds/index.ts';
import { PIKA_CONFIG_RESOURCE } from '../../shared/crds/index.ts';
import { parseDuration } from '../../shared/duration.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Kube } from '../kube/kube.ts';
import type { DataResult } from '../pika/pika-client.ts';
import { type ReconcileResult, TerminalError } from '../runtime/controller.ts';
import { ResolveError, type ServerConnection, type ServerConnections } from '../servers/server-connections.ts';
import { type ConditionInput, setConditions } from '../sync/conditions.ts';
import { changedKeys, dataHmac } from '../sync/data-hmac.ts';
import { desiredData, type FetchedSource, requestedFormat, SourceContentError, sourcesOf } from '../sync/desired-data.ts';
import { appliedKeys, buildTarget, claimOf, entriesOf, holds, type TargetObject, targetKind } from '../sync/target-object.ts';
import { createRolloutTracker, type RolloutTracker } from './rollout.ts';

/**
 * Reconciles one PikaConfig by key (`namespace/name`), level-based (SPEC §13.1, issue 7.4): read
 * the spec from the cache, read every source (conditional GET with the last ETag), compute the
 * target's entries, write them with server-side apply only when the target does not already hold
 * them, restart opted-in workloads after a debounce, and report status.
 *
 * Safety rules, each with a test:
 * - a locked server (503 + X-Pika-Locked) never blanks, deletes or restarts anything;
 * - the target is deleted (deletionPolicy Delete) only when every source answered a confirmed 404;
 * - an object someone else owns is never taken over (TargetConflict);
 * - no restart on the first sync or because the operator restarted (the HMAC in status and the
 *   content-hash annotation on the workload both survive a restart).
 */

export interface PikaConfigReconcilerDeps {
  readonly configs: { get(name: string, namespace?: string): PikaConfig | undefined };
  readonly connections: Pick<ServerConnections, 'resolve' | 'setLocked'>;
  readonly kube: Kube;
  readonly events: Pick<EventRecorder, 'emit'>;
  readonly hmacKey: Buffer;
  readonly onError?: (reason: string) => void;
  readonly onRestart?: (kind: string) => void;
  readonly now?: () => number;
  /** Requeue while the server is locked (the unlock event normally comes first). */
  readonly lockedRequeueMs?: number;
}

interface Cached {
  readonly etag: string;
  readonly body: Buffer;
  readonly contentType: string;
}

const REF = (config: PikaConfig) => ({ apiVersion: PIKA_CONFIG_RESOURCE.apiVersion, kind: PIKA_CONFIG_RESOURCE.kind, name: config.metadata.name ?? '', namespace: config.metadata.namespace ?? 'default', uid: config.metadata.uid });

export function createPikaConfigReconciler(deps: PikaConfigReconcilerDeps) {
  const now = deps.now ?? Date.now;
  const bodies = new Map<string, Map<string, Cached>>();
  const rollout: RolloutTracker = createRolloutTracker({ kube: deps.kube, now, ...(deps.onRestart ? { onRestart: deps.onRestart } : {}) });

  async function writeStatus(config: PikaConfig, conditions: readonly ConditionInput[], extra: Partial<PikaConfigStatus> = {}): Promise<void> {
    const generation = config.metadata.generation;
    const status: PikaConfigStatus = {
      ...extra,
      conditions: setConditions(config.status?.conditions as Condition[] | undefined, conditions, generation, new Date(now())),
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    };
    await deps.kube.patchStatus(REF(config), status as Record<string, unknown>);
  }

  /** A failure that leaves the target as it is: Synced=False with the reason; Ready untouched unless given. */
  async function fail(config: PikaConfig, reason: string, message: string, options: { ready?: boolean; warn?: boolean } = {}): Promise<void> {
    deps.onError?.(reason);
    const conditions: ConditionInput[] = [{ type: 'Synced', status: 'False', reason, message }];
    if (options.ready === false || !config.status?.conditions?.some((c) => c.type === 'Ready')) conditions.push({ type: 'Ready', status: 'False', reason, message });
    await writeStatus(config, conditions);
    if (options.warn !== false) await deps.events.emit(REF(config), 'Warning', reason, message);
  }

  async function fetchAll(config: PikaConfig, key: string, connection: ServerConnection): Promise<{ results: DataResult[]; fetched: (FetchedSource | undefined)[] }> {
    const cache = bodies.get(key) ?? new Map<string, Cached>();
    bodies.set(key, cache);
    const sources = sourcesOf(config.spec);
    const results = await Promise.all(
      sources.map(async (source: PikaConfigSource) => {
        const format = requestedFormat(config.spec, source);
        const query = { path: source.path, variant: source.variant, version: source.version === undefined ? undefined : String(source.version), format };
        const cacheKey = JSON.stringify(query);
        const previous = cache.get(cacheKey);
        const result = await connection.client.getData(query, previous?.etag);
        if (result.kind === 'ok' && result.etag) cache.set(cacheKey, { etag: result.etag, body: result.body, contentType: result.contentType });
        const fetched: FetchedSource | undefined =
          result.kind === 'ok'
            ? { source, requested: format, body: result.body, contentType: result.contentType }
            : result.kind === 'not-modified' && previous
              ? { source, requested: format, body: previous.body, contentType: previous.contentType }
              : undefined;
        return { result, fetched };
      }),
    );
    return { results: results.map((r) => r.result), fetched: results.map((r) => r.fetched) };
  }

  async function reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const config = deps.configs.get(name, namespace);
    if (!config || config.metadata.deletionTimestamp) {
      bodies.delete(key);
      rollout.forget(key);
      return undefined;
    }
    const spec = config.spec;
    if (spec.suspend) {
      await writeStatus(config, [{ type: 'Synced', status: 'False', reason: 'Suspended', message: 'spec.suspend is true: the target keeps its last data' }]);
      return undefined;
    }
    const refreshMs = parseDuration(spec.refreshInterval ?? '1h');

    let connection: ServerConnection;
    try {
      connection = await deps.connections.resolve(spec.serverRef, namespace, { feed: true });
    } catch (err) {
      if (!(err instanceof ResolveError)) throw err;
      await fail(config, err.reason, err.message, { ready: false });
      if (err.terminal) throw new TerminalError(err.reason, err.message);
      throw err;
    }

    const { results, fetched } = await fetchAll(config, key, connection);
    if (results.some((r) => r.kind === 'locked')) {
      deps.connections.setLocked(connection.key, true);
      await fail(config, 'ServerLocked', 'the pika server is locked: the target keeps its last data and is resynced on unlock', { warn: true });
      return { requeueAfterMs: deps.lockedRequeueMs ?? 30_000 };
    }
    deps.connections.setLocked(connection.key, false);

    const failed = results.find((r) => r.kind === 'error');
    if (failed?.kind === 'error') {
      const reason = failed.status === 401 ? 'Unauthorized' : failed.status === 403 ? 'Forbidden' : failed.status === 0 ? 'ServerUnreachable' : 'ServerError';
      await fail(config, reason, `pika answered ${failed.status} ${failed.code}: ${failed.message}`);
      throw new Error(`${reason}: ${failed.message}`);
    }

    const sources = sourcesOf(spec);
    const missing = sources.filter((_s, i) => results[i]?.kind === 'not-found').map((s) => (s.variant ? `${s.path}@${s.variant}` : s.path));
    const targetName = spec.target.name;
    const kind = targetKind(config);
    const targetRef = { apiVersion: 'v1', kind, name: targetName, namespace };

    if (missing.length > 0) {
      const message = `source${missing.length > 1 ? 's' : ''} not found in pika: ${missing.join(', ')}`;
      const everyMissing = missing.length === sources.length;
      if (everyMissing && spec.target.deletionPolicy === 'Delete' && (spec.target.creationPolicy ?? 'Owner') === 'Owner') {
        const current = await deps.kube.get<TargetObject>(targetRef);
        if (claimOf(current, config) === 'ours' && (await deps.kube.remove(targetRef))) await deps.events.emit(REF(config), 'Normal', 'TargetDeleted', `deleted ${kind} ${targetName}: ${message}`);
      }
      await writeStatus(config, [
        { type: 'Ready', status: 'False', reason: 'SourceNotFound', message },
        { type: 'Synced', status: 'False', reason: 'SourceNotFound', message },
        { type: 'Degraded', status: 'True', reason: 'SourceNotFound', message },
      ]);
      await deps.events.emit(REF(config), 'Warning', 'SourceNotFound', message);
      deps.onError?.('SourceNotFound');
      return { requeueAfterMs: refreshMs };
    }

    let desired;
    try {
      desired = desiredData(spec, fetched.filter((f): f is FetchedSource => f !== undefined));
    } catch (err) {
      if (!(err instanceof SourceContentError)) throw err;
      await fail(config, 'InvalidSource', err.message);
      throw new TerminalError('InvalidSource', err.message);
    }

    // A renamed target: the old object is handled as if this PikaConfig had let go of it.
    const previousName = config.status?.targetName;
    if (previousName && previousName !== targetName && spec.target.deletionPolicy === 'Delete') {
      const oldRef = { ...targetRef, name: previousName };
      if (claimOf(await deps.kube.get<TargetObject>(oldRef), config) === 'ours') await deps.kube.remove(oldRef);
    }

    const current = await deps.kube.get<TargetObject>(targetRef);
    const claim = claimOf(current, config);
    const policy = spec.target.creationPolicy ?? 'Owner';
    if (claim === 'other-config') {
      const owner = current?.metadata?.annotations?.['pika.io/pikaconfig'] ?? '';
      await fail(config, 'TargetConflict', `${kind} ${targetName} is managed by PikaConfig ${owner}`, { ready: false });
      throw new TerminalError('TargetConflict', `${kind} ${targetName} is managed by PikaConfig ${owner}`);
    }
    if (claim === 'unmanaged' && policy !== 'Merge') {
      const message = `${kind} ${targetName} exists and is not managed by pika: delete it, or set target.creationPolicy Merge to write into it`;
      await fail(config, 'TargetConflict', message, { ready: false });
      throw new TerminalError('TargetConflict', message);
    }
    if (claim === 'absent' && policy === 'Merge') {
      const message = `${kind} ${targetName} does not exist: creationPolicy Merge only writes into an existing object`;
      await fail(config, 'TargetNotFound', message, { ready: false });
      return { requeueAfterMs: Math.min(refreshMs, 30_000) };
    }

    const desiredObject = buildTarget(config, targetName, desired.entries);
    const before = entriesOf(current, kind);
    const ours = new Set([...desired.entries.keys(), ...(current ? appliedKeys(current) : [])]);
    const beforeOurs = new Map([...before].filter(([k]) => ours.has(k)));
    const changed = changedKeys(beforeOurs, desired.entries);
    if (!holds(current, desiredObject, kind, desired.entries)) {
      // A Secret's type is immutable: a template.type change needs a new object.
      if (current && kind === 'Secret' && 'type' in desiredObject && desiredObject.type !== undefined && (current as { type?: string }).type !== desiredObject.type && policy !== 'Merge') await deps.kube.remove(targetRef);
      await deps.kube.apply(desiredObject as KubernetesObject);
      const verb = current ? (changed.length > 0 ? 'Updated' : 'Repaired') : 'Created';
      await deps.events.emit(REF(config), 'Normal', verb, `${verb.toLowerCase()} ${kind} ${targetName}${changed.length > 0 ? ` (keys: ${changed.slice(0, 20).join(', ')}${changed.length > 20 ? ', …' : ''})` : ''}`);
    }

    const hmac = dataHmac(deps.hmacKey, desired.entries);
    const restartIn = await rollout.observe(key, config, hmac, config.status?.dataHMAC);

    const revisions = sources.map((s) => connection.revisionOf(s.path)).filter((r): r is number => r !== undefined);
    const revision = revisions.length > 0 ? Math.max(...revisions) : connection.revision;
    const degraded = desired.problems.length > 0;
    await writeStatus(
      config,
      [
        { type: 'Ready', status: 'True', reason: 'Synced', message: `${kind} ${targetName} holds the current data` },
        { type: 'Synced', status: 'True', reason: 'Synced', message: `read ${sources.length} source${sources.length > 1 ? 's' : ''}` },
        { type: 'Degraded', status: degraded ? 'True' : 'False', reason: degraded ? 'MissingKeys' : 'Complete', message: desired.problems.join('; ') },
      ],
      {
        lastSyncTime: new Date(now()).toISOString(),
        dataHMAC: hmac,
        targetName,
        ...(revision === undefined ? {} : { sourceRevision: String(revision) }),
        ...(changed.length > 0 ? { lastChangedKeys: changed.slice(0, 256) } : {}),
      },
    );
    if (degraded) await deps.events.emit(REF(config), 'Warning', 'MissingKeys', desired.problems.join('; '));
    return { requeueAfterMs: restartIn === undefined ? refreshMs : Math.min(refreshMs, restartIn) };
  }

  return { reconcile };
}
