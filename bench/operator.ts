/**
 * `npm run bench:operator` (issue 7.9): the operator against a real kube-apiserver + etcd
 * (test/k8s/cluster.ts) and a real pika process, each measurement a watch event arrival. Not a
 * test: nothing passes or fails on a number; it fails only when a measurement cannot be made.
 * See bench/README.md, section "Operator".
 *
 *   1. change in pika -> Secret updated, over N sequential changes, against the reference of a
 *      bare API server write -> watch event measured in the same run;
 *   2. a fleet of PikaConfigs: first sync throughput, the cost of one unrelated change, the
 *      latency of 1. while the fleet is being re-checked, one change inherited by all (fan-out),
 *      and an operator restart (re-confirm everything);
 *   3. operator RSS and its pika API calls by status (ETag/304 use) from its /metrics.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { createKube } from '../src/operator/kube/kube.ts';
import { register } from '../test/e2e/support/http.ts';
import { freePort, REPO_ROOT, startPika, stopAllPika, type PikaProcess } from '../test/e2e/support/server-process.ts';
import { type Cluster, startCluster } from '../test/k8s/cluster.ts';
import { fmt, table } from './lib/report.ts';
import { startOperatorProcess } from './operator-process.ts';
import {
  type BenchEnv, type ChangeCostResult, type FanOutResult, type FleetSyncResult, INHERIT_DELAY_MS, type LatencyResult, type Memory, measureFanOut, measureFleetSync, measureLatency,
  measureLatencyDuringRecheck, measureRestart, measureUnrelatedChange, memory, NS, observeFleet, type RecheckLatencyResult, type RestartResult, SERVER,
} from './operator-phases.ts';
import type { Distribution } from './operator-watch.ts';

const OPERATOR_NS = 'pika-system';
/** --profile: each operator process writes a V8 CPU profile here when it exits. */
const PROFILE_DIR = join(REPO_ROOT, 'test-results', 'bench-operator-profile');
const log = (msg: string) => { process.stderr.write(`bench:operator: ${msg}\n`); };

const { values: args } = parseArgs({
  options: {
    changes: { type: 'string', default: '100' },
    configs: { type: 'string', default: '500' },
    workers: { type: 'string', default: '4' },
    gap: { type: 'string', default: '150' },
    out: { type: 'string', default: join(REPO_ROOT, 'test-results', 'bench-operator.json') },
    'no-build': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
  strict: true,
});
const options = { changes: Number(args.changes), configs: Number(args.configs), workers: Number(args.workers), gapMs: Number(args.gap) };
const out = resolve(args.out);
for (const [name, value] of Object.entries(options)) {
  if (!Number.isInteger(value) || value < (name === 'gapMs' ? 0 : 1)) throw new Error(`--${name === 'gapMs' ? 'gap' : name}: expected a positive integer`);
}

/** Builds the server and operator (tsc only, ~10 s) when dist/ is missing or older than src/. */
function ensureBuilt(): void {
  const cli = join(REPO_ROOT, 'dist', 'cli.js');
  const src = join(REPO_ROOT, 'src');
  // A file deleted between the listing and the stat (someone is editing) counts as old.
  const mtime = (f: string) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const newest = Math.max(...readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => mtime(join(src, f))));
  if (existsSync(cli) && mtime(cli) >= newest) return;
  if (args['no-build']) {
    log('dist/ is missing or older than src/, but --no-build was given: using it as it is');
    return;
  }
  log('dist/ is missing or older than src/: npm run build:server');
  const result = spawnSync('npm', ['run', '--silent', 'build:server'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`npm run build:server failed (exit ${result.status ?? result.signal ?? '?'})`);
}

interface State {
  cluster?: Cluster;
  pika?: PikaProcess;
  env?: BenchEnv;
  /** Output of every operator process that has stopped. */
  outputs: string[];
  tornDown?: boolean;
}

async function kubectl(cluster: Cluster, argv: string[], input?: string): Promise<void> {
  const result = await cluster.kubectl(argv, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${argv.join(' ')} failed: ${result.stderr}`);
}

async function setUp(state: State): Promise<BenchEnv> {
  log('starting kube-apiserver + etcd');
  const cluster = await startCluster();
  state.cluster = cluster;
  await kubectl(cluster, ['apply', '-f', join(REPO_ROOT, 'crds')]);
  await kubectl(cluster, ['wait', '--for=condition=Established', 'crd', '-l', 'app.kubernetes.io/name=pika', '--timeout=60s']);
  await kubectl(cluster, ['create', 'namespace', OPERATOR_NS]);

  const pika = await startPika({ env: { PIKA_LOG_LEVEL: 'warn' } });
  state.pika = pika;
  log(`pika pid ${pika.pid} on ${pika.baseUrl}`);
  const admin = await register(pika.baseUrl, { username: 'bench', password: 'bench-admin-passphrase' });
  const key = await admin.request('POST', '/api/v1/key/initialize', { key: 'bench operator server key' });
  if (key.status >= 300) throw new Error(`key initialize: HTTP ${key.status} ${key.text()}`);
  const token = await admin.request('POST', '/api/v1/tokens', { name: 'operator', scopes: [{ path: '**', operations: ['read'] }], capabilities: ['tokens.manage', 'key.unlock'] });
  if (token.status >= 300) throw new Error(`create token: HTTP ${token.status} ${token.text()}`);
  await kubectl(cluster, ['apply', '-f', '-'], `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Secret
metadata: {name: pika-token, namespace: ${NS}}
stringData: {token: ${token.json<{ raw_key: string }>().raw_key}}
---
apiVersion: pika.io/v1alpha1
kind: PikaServer
metadata: {name: ${SERVER}, namespace: ${NS}}
spec: {url: "${pika.baseUrl}", tokenSecretRef: {name: pika-token, key: token}}
`);

  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const healthPort = await freePort();
  const nodeFlags = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const start = () => startOperatorProcess({ kubeconfig: cluster.kubeconfig, healthPort, namespace: OPERATOR_NS, workers: options.workers, logLevel: 'warn', nodeFlags });
  const env: BenchEnv = {
    kc,
    kube: createKube(kc),
    admin,
    operator: await start(),
    async restartOperator() {
      const stopping = performance.now();
      await env.operator.stop();
      const stopMs = performance.now() - stopping;
      state.outputs.push(env.operator.output());
      const resyncFrom = Date.now();
      env.operator = await start();
      return { stopMs, resyncFrom };
    },
  };
  state.env = env;
  log(`operator pid ${env.operator.pid} (node bin/pika.js operator, ${options.workers} workers), ready in ${fmt.ms(env.operator.readyAt - env.operator.spawnedAt)}`);
  return env;
}

interface Results {
  latency: LatencyResult;
  fleet: FleetSyncResult;
  unrelated: ChangeCostResult;
  during_recheck: RecheckLatencyResult;
  fanout: FanOutResult;
  restart: RestartResult;
  memory: Record<string, Memory>;
}

async function run(env: BenchEnv): Promise<Results> {
  const mem: Record<string, Memory> = { idle: await memory(env) };
  log(`latency: ${options.changes} sequential changes`);
  const latency = await measureLatency(env, options.changes, options.gapMs);
  mem.after_latency = await memory(env);
  const fleetObserver = await observeFleet(env);
  try {
    log(`fleet: storing ${options.configs} pika configs`);
    const fleet = await measureFleetSync(env, fleetObserver, options.configs);
    mem.after_fleet_ready = await memory(env);
    log('fleet: one change to a path nobody reads');
    const unrelated = await measureUnrelatedChange(env, fleetObserver);
    log('fleet: changes to single configs while the fleet is re-checked');
    const duringRecheck = await measureLatencyDuringRecheck(env, fleetObserver, options.configs);
    log('fleet: one change every config inherits');
    const fanout = await measureFanOut(env, fleetObserver, options.configs);
    mem.after_fanout = await memory(env);
    log('fleet: operator restart');
    const restart = await measureRestart(env, fleetObserver, options.configs);
    mem.after_restart = await memory(env);
    return { latency, fleet, unrelated, during_recheck: duringRecheck, fanout, restart, memory: mem };
  } finally {
    fleetObserver.stop();
  }
}

/** `route=data,status=304` -> counts: "data 200: 3, data 304: 97". */
function calls(record: Record<string, number>): string {
  const parts = Object.entries(record).map(([k, v]) => {
    const labels = Object.fromEntries(k.split(',').map((kv) => kv.split('=') as [string, string]));
    return `${labels.route ?? '?'} ${labels.status ?? '?'}: ${v}`;
  });
  return parts.length > 0 ? parts.sort().join(', ') : 'none';
}

const reconciles = (record: Record<string, number>) => Object.entries(record).filter(([k]) => k.includes('kind=PikaConfig')).reduce((s, [, v]) => s + v, 0);

function summarize(r: Results): string {
  const dist = (name: string, d: Distribution) => [name, fmt.ms(d.p50_ms), fmt.ms(d.p95_ms), fmt.ms(d.max_ms), String(d.n)];
  const seconds = (s: number) => `${s.toFixed(2)} s`;
  const cost = (name: string, time: string, c: ChangeCostResult | RestartResult) => [name, time, String(reconciles(c.syncs)), String(c.status_writes), String(c.secret_writes), `${c.operator_cpu_s.toFixed(1)} s`, calls(c.pika_calls)];
  const { fleet, unrelated, fanout, restart, latency } = r;
  return [
    '',
    `1. change in pika -> Secret updated (${latency.operator.n} sequential changes, ${options.gapMs} ms apart)`,
    table([
      ['measure', 'p50', 'p95', 'max', 'n'],
      dist('operator: pika save response -> Secret watch event', latency.operator),
      dist('reference: Secret apply request -> its watch event', latency.reference),
      dist('pika save round trip (context)', latency.pika_save),
    ]),
    `ratio operator p50 / reference p50 = ${latency.ratio_p50.toFixed(2)}   reconciles: ${reconciles(latency.syncs)} for ${latency.operator.n} changes   pika calls: ${calls(latency.pika_calls)}`,
    '',
    `2. ${fleet.configs} PikaConfigs (each its own pika config inheriting bench/fleet/base, its own Secret), operator with ${options.workers} workers`,
    table([
      ['first sync', 'value'],
      [`store ${fleet.configs} configs in pika (context)`, seconds(fleet.pika_store_s)],
      [`create ${fleet.configs} PikaConfigs (16 in flight)`, seconds(fleet.create_s)],
      ['first create -> all Ready=True', seconds(fleet.all_ready_s)],
      ['throughput', `${fleet.configs_per_s.toFixed(1)} configs/s`],
      ['per config: created -> Ready p50 / p95', `${fmt.ms(fleet.create_to_ready.p50_ms)} / ${fmt.ms(fleet.create_to_ready.p95_ms)}`],
      ['reconciles / status writes / Secret writes', `${reconciles(fleet.syncs)} / ${fleet.status_writes} / ${fleet.secret_writes}`],
      ['operator CPU', `${fleet.operator_cpu_s.toFixed(1)} s`],
      ['pika calls', calls(fleet.pika_calls)],
    ]),
    '',
    table([
      ['afterwards', 'time', 'reconciles', 'status writes', 'Secret writes', 'operator CPU', 'pika calls'],
      cost('one save to a path nobody reads', `busy ${seconds(unrelated.busy_ms / 1000)}`, unrelated),
      cost('one save to the base all inherit', `all ${seconds(fanout.all_updated_s)} (p50 ${seconds(fanout.per_secret.p50_ms / 1000)})`, fanout),
      cost('operator restart (SIGTERM, new process)', `all ${seconds(restart.all_confirmed_s)} (${restart.configs_per_s.toFixed(0)}/s)`, restart),
    ]),
    `fan-out includes the operator's ${INHERIT_DELAY_MS} ms inherit delay; restart: stop ${fmt.ms(restart.stop_ms)}, spawn -> caches synced ${fmt.ms(restart.ready_ms)}, counters of the new process`,
    '',
    `a change to a config's own path while the ${fleet.configs} re-checks after an unrelated save are queued: p50 ${fmt.ms(r.during_recheck.direct.p50_ms)}, max ${fmt.ms(r.during_recheck.direct.max_ms)} (n=${r.during_recheck.direct.n}; idle operator: p50 ${fmt.ms(latency.operator.p50_ms)})`,
    '',
    table([
      ['operator memory', 'RSS', 'heap used', 'heap total', 'external'],
      ...Object.entries(r.memory).map(([k, m]) => [k.replaceAll('_', ' '), fmt.mib(m.rss_kib), fmt.mib(m.heap_used_bytes / 1024), fmt.mib(m.heap_total_bytes / 1024), fmt.mib(m.external_bytes / 1024)]),
    ]),
    '',
  ].join('\n');
}

/** Warnings and errors the operator logged: counts by message, and the first lines of each. */
function logSummary(outputs: readonly string[]): { counts: Record<string, number>; samples: Record<string, string[]> } {
  const counts: Record<string, number> = {};
  const samples: Record<string, string[]> = {};
  for (const line of outputs.join('\n').split('\n')) {
    if (line.trim() === '') continue;
    let key = 'non-JSON output';
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if ((entry.level ?? 0) < 40) continue;
      key = `${entry.level === 40 ? 'warn' : 'error'}: ${entry.msg ?? '?'}`;
    } catch {
      // counted as non-JSON
    }
    counts[key] = (counts[key] ?? 0) + 1;
    const list = (samples[key] ??= []);
    if (list.length < 5) list.push(line.slice(0, 1000));
  }
  return { counts, samples };
}

function writeJson(r: Results, logs: ReturnType<typeof logSummary>, totalS: number): void {
  mkdirSync(dirname(out), { recursive: true });
  const cpu = cpus();
  const json = {
    timestamp: new Date().toISOString(),
    machine: { cpus: cpu.length, cpu_model: cpu[0]?.model ?? 'unknown', memory_bytes: totalmem(), node: process.version },
    options: { ...options, inherit_delay_ms: INHERIT_DELAY_MS, operator: 'node bin/pika.js operator (dist/), leader election off', pika: 'node bin/pika.js server (dist/)' },
    ...r,
    operator_log: logs,
    total_s: totalS,
  };
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
}

async function tearDown(state: State): Promise<void> {
  if (state.tornDown) return;
  state.tornDown = true;
  if (state.env) {
    await state.env.operator.stop().catch(() => undefined);
    state.outputs.push(state.env.operator.output());
  }
  await stopAllPika();
  await state.cluster?.stop().catch((err: unknown) => { log(`cluster stop: ${String(err)}`); });
}

async function main(): Promise<number> {
  const started = Date.now();
  const state: State = { outputs: [] };
  const onSignal = () => {
    void tearDown(state).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    ensureBuilt();
    const results = await run(await setUp(state));
    await tearDown(state);
    const logs = logSummary(state.outputs);
    process.stdout.write(summarize(results));
    if (Object.keys(logs.counts).length > 0) process.stdout.write(`operator warnings/errors: ${JSON.stringify(logs.counts)} (first lines in the JSON)\n`);
    const totalS = (Date.now() - started) / 1000;
    writeJson(results, logs, totalS);
    if (args.profile) process.stdout.write(`operator CPU profiles: ${PROFILE_DIR}\n`);
    process.stdout.write(`\nresults: ${out}\ntotal time: ${totalS.toFixed(0)} s\n`);
    return 0;
  } catch (err) {
    log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    if (state.env) log(`operator output (tail):\n${state.env.operator.output().slice(-4000)}`);
    if (state.pika) log(`pika stderr (tail):\n${state.pika.stderr().slice(-2000)}`);
    return 1;
  } finally {
    await tearDown(state);
  }
}

process.exitCode = await main();
