/**
 * The measurements of `npm run bench:operator` (orchestration and report: operator.ts). Every
 * time here is an event arrival stamped by a Kubernetes watch (operator-watch.ts), measured from
 * the HTTP response of the write that caused it.
 */
import { randomBytes } from 'node:crypto';
import type { KubeConfig, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import type { Kube } from '../src/operator/kube/kube.ts';
import type { PikaConfig } from '../src/shared/crds/index.ts';
import type { Session } from '../test/e2e/support/http.ts';
import { rssKiB } from './lib/report.ts';
import { byLabels, delta, type OperatorProcess, type Sample, scrape, total } from './operator-process.ts';
import { distribution, type Distribution, secretValue, waitUntil, watchObjects, type WatchTarget } from './operator-watch.ts';

export const NS = 'bench';
export const SERVER = 'main';
/** The operator's default delay before it re-reads the configs that may inherit a changed path. */
export const INHERIT_DELAY_MS = 1_000;

export interface BenchEnv {
  readonly kc: KubeConfig;
  readonly kube: Kube;
  readonly admin: Session;
  operator: OperatorProcess;
  /** Stops the running operator and starts a fresh one (a pod restart). */
  restartOperator(): Promise<{ stopMs: number; resyncFrom: number }>;
}

const PIKA_CALLS = 'pika_operator_pika_api_calls_total';
const SYNCS = 'pika_operator_syncs_total';
const log = (msg: string) => { process.stderr.write(`bench:operator: ${msg}\n`); };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const secrets = (labelSelector?: string): WatchTarget => ({ apiVersion: 'v1', kind: 'Secret', namespace: NS, path: `/api/v1/namespaces/${NS}/secrets`, ...(labelSelector ? { labelSelector } : {}) });
const pikaConfigs: WatchTarget = { apiVersion: 'pika.io/v1alpha1', kind: 'PikaConfig', namespace: NS, path: `/apis/pika.io/v1alpha1/namespaces/${NS}/pikaconfigs` };

function pikaConfigObject(name: string, path: string, target: string): KubernetesObject {
  const config: PikaConfig = { apiVersion: 'pika.io/v1alpha1', kind: 'PikaConfig', metadata: { name, namespace: NS }, spec: { serverRef: { name: SERVER }, source: { path }, target: { name: target } } };
  return config as KubernetesObject;
}

function secretObject(name: string, value: string): KubernetesObject {
  const secret: { apiVersion: 'v1'; kind: 'Secret'; metadata: { name: string; namespace: string }; type: string; data: Record<string, string> } = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'Opaque', data: { value: Buffer.from(value).toString('base64') } };
  return secret;
}

/** Runs `fn(0..n-1)` with at most `concurrency` in flight. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) await fn(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

/** Counters of the current operator process, per label combination. */
export async function counters(env: BenchEnv): Promise<{ calls: Record<string, number>; syncs: Record<string, number>; cpuS: number; samples: Sample[] }> {
  const samples = await scrape(env.operator.metricsUrl);
  return { calls: byLabels(samples, PIKA_CALLS), syncs: byLabels(samples, SYNCS), cpuS: total(samples, 'pika_operator_process_process_cpu_seconds_total'), samples };
}

const cpu = (before: { cpuS: number }, after: { cpuS: number }) => Math.round((after.cpuS - before.cpuS) * 100) / 100;

export interface Memory {
  readonly rss_kib: number;
  readonly heap_used_bytes: number;
  readonly heap_total_bytes: number;
  readonly external_bytes: number;
}

export async function memory(env: BenchEnv): Promise<Memory> {
  const samples = await scrape(env.operator.metricsUrl);
  const m = (name: string) => total(samples, `pika_operator_process_nodejs_${name}`);
  return { rss_kib: rssKiB(env.operator.pid), heap_used_bytes: m('heap_size_used_bytes'), heap_total_bytes: m('heap_size_total_bytes'), external_bytes: m('external_memory_bytes') };
}

/**
 * Waits until the operator is quiet: at least `minMs` after the start, then no new reconcile and
 * no new pika call for `quietMs` (metrics scraped every 200 ms). Returns the time it took.
 */
export async function settle(env: BenchEnv, minMs: number, quietMs = 1_000, maxMs = 60_000): Promise<number> {
  const started = performance.now();
  let last = -1;
  let stableSince = started;
  for (;;) {
    const samples = await scrape(env.operator.metricsUrl);
    const activity = total(samples, SYNCS) + total(samples, PIKA_CALLS);
    const now = performance.now();
    if (activity !== last) {
      last = activity;
      stableSince = now;
    }
    if (now - started >= minMs && now - stableSince >= quietMs) return now - started;
    if (now - started > maxMs) throw new Error(`the operator was still busy after ${maxMs} ms`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. change in pika -> Secret updated

export interface LatencyResult {
  /** pika save response -> watch event of the Secret holding the new value. */
  readonly operator: Distribution;
  /** Reference: start of a server-side apply of a Secret by this process -> its watch event. */
  readonly reference: Distribution;
  /** pika save round trip (request -> 201), for context. */
  readonly pika_save: Distribution;
  readonly ratio_p50: number;
  readonly pika_calls: Record<string, number>;
  readonly syncs: Record<string, number>;
  /** CPU seconds the operator process used during the phase. */
  readonly operator_cpu_s: number;
}

export async function measureLatency(env: BenchEnv, changes: number, gapMs: number): Promise<LatencyResult> {
  await env.admin.save('bench/latency', { format: 'json', content: JSON.stringify({ value: 'v0' }) });
  await env.kube.apply(pikaConfigObject('latency', 'bench/latency', 'latency-target'), 'bench');
  await env.kube.apply(secretObject('reference', 'r0'), 'bench');
  const seen = new Map<string, number>();
  let failure: unknown;
  const watch = await watchObjects<V1Secret>(env.kc, secrets(), (_type, obj, at) => {
    const key = `${obj.metadata?.name ?? ''}=${secretValue(obj, 'value') ?? ''}`;
    if (!seen.has(key)) seen.set(key, at);
  }, (err) => { failure = err; });
  const arrival = async (key: string, what: string) => {
    await waitUntil(() => seen.has(key), what, 30_000, () => failure);
    return seen.get(key)!;
  };
  try {
    await arrival('latency-target=v0', 'first sync of PikaConfig latency');
    await settle(env, 200, 300);
    const before = await counters(env);
    const operator: number[] = [];
    const reference: number[] = [];
    const saves: number[] = [];
    for (let i = 1; i <= changes; i++) {
      const tag = `${i}-${randomBytes(4).toString('hex')}`;
      // The reference: the bare API server write -> watch event any operator pays at least once.
      const refStart = performance.now();
      await env.kube.apply(secretObject('reference', `r${tag}`), 'bench');
      reference.push((await arrival(`reference=r${tag}`, `reference write ${i}`)) - refStart);
      const saveStart = performance.now();
      await env.admin.save('bench/latency', { format: 'json', content: JSON.stringify({ value: `v${tag}` }) });
      const saved = performance.now();
      saves.push(saved - saveStart);
      operator.push((await arrival(`latency-target=v${tag}`, `change ${i}`)) - saved);
      // Let the reconcile that the operator's own Secret write triggers finish: each change is
      // measured against an idle operator.
      await sleep(gapMs);
    }
    await settle(env, 0, 500);
    const after = await counters(env);
    const op = distribution(operator);
    const ref = distribution(reference);
    return { operator: op, reference: ref, pika_save: distribution(saves), ratio_p50: op.p50_ms / ref.p50_ms, pika_calls: delta(before.calls, after.calls), syncs: delta(before.syncs, after.syncs), operator_cpu_s: cpu(before, after) };
  } finally {
    watch.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. a fleet of PikaConfigs: first sync, an unrelated change, an inherited change, a restart

/** Watches of the fleet's PikaConfigs and Secrets, alive from creation to the end. */
export interface FleetObserver {
  /** PikaConfig name -> first arrival with Ready=True. */
  readonly readyAt: Map<string, number>;
  /** PikaConfig name -> first arrival with status.lastSyncTime at or after `since` (see resyncFrom). */
  readonly syncedAt: Map<string, number>;
  /** `<secret>:<key>=<value>` (keys `gen` and `id`) -> first arrival of that Secret holding that value. */
  readonly valueAt: Map<string, number>;
  /** Watch events so far: status writes to PikaConfigs (MODIFIED), writes to managed Secrets (ADDED, MODIFIED, DELETED). */
  readonly events: { configs: number; secrets: number };
  resyncFrom(wallClockMs: number): void;
  readonly failure: () => unknown;
  stop(): void;
}

const PREFIX = 'fleet-';

function readyTrue(config: PikaConfig): boolean {
  return config.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export async function observeFleet(env: BenchEnv): Promise<FleetObserver> {
  let failure: unknown;
  let since = Number.POSITIVE_INFINITY;
  const readyAt = new Map<string, number>();
  const syncedAt = new Map<string, number>();
  const valueAt = new Map<string, number>();
  const events = { configs: 0, secrets: 0 };
  const onConfig = (type: string, obj: PikaConfig, at: number) => {
    const name = obj.metadata.name ?? '';
    // ADDED is this bench creating it; every MODIFIED is a status write by the operator.
    if (!name.startsWith(PREFIX) || type === 'LIST') return;
    if (type === 'MODIFIED') events.configs++;
    if (readyTrue(obj) && !readyAt.has(name)) readyAt.set(name, at);
    const synced = Date.parse(obj.status?.lastSyncTime ?? '');
    if (synced >= since && !syncedAt.has(name)) syncedAt.set(name, at);
  };
  const onSecret = (type: string, obj: V1Secret, at: number) => {
    const name = obj.metadata?.name ?? '';
    if (!name.startsWith(PREFIX) || type === 'LIST') return;
    events.secrets++;
    for (const k of ['gen', 'id']) {
      const key = `${name}:${k}=${secretValue(obj, k) ?? ''}`;
      if (!valueAt.has(key)) valueAt.set(key, at);
    }
  };
  const fail = (err: unknown) => { failure = err; };
  const configWatch = await watchObjects<PikaConfig & KubernetesObject>(env.kc, pikaConfigs, onConfig, fail);
  const secretWatch = await watchObjects<V1Secret>(env.kc, secrets('app.kubernetes.io/managed-by=pika-operator'), onSecret, fail);
  return {
    readyAt,
    syncedAt,
    valueAt,
    events,
    resyncFrom(wallClockMs) {
      since = wallClockMs;
      syncedAt.clear();
    },
    failure: () => failure,
    stop() {
      configWatch.stop();
      secretWatch.stop();
    },
  };
}

export interface FleetSyncResult {
  readonly configs: number;
  /** Storing the fleet's pika configs (8 connections), for context. */
  readonly pika_store_s: number;
  /** First create request -> last create response (16 in flight). */
  readonly create_s: number;
  /** First create request -> the last PikaConfig reporting Ready=True. */
  readonly all_ready_s: number;
  readonly configs_per_s: number;
  /** Per config: its create response -> its Ready=True event. */
  readonly create_to_ready: Distribution;
  readonly status_writes: number;
  readonly secret_writes: number;
  readonly pika_calls: Record<string, number>;
  readonly syncs: Record<string, number>;
  readonly operator_cpu_s: number;
}

const fleetName = (i: number) => `${PREFIX}${String(i).padStart(4, '0')}`;

export async function measureFleetSync(env: BenchEnv, fleet: FleetObserver, n: number): Promise<FleetSyncResult> {
  const storeStart = performance.now();
  await env.admin.save('bench/fleet/base', { format: 'json', content: JSON.stringify({ gen: 'g0', region: 'eu' }) });
  await pool(n, 8, async (i) => {
    await env.admin.save(`bench/fleet/${fleetName(i)}`, { format: 'json', content: JSON.stringify({ id: fleetName(i) }), inherits: [{ source: 'bench/fleet/base' }] });
  });
  const pikaStoreS = (performance.now() - storeStart) / 1000;
  // The saves above make the operator re-check the one PikaConfig it has; let that pass.
  await settle(env, INHERIT_DELAY_MS + 200, 500);
  const before = await counters(env);
  const eventsBefore = { ...fleet.events };

  log(`creating ${n} PikaConfigs`);
  const createdAt = new Map<string, number>();
  const t0 = performance.now();
  await pool(n, 16, async (i) => {
    await env.kube.apply(pikaConfigObject(fleetName(i), `bench/fleet/${fleetName(i)}`, fleetName(i)), 'bench');
    createdAt.set(fleetName(i), performance.now());
  });
  const createS = (performance.now() - t0) / 1000;
  await waitUntil(() => fleet.readyAt.size >= n, `${n} PikaConfigs Ready`, 150_000, fleet.failure);
  const lastReady = Math.max(...fleet.readyAt.values());
  const perConfig = [...fleet.readyAt].map(([name, at]) => at - (createdAt.get(name) ?? t0));
  await settle(env, 0, 1_000);
  const after = await counters(env);
  return {
    configs: n,
    pika_store_s: pikaStoreS,
    create_s: createS,
    all_ready_s: (lastReady - t0) / 1000,
    configs_per_s: n / ((lastReady - t0) / 1000),
    create_to_ready: distribution(perConfig),
    status_writes: fleet.events.configs - eventsBefore.configs,
    secret_writes: fleet.events.secrets - eventsBefore.secrets,
    pika_calls: delta(before.calls, after.calls),
    syncs: delta(before.syncs, after.syncs),
    operator_cpu_s: cpu(before, after),
  };
}

export interface ChangeCostResult {
  /** How long the operator stayed busy after the save (until 1 s without a reconcile or pika call). */
  readonly busy_ms: number;
  readonly status_writes: number;
  readonly secret_writes: number;
  readonly pika_calls: Record<string, number>;
  readonly syncs: Record<string, number>;
  readonly operator_cpu_s: number;
}

/** One save to a path no PikaConfig reads or inherits: what does the fleet pay for it? */
export async function measureUnrelatedChange(env: BenchEnv, fleet: FleetObserver): Promise<ChangeCostResult> {
  const before = await counters(env);
  const eventsBefore = { ...fleet.events };
  await env.admin.save('bench/unrelated', { format: 'json', content: JSON.stringify({ x: randomBytes(4).toString('hex') }) });
  const busy = await settle(env, INHERIT_DELAY_MS + 200, 1_000);
  const after = await counters(env);
  return {
    busy_ms: Math.max(0, busy - 1_000),
    status_writes: fleet.events.configs - eventsBefore.configs,
    secret_writes: fleet.events.secrets - eventsBefore.secrets,
    pika_calls: delta(before.calls, after.calls),
    syncs: delta(before.syncs, after.syncs),
    operator_cpu_s: cpu(before, after),
  };
}

export interface RecheckLatencyResult {
  /** Configs whose own path was changed, spread over the fleet. */
  readonly configs: string[];
  /** Per change: save response -> its Secret updated, saved while the whole fleet's re-checks are queued. */
  readonly direct: Distribution;
}

/**
 * The change-in-pika latency again, but not against an idle operator: a save to a path nobody
 * reads queues a re-check of every config of the server after the inherit delay; just after that,
 * a few fleet configs get a change to their own path.
 */
export async function measureLatencyDuringRecheck(env: BenchEnv, fleet: FleetObserver, n: number, samples = 5): Promise<RecheckLatencyResult> {
  await env.admin.save('bench/unrelated', { format: 'json', content: JSON.stringify({ x: randomBytes(4).toString('hex') }) });
  await sleep(INHERIT_DELAY_MS + 100);
  const count = Math.min(samples, n);
  const picks = Array.from({ length: count }, (_, k) => fleetName(Math.floor(((k + 1) * n) / count) - 1));
  const latencies = await Promise.all(
    picks.map(async (name) => {
      const id = `${name}-${randomBytes(4).toString('hex')}`;
      await env.admin.save(`bench/fleet/${name}`, { format: 'json', content: JSON.stringify({ id }), inherits: [{ source: 'bench/fleet/base' }] });
      const saved = performance.now();
      const key = `${name}:id=${id}`;
      await waitUntil(() => fleet.valueAt.has(key), `direct change to ${name}`, 120_000, fleet.failure);
      return fleet.valueAt.get(key)! - saved;
    }),
  );
  await settle(env, 0, 1_000);
  return { configs: picks, direct: distribution(latencies) };
}

export interface FanOutResult extends ChangeCostResult {
  /** Save response -> the last of the fleet's Secrets holding the new value. */
  readonly all_updated_s: number;
  /** Per Secret: save response -> its update event. Includes the operator's inherit delay. */
  readonly per_secret: Distribution;
}

/** One save to the config every fleet config inherits: time until every Secret holds it. */
export async function measureFanOut(env: BenchEnv, fleet: FleetObserver, n: number): Promise<FanOutResult> {
  const before = await counters(env);
  const eventsBefore = { ...fleet.events };
  const gen = `g-${randomBytes(4).toString('hex')}`;
  await env.admin.save('bench/fleet/base', { format: 'json', content: JSON.stringify({ gen, region: 'eu' }) });
  const saved = performance.now();
  const keys = Array.from({ length: n }, (_, i) => `${fleetName(i)}:gen=${gen}`);
  await waitUntil(() => keys.every((k) => fleet.valueAt.has(k)), `${n} Secrets updated`, 120_000, fleet.failure);
  const arrivals = keys.map((k) => fleet.valueAt.get(k)! - saved);
  await settle(env, 0, 1_000);
  const after = await counters(env);
  return {
    all_updated_s: Math.max(...arrivals) / 1000,
    per_secret: distribution(arrivals),
    // settle() returned after 1 s without activity: the operator went quiet about then.
    busy_ms: Math.max(0, performance.now() - saved - 1_000),
    status_writes: fleet.events.configs - eventsBefore.configs,
    secret_writes: fleet.events.secrets - eventsBefore.secrets,
    pika_calls: delta(before.calls, after.calls),
    syncs: delta(before.syncs, after.syncs),
    operator_cpu_s: cpu(before, after),
  };
}

export interface RestartResult {
  /** SIGTERM -> exit of the old process (graceful: in-flight reconciles finish, watches close). */
  readonly stop_ms: number;
  /** Spawn -> /readyz 200 (node start, HMAC key, informer caches synced). */
  readonly ready_ms: number;
  /** Spawn -> the last fleet PikaConfig with a lastSyncTime after the restart. */
  readonly all_confirmed_s: number;
  readonly configs_per_s: number;
  readonly status_writes: number;
  readonly secret_writes: number;
  /** Counters of the new process (they start at zero). */
  readonly pika_calls: Record<string, number>;
  readonly syncs: Record<string, number>;
  /** Including the process start. */
  readonly operator_cpu_s: number;
}

/** A pod restart: every PikaConfig is re-read and re-confirmed; no Secret should be rewritten. */
export async function measureRestart(env: BenchEnv, fleet: FleetObserver, n: number): Promise<RestartResult> {
  const eventsBefore = { ...fleet.events };
  const { stopMs, resyncFrom } = await env.restartOperator();
  fleet.resyncFrom(resyncFrom);
  const op = env.operator;
  await waitUntil(() => fleet.syncedAt.size >= n, `${n} PikaConfigs re-confirmed`, 150_000, fleet.failure);
  const last = Math.max(...fleet.syncedAt.values());
  await settle(env, 0, 1_000);
  const after = await counters(env);
  return {
    stop_ms: stopMs,
    ready_ms: op.readyAt - op.spawnedAt,
    all_confirmed_s: (last - op.spawnedAt) / 1000,
    configs_per_s: n / ((last - op.spawnedAt) / 1000),
    status_writes: fleet.events.configs - eventsBefore.configs,
    secret_writes: fleet.events.secrets - eventsBefore.secrets,
    pika_calls: after.calls,
    syncs: after.syncs,
    operator_cpu_s: cpu({ cpuS: 0 }, after),
  };
}
