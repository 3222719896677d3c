import type { PikaConfig, PikaConfigSource, PikaConfigStatus } from '../../shared/crds/index.ts';
import { PIKA_CONFIG_RESOURCE } from '../../shared/crds/index.ts';
import { parseDuration } from '../../shared/duration.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Kube, ObjectRef } from '../kube/kube.ts';
import type { DataResult } from '../pika/pika-client.ts';
import { type ReconcileResult, TerminalError } from '../runtime/controller.ts';
import { ResolveError, type ServerConnection, type ServerConnections } from '../servers/server-connections.ts';
import { type ConditionInput, sameConditions, setConditions } from '../sync/conditions.ts';
import { changedKeys, dataHmac } from '../sync/data-hmac.ts';
import { desiredData, type FetchedSource, requestedFormat, SourceContentError, sourcesOf } from '../sync/desired-data.ts';
import { appliedKeys, buildTarget, claimOf, entriesOf, holds, OWNER_ANNOTATION, type TargetObject, targetKind } from '../sync/target-object.ts';
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
  /** A re-check that changed nothing still refreshes status.lastSyncTime this often (default 5 min). */
  readonly statusHeartbeatMs?: number;
  /** The Secrets/ConfigMaps this operator manages, from the informer cache (read before a live GET). */
  readonly managed?: { get(kind: string, name: string, namespace: string): TargetObject | undefined };
  /** Told the resourceVersion of every object this reconciler wrote, so its own watch events are not work. */
  readonly onWrite?: (obj: TargetObject) => void;
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
      conditions: setConditions(config.status?.conditions, conditions, generation, new Date(now())),
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    };
    await deps.kube.patchStatus(REF(config), status as Record<string, unknown>);
  }

  /** A failure that leaves the target as it is: Synced=False with the reason; Ready untouched unless given. */
  async function fail(config: PikaConfig, reason: string, message: string, options: { ready?: boolean } = {}): Promise<void> {
    deps.onError?.(reason);
    const conditions: ConditionInput[] = [{ type: 'Synced', status: 'False', reason, message }];
    if (options.ready === false || !config.status?.conditions?.some((c) => c.type === 'Ready')) conditions.push({ type: 'Ready', status: 'False', reason, message });
    await writeStatus(config, conditions);
    await deps.events.emit(REF(config), 'Warning', reason, message);
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
            : (result.kind === 'not-modified' || result.kind === 'locked') && previous
              ? { source, requested: format, body: previous.body, contentType: previous.contentType }
              : undefined;
        return { result, fetched };
      }),
    );
    return { results: results.map((r) => r.result), fetched: results.map((r) => r.fetched) };
  }

  /** The server connection, or a status explaining why there is none (thrown: backoff or terminal). */
  async function connect(config: PikaConfig, namespace: string): Promise<ServerConnection> {
    try {
      return await deps.connections.resolve(config.spec.serverRef, namespace, { feed: true });
    } catch (err) {
      if (!(err instanceof ResolveError)) throw err;
      await fail(config, err.reason, err.message, { ready: false });
      if (err.terminal) throw new TerminalError(err.reason, err.message);
      throw err;
    }
  }

  /**
   * While locked, a target someone deleted or edited is put back from the last data this
   * operator read (kept in memory with the ETags), never from anything newer and never blanked.
   */
  async function restoreLastKnown(config: PikaConfig, target: ObjectRef, fetched: readonly (FetchedSource | undefined)[]): Promise<void> {
    const known = fetched.filter((f): f is FetchedSource => f !== undefined);
    if (known.length === 0 || known.length !== fetched.length) return;
    let desired;
    try {
      desired = desiredData(config.spec, known);
    } catch {
      return;
    }
    const current = await deps.kube.get<TargetObject>(target);
    const claim = claimOf(current, config);
    const creatable = claim === 'ours' || (claim === 'absent' && config.spec.target.creationPolicy !== 'Merge');
    if (creatable && !holds(current, buildTarget(config, target.name, desired.entries), targetKind(config), desired.entries)) await writeTarget(config, target, current, desired.entries);
  }

  /** Locked or failing answers: the target is left as it is (or restored). Undefined when all answered. */
  async function unavailable(config: PikaConfig, connection: ServerConnection, fetch: { results: readonly DataResult[]; fetched: readonly (FetchedSource | undefined)[] }, target: ObjectRef): Promise<ReconcileResult | undefined> {
    const { results } = fetch;
    if (results.some((r) => r.kind === 'locked')) {
      deps.connections.setLocked(connection.key, true);
      await restoreLastKnown(config, target, fetch.fetched);
      await fail(config, 'ServerLocked', 'the pika server is locked: the target keeps its last data and is resynced on unlock');
      return { requeueAfterMs: deps.lockedRequeueMs ?? 30_000 };
    }
    deps.connections.setLocked(connection.key, false);
    const failed = results.find((r) => r.kind === 'error');
    if (failed?.kind !== 'error') return undefined;
    const reason = ({ 0: 'ServerUnreachable', 401: 'Unauthorized', 403: 'Forbidden' } as Record<number, string>)[failed.status] ?? 'ServerError';
    await fail(config, reason, `pika answered ${failed.status} ${failed.code}: ${failed.message}`);
    throw new Error(`${reason}: ${failed.message}`);
  }

  /** Some source is confirmed gone: keep the target (Retain), or delete it when every source is gone (Delete). */
  async function sourcesMissing(config: PikaConfig, target: ObjectRef, missing: readonly string[], total: number): Promise<void> {
    const message = `source${missing.length > 1 ? 's' : ''} not found in pika: ${missing.join(', ')}`;
    const { target: spec } = config.spec;
    if (missing.length === total && spec.deletionPolicy === 'Delete' && (spec.creationPolicy ?? 'Owner') === 'Owner') {
      const current = await deps.kube.get<TargetObject>(target);
      if (claimOf(current, config) === 'ours' && (await deps.kube.remove(target))) await deps.events.emit(REF(config), 'Normal', 'TargetDeleted', `deleted ${target.kind} ${target.name}: ${message}`);
    }
    await writeStatus(config, [
      { type: 'Ready', status: 'False', reason: 'SourceNotFound', message },
      { type: 'Synced', status: 'False', reason: 'SourceNotFound', message },
      { type: 'Degraded', status: 'True', reason: 'SourceNotFound', message },
    ]);
    await deps.events.emit(REF(config), 'Warning', 'SourceNotFound', message);
    deps.onError?.('SourceNotFound');
  }

  /** The current target if this PikaConfig may write it; a status and an exception otherwise. */
  async function claimTarget(config: PikaConfig, target: ObjectRef): Promise<{ current: TargetObject | undefined } | { waitMs: number }> {
    // A managed target is in the informer cache (fresh: events are delivered after the cache is
    // updated); anything else (absent, or not ours yet) needs a live read.
    const current = deps.managed?.get(target.kind, target.name, target.namespace ?? '') ?? (await deps.kube.get<TargetObject>(target));
    const claim = claimOf(current, config);
    const policy = config.spec.target.creationPolicy ?? 'Owner';
    let conflict: string | undefined;
    if (claim === 'other-config') conflict = `${target.kind} ${target.name} is managed by PikaConfig ${current?.metadata?.annotations?.[OWNER_ANNOTATION] ?? ''}`;
    else if (claim === 'unmanaged' && policy !== 'Merge') conflict = `${target.kind} ${target.name} exists and is not managed by pika: delete it, or set target.creationPolicy Merge to write into it`;
    if (conflict !== undefined) {
      await fail(config, 'TargetConflict', conflict, { ready: false });
      throw new TerminalError('TargetConflict', conflict);
    }
    if (claim === 'absent' && policy === 'Merge') {
      await fail(config, 'TargetNotFound', `${target.kind} ${target.name} does not exist: creationPolicy Merge only writes into an existing object`, { ready: false });
      return { waitMs: 30_000 };
    }
    return { current };
  }

  /** Writes the target when it does not hold the entries yet; returns the names of the keys that changed. */
  async function writeTarget(config: PikaConfig, target: ObjectRef, current: TargetObject | undefined, entries: ReadonlyMap<string, Buffer>): Promise<string[]> {
    const kind = targetKind(config);
    const desired = buildTarget(config, target.name, entries);
    const ours = new Set([...entries.keys(), ...(current ? appliedKeys(current) : [])]);
    const changed = changedKeys(new Map([...entriesOf(current, kind)].filter(([k]) => ours.has(k))), entries);
    if (holds(current, desired, kind, entries)) return changed;
    // A Secret's type is immutable: a template.type change needs a new object.
    const retype = current !== undefined && 'type' in desired && desired.type !== undefined && (current as { type?: string }).type !== desired.type;
    if (retype && config.spec.target.creationPolicy !== 'Merge') await deps.kube.remove(target);
    deps.onWrite?.(await deps.kube.apply(desired));
    const verb = current ? (changed.length > 0 ? 'Updated' : 'Repaired') : 'Created';
    const keys = changed.length > 0 ? ` (keys: ${changed.slice(0, 20).join(', ')}${changed.length > 20 ? ', …' : ''})` : '';
    await deps.events.emit(REF(config), 'Normal', verb, `${verb.toLowerCase()} ${kind} ${target.name}${keys}`);
    return changed;
  }

  /** A renamed target: the old object is handled as if this PikaConfig had let go of it. */
  async function releaseRenamed(config: PikaConfig, target: ObjectRef): Promise<void> {
    const previous = config.status?.targetName;
    if (!previous || previous === target.name || config.spec.target.deletionPolicy !== 'Delete') return;
    const old = { ...target, name: previous };
    if (claimOf(await deps.kube.get<TargetObject>(old), config) === 'ours') await deps.kube.remove(old);
  }

  /**
   * Reports a successful sync. A re-check that changed nothing writes no status unless the last
   * write is older than the heartbeat: a fan-out over hundreds of PikaConfigs must not become
   * hundreds of status writes.
   */
  async function synced(config: PikaConfig, connection: ServerConnection, target: ObjectRef, result: { hmac: string; changed: string[]; problems: string[] }): Promise<void> {
    const sources = sourcesOf(config.spec);
    const revisions = sources.map((s) => connection.revisionOf(s.path)).filter((r): r is number => r !== undefined);
    const revision = revisions.length > 0 ? Math.max(...revisions) : connection.revision;
    const degraded = result.problems.length > 0;
    const conditions: ConditionInput[] = [
      { type: 'Ready', status: 'True', reason: 'Synced', message: `${target.kind} ${target.name} holds the current data` },
      { type: 'Synced', status: 'True', reason: 'Synced', message: `read ${sources.length} source${sources.length > 1 ? 's' : ''}` },
      { type: 'Degraded', status: degraded ? 'True' : 'False', reason: degraded ? 'MissingKeys' : 'Complete', message: result.problems.join('; ') },
    ];
    const extra: Partial<PikaConfigStatus> = {
      lastSyncTime: new Date(now()).toISOString(),
      dataHMAC: result.hmac,
      targetName: target.name,
      ...(revision === undefined ? {} : { sourceRevision: String(revision) }),
      ...(result.changed.length > 0 ? { lastChangedKeys: result.changed.slice(0, 256) } : {}),
    };
    if (result.changed.length > 0 || !quiet(config, conditions, extra)) await writeStatus(config, conditions, extra);
    if (degraded) await deps.events.emit(REF(config), 'Warning', 'MissingKeys', result.problems.join('; '));
  }

  /** True when status already says all of this and was written within the heartbeat. */
  function quiet(config: PikaConfig, conditions: readonly ConditionInput[], extra: Partial<PikaConfigStatus>): boolean {
    const status = config.status ?? {};
    const generation = config.metadata.generation;
    const fresh = now() - (Date.parse(status.lastSyncTime ?? '') || 0) < (deps.statusHeartbeatMs ?? 5 * 60_000);
    const same = status.dataHMAC === extra.dataHMAC && status.targetName === extra.targetName && status.sourceRevision === extra.sourceRevision && status.observedGeneration === generation;
    return fresh && same && sameConditions(status.conditions, setConditions(status.conditions, conditions, generation, new Date(now())));
  }

  async function reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const config = deps.configs.get(name, namespace);
    if (!config || config.metadata.deletionTimestamp) {
      bodies.delete(key);
      rollout.forget(key);
      return undefined;
    }
    if (config.spec.suspend) {
      await writeStatus(config, [{ type: 'Synced', status: 'False', reason: 'Suspended', message: 'spec.suspend is true: the target keeps its last data' }]);
      return undefined;
    }
    const refreshMs = parseDuration(config.spec.refreshInterval ?? '1h');
    const connection = await connect(config, namespace);
    const target: ObjectRef & { kind: string } = { apiVersion: 'v1', kind: targetKind(config), name: config.spec.target.name, namespace };
    const { results, fetched } = await fetchAll(config, key, connection);
    const held = await unavailable(config, connection, { results, fetched }, target);
    if (held) return held;

    const sources = sourcesOf(config.spec);
    const missing = sources.filter((_s, i) => results[i]?.kind === 'not-found').map((s) => (s.variant ? `${s.path}@${s.variant}` : s.path));
    if (missing.length > 0) {
      await sourcesMissing(config, target, missing, sources.length);
      return { requeueAfterMs: refreshMs };
    }

    let desired;
    try {
      desired = desiredData(config.spec, fetched.filter((f): f is FetchedSource => f !== undefined));
    } catch (err) {
      if (!(err instanceof SourceContentError)) throw err;
      await fail(config, 'InvalidSource', err.message);
      throw new TerminalError('InvalidSource', err.message);
    }

    await releaseRenamed(config, target);
    const claimed = await claimTarget(config, target);
    if ('waitMs' in claimed) return { requeueAfterMs: Math.min(refreshMs, claimed.waitMs) };
    const changed = await writeTarget(config, target, claimed.current, desired.entries);
    const hmac = dataHmac(deps.hmacKey, desired.entries);
    const restartIn = await rollout.observe(key, config, hmac, config.status?.dataHMAC);
    await synced(config, connection, target, { hmac, changed, problems: desired.problems });
    return { requeueAfterMs: restartIn === undefined ? refreshMs : Math.min(refreshMs, restartIn) };
  }

  return { reconcile };
}
