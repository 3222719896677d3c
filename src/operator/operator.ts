import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { type KubeConfig, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import { Counter } from 'prom-client';
import type { PikaConfig, PikaToken, UnlockRequest } from '../shared/crds/index.ts';
import type { OperatorConfig } from './config.ts';
import { createEventRecorder } from './kube/events.ts';
import { reuseConnections } from './kube/connection-reuse.ts';
import { createInformers, type InformerEvent } from './kube/informers.ts';
import { createKube, isConflict, type Kube } from './kube/kube.ts';
import { createPikaConfigReconciler } from './reconcilers/pika-config-reconciler.ts';
import { createPikaServerReconciler } from './reconcilers/pika-server-reconciler.ts';
import { createPikaTokenReconciler } from './reconcilers/pika-token-reconciler.ts';
import { TOKEN_OWNER_ANNOTATION } from './reconcilers/token-plan.ts';
import { createUnlockRequestReconciler } from './reconcilers/unlock-request-reconciler.ts';
import { createController, type Outcome } from './runtime/controller.ts';
import { startHealthServer } from './runtime/health-server.ts';
import { createLeaderElector, leaseApi } from './runtime/leader-election.ts';
import { createOperatorMetrics } from './runtime/metrics.ts';
import { createWorkQueue } from './runtime/work-queue.ts';
import { createServerConnections, type ServerEvent, serverKeyOf } from './servers/server-connections.ts';
import { OWNER_ANNOTATION } from './sync/target-object.ts';
import { certRoute } from './unlock/cert-route.ts';
import { createSealingKeyring, DEFAULT_SEALING_SECRET, kubeSecretStore } from './unlock/sealing-keys.ts';

/**
 * The operator as a function of its config and its dependencies (style §4.2.1): informers feed
 * keyed queues, controllers reconcile keys, leader election decides who writes. `main.ts` is
 * the process shell around it; tests build it against a real API server.
 */
export interface OperatorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface OperatorDeps {
  readonly kubeConfig: KubeConfig;
  readonly logger: OperatorLogger;
  /** Called when leadership is lost: the process should exit so a fresh start re-elects. */
  readonly onLostLeadership?: () => void;
  /** Changes that arrive for a path are applied at once; configs that may inherit it, after this. */
  readonly inheritDelayMs?: number;
  /** For tests: the sealing key generator (RSA-4096 takes a moment). */
  readonly generateSealingKey?: Parameters<typeof createSealingKeyring>[0]['generate'];
}

const HMAC_KEY = 'hmac-key';

/** The operator's HMAC key, created once in its state Secret so content hashes survive restarts. */
async function loadHmacKey(kube: Kube, namespace: string, name: string): Promise<Buffer> {
  const ref = { apiVersion: 'v1', kind: 'Secret', namespace, name };
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await kube.get<V1Secret>(ref);
    const raw = existing?.data?.[HMAC_KEY];
    if (raw) return Buffer.from(raw, 'base64');
    try {
      // Apply without force: a replica racing us with another key makes this conflict, not overwrite.
      await kube.apply<V1Secret>({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'pika-operator' } }, type: 'Opaque', data: { [HMAC_KEY]: randomBytes(32).toString('base64') } }, 'pika-operator-state');
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  throw new Error(`cannot create the operator state Secret ${namespace}/${name}`);
}

export function buildOperator(config: OperatorConfig, deps: OperatorDeps) {
  const { logger } = deps;
  reuseConnections(deps.kubeConfig);
  const kube = createKube(deps.kubeConfig);
  const events = createEventRecorder(kube);
  const metrics = createOperatorMetrics();
  const inheritDelay = deps.inheritDelayMs ?? 1_000;
  const watched = (namespace: string | undefined) => config.watchNamespaces === undefined || (namespace !== undefined && config.watchNamespaces.includes(namespace));

  /** resourceVersion of the last write this operator made to each managed object. */
  const ownWrites = new Map<string, string | undefined>();
  const objectId = (obj: V1Secret | V1ConfigMap) => `${obj.kind ?? ''}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  const queues = { configs: createWorkQueue(), servers: createWorkQueue(), tokens: createWorkQueue(), unlocks: createWorkQueue() };
  const keyOf = (obj: { metadata?: { name?: string; namespace?: string } }) => `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  /** Generation + annotations last seen per object: status-only updates (our own writes) are not work. */
  const seen = new Map<string, string>();
  const changedSpec = (kind: string, type: InformerEvent, obj: { metadata?: { generation?: number; annotations?: Record<string, string>; deletionTimestamp?: unknown } }, key: string) => {
    const id = `${kind}/${key}`;
    if (type === 'delete') {
      seen.delete(id);
      return true;
    }
    const mark = JSON.stringify([obj.metadata?.generation, obj.metadata?.annotations ?? {}, obj.metadata?.deletionTimestamp !== undefined]);
    if (seen.get(id) === mark) return false;
    seen.set(id, mark);
    return true;
  };

  const dependents = (serverKey: string) => ({
    configs: informers.configs.list().filter((c) => watched(c.metadata.namespace) && serverKeyOf(c.spec.serverRef, c.metadata.namespace ?? '') === serverKey),
    tokens: informers.tokens.list().filter((t) => watched(t.metadata.namespace) && serverKeyOf(t.spec.serverRef, t.metadata.namespace ?? '') === serverKey),
    unlocks: informers.unlockRequests.list().filter((u) => watched(u.metadata.namespace) && serverKeyOf(u.spec.serverRef, u.metadata.namespace ?? '') === serverKey),
  });
  const enqueueDependents = (serverKey: string) => {
    const { configs, tokens, unlocks } = dependents(serverKey);
    for (const c of configs) queues.configs.add(keyOf(c));
    for (const t of tokens) queues.tokens.add(keyOf(t));
    for (const u of unlocks) queues.unlocks.add(keyOf(u));
  };

  const onServerEvent = (serverKey: string, event: ServerEvent) => {
    if (event.type === 'change') {
      // The changed path now; the other configs of that server after a moment, since one may
      // inherit the changed config (a conditional GET answers 304 when it does not).
      for (const c of dependents(serverKey).configs) {
        const sources = c.spec.sources ?? (c.spec.source ? [c.spec.source] : []);
        if (sources.some((s) => s.path === event.change.path)) queues.configs.add(keyOf(c));
        else queues.configs.addAfter(keyOf(c), inheritDelay, 'low');
      }
      return;
    }
    if (event.type === 'locked') {
      logger.warn({ server: serverKey }, 'pika server is locked: holding every target as it is');
      queues.servers.add(serverKey);
      // Its UnlockRequests act at once rather than at their next poll.
      for (const u of dependents(serverKey).unlocks) queues.unlocks.add(keyOf(u));
      return;
    }
    logger.info({ server: serverKey, event: event.type }, event.type === 'unlocked' ? 'pika server unlocked: resyncing its dependents' : 'change feed resync');
    enqueueDependents(serverKey);
  };

  const informers = createInformers(deps.kubeConfig, {
    configs: (type, obj: PikaConfig) => {
      const key = keyOf(obj);
      if (watched(obj.metadata.namespace) && changedSpec('PikaConfig', type, obj, key)) queues.configs.add(key);
    },
    tokens: (type, obj: PikaToken) => {
      const key = keyOf(obj);
      if (watched(obj.metadata.namespace) && changedSpec('PikaToken', type, obj, key)) queues.tokens.add(key);
    },
    // Annotations count as spec here: approving an unlock or resetting its attempts is one.
    unlockRequests: (type, obj: UnlockRequest) => {
      const key = keyOf(obj);
      if (watched(obj.metadata.namespace) && changedSpec('UnlockRequest', type, obj, key)) queues.unlocks.add(key);
    },
    servers: (type, obj) => {
      const key = `PikaServer/${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
      if (!changedSpec('PikaServer', type, obj, key)) return;
      queues.servers.add(key);
      enqueueDependents(key);
    },
    clusterServers: (type, obj) => {
      const key = `ClusterPikaServer/${obj.metadata.name ?? ''}`;
      if (!changedSpec('ClusterPikaServer', type, obj, key)) return;
      queues.servers.add(key);
      enqueueDependents(key);
    },
    // Drift repair: an edited or deleted target brings its owner back at once.
    managed: (type, obj: V1Secret | V1ConfigMap) => {
      // The echo of our own apply is not drift: skipping it halves the work of every sync.
      if (type !== 'delete' && ownWrites.get(objectId(obj)) === obj.metadata?.resourceVersion) return;
      const namespace = obj.metadata?.namespace ?? '';
      const config = obj.metadata?.annotations?.[OWNER_ANNOTATION];
      const token = obj.metadata?.annotations?.[TOKEN_OWNER_ANNOTATION];
      if (config && watched(namespace)) queues.configs.add(`${namespace}/${config}`);
      if (token && watched(namespace)) queues.tokens.add(`${namespace}/${token}`);
    },
    onError: (resource, err) => {
      logger.warn({ resource, err: String(err) }, 'watch failed; restarting it');
    },
  });

  const connections = createServerConnections({
    servers: informers.servers,
    clusterServers: informers.clusterServers,
    kube,
    onEvent: onServerEvent,
    onCall: (route, status) => { metrics.pikaCalls.inc({ route, status: String(status) }); },
  });

  const outcome = (kind: string) => (e: { key: string; outcome: Outcome; durationMs: number; error?: unknown; retryInMs?: number }) => {
    metrics.syncs.inc({ kind, outcome: e.outcome });
    metrics.duration.observe({ kind }, e.durationMs / 1000);
    if (e.outcome === 'error') logger.warn({ kind, key: e.key, err: e.error instanceof Error ? e.error.message : String(e.error), retry_in_ms: e.retryInMs }, 'reconcile failed');
    else if (e.outcome === 'terminal') logger.warn({ kind, key: e.key, err: (e.error as Error).message }, 'reconcile stopped: fix the object to retry');
    else logger.debug({ kind, key: e.key, ms: Math.round(e.durationMs) }, 'reconciled');
  };
  const onError = (kind: string) => (reason: string) => { metrics.errors.inc({ kind, reason }); };

  let hmacKey: Buffer | undefined;
  const configReconciler = createPikaConfigReconciler({
    configs: informers.configs,
    managed: { get: (kind, name, namespace) => (kind === 'Secret' ? informers.secrets : informers.configMaps).get(name, namespace) },
    onWrite: (obj) => {
      ownWrites.set(objectId(obj), obj.metadata?.resourceVersion);
      if (ownWrites.size > 50_000) ownWrites.delete(ownWrites.keys().next().value ?? '');
    },
    connections,
    kube,
    events,
    get hmacKey() {
      if (!hmacKey) throw new Error('HMAC key not loaded');
      return hmacKey;
    },
    onError: onError('PikaConfig'),
    onRestart: (kind) => { metrics.restarts.inc({ kind }); },
  });
  const serverReconciler = createPikaServerReconciler({
    servers: informers.servers,
    clusterServers: informers.clusterServers,
    connections,
    kube,
    checkIntervalMs: config.serverCheckIntervalMs,
    lockedCheckIntervalMs: config.lockedCheckIntervalMs,
    onError: onError('PikaServer'),
  });
  const tokenReconciler = createPikaTokenReconciler({ tokens: informers.tokens, connections, kube, events, onError: onError('PikaToken') });
  const sealing = createSealingKeyring({
    store: kubeSecretStore(deps.kubeConfig, config.namespace, config.sealingSecret ?? DEFAULT_SEALING_SECRET),
    namespace: config.namespace,
    name: config.sealingSecret ?? DEFAULT_SEALING_SECRET,
    renewAfterMs: config.sealingKeyRenewalMs ?? 0,
    ...(deps.generateSealingKey ? { generate: deps.generateSealingKey } : {}),
  });
  const unlockAttempts = new Counter({ name: 'pika_operator_unlock_attempts_total', help: 'UnlockRequest unlock calls by outcome', labelNames: ['outcome'], registers: [metrics.registry] });
  const unlockReconciler = createUnlockRequestReconciler({
    requests: informers.unlockRequests,
    connections,
    kube,
    events,
    keys: sealing,
    checkIntervalMs: config.unlockCheckIntervalMs ?? 5_000,
    lockedRequeueMs: config.lockedCheckIntervalMs,
    onError: onError('UnlockRequest'),
    onAttempt: (outcome) => { unlockAttempts.inc({ outcome }); },
  });

  const controllers = [
    createController({ name: 'pikaservers', queue: queues.servers, reconcile: serverReconciler.reconcile, workers: 2, onOutcome: outcome('PikaServer') }),
    createController({ name: 'pikaconfigs', queue: queues.configs, reconcile: configReconciler.reconcile, workers: config.workers, onOutcome: outcome('PikaConfig') }),
    createController({ name: 'pikatokens', queue: queues.tokens, reconcile: tokenReconciler.reconcile, workers: 2, onOutcome: outcome('PikaToken') }),
    createController({ name: 'unlockrequests', queue: queues.unlocks, reconcile: unlockReconciler.reconcile, workers: 2, onOutcome: outcome('UnlockRequest') }),
  ];

  let synced = false;
  let leading = false;
  let health: Server | undefined;
  let elector: ReturnType<typeof createLeaderElector> | undefined;
  let renewal: NodeJS.Timeout | undefined;

  const startControllers = () => {
    if (leading) return;
    leading = true;
    metrics.leader.set(1);
    logger.info({ identity: config.identity }, 'leading: reconciling');
    for (const c of controllers) c.start();
    // The leader adds a sealing key when the newest is due for renewal; every replica re-reads them.
    renewal = setInterval(() => {
      sealing.load(true).catch((err: unknown) => { logger.warn({ err: String(err) }, 'sealing key renewal failed'); });
    }, 10 * 60_000);
    renewal.unref();
  };

  return {
    metrics,
    /** True once the caches are synced (a standby replica is ready too). */
    ready: () => synced,
    isLeader: () => leading,
    async start(): Promise<void> {
      health = await startHealthServer({ host: config.health.host, port: config.health.port, registry: metrics.registry, ready: () => synced, routes: { '/v1/cert.pem': certRoute(sealing) } });
      hmacKey = await loadHmacKey(kube, config.namespace, config.stateSecret);
      // Every replica makes sure a sealing key exists (a racing create conflicts and re-reads) and serves its public half.
      const sealingKeys = await sealing.load(true);
      logger.info({ sealing_secret: `${config.namespace}/${config.sealingSecret ?? DEFAULT_SEALING_SECRET}`, keys: sealingKeys.length, newest: sealing.newest()?.kid }, 'sealing keys loaded');
      await informers.start();
      synced = true;
      logger.info({ configs: informers.configs.list().length, servers: informers.servers.list().length + informers.clusterServers.list().length, tokens: informers.tokens.list().length, unlock_requests: informers.unlockRequests.list().length }, 'caches synced');
      if (!config.leaderElection) {
        startControllers();
        return;
      }
      elector = createLeaderElector(leaseApi(deps.kubeConfig), {
        namespace: config.namespace,
        name: config.leaseName,
        identity: config.identity,
        onStartedLeading: startControllers,
        onStoppedLeading: () => {
          if (!leading) return;
          logger.error({ identity: config.identity }, 'lost leadership');
          metrics.leader.set(0);
          deps.onLostLeadership?.();
        },
      });
      await elector.start();
    },
    /** Graceful: stop taking work, finish what is in flight, release the Lease, close watches. */
    async stop(): Promise<void> {
      clearInterval(renewal);
      await Promise.all(controllers.map((c) => c.stop()));
      leading = false;
      metrics.leader.set(0);
      await elector?.stop();
      await connections.stop();
      await informers.stop();
      await new Promise<void>((resolve) => {
        if (!health) resolve();
        else health.close(() => { resolve(); });
      });
    },
    /** For tests: the health server's address. */
    healthAddress: () => health?.address(),
  };
}
