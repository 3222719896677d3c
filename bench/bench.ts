/**
 * `npm run bench` (through bench/run.sh): load against the built server, printed as ratios to a
 * reference measured in the same run (SPEC §16). Not a test: nothing here passes or fails on a
 * number; it fails only when a measurement is invalid (errors, non-2xx answers).
 *
 *   1. /data read throughput: wrk against pika's GET /data/bench/app (token, inheritance resolved)
 *      and against nginx serving the same bytes as a static file → ratio pika/nginx, goal >= 0.5.
 *   2. Save throughput: POST /api/v1/file over HTTP, 1 connection and 16 connections.
 *   3. Memory: VmRSS of the pika process at startup, after the read load, after storing 10,000 configs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { getData, register } from '../test/e2e/support/http.ts';
import { freePort, makeTempDir, REPO_ROOT, startPika, stopAllPika, type PikaProcess } from '../test/e2e/support/server-process.ts';
import { startNginx, type Nginx } from './lib/nginx.ts';
import { fmt, rssKiB, table } from './lib/report.ts';
import { runSaves, type SaveResult } from './lib/saves.ts';
import { runWrk, wrkVersion, type WrkResult, type WrkOptions } from './lib/wrk.ts';

const GOAL = 0.5;
const WARMUP_S = 2;
const MEASURE_S = 5;
const SEED_CONFIGS = 10_000;

const log = (msg: string) => { process.stderr.write(`bench: ${msg}\n`); };

function baseConfig(): string {
  return JSON.stringify({
    server: { host: '0.0.0.0', port: 8080, tls: { enabled: true, min_version: '1.2' } },
    logging: { level: 'info', format: 'json', sample_rate: 0.1 },
    features: { search: true, audit: true, legacy_api: false },
    database: { pool: { min: 2, max: 20, idle_ms: 30_000 }, statement_timeout_ms: 5_000 },
  }, null, 2);
}

/** ~1.5 KiB of JSON that overrides and extends the base. */
function appConfig(): string {
  const services = Array.from({ length: 9 }, (_, i) => ({
    name: `service-${i}`,
    url: `https://service-${i}.internal.example:8443/api/v2`,
    timeout_ms: 1000 + i * 250,
    retries: i % 4,
  }));
  return JSON.stringify({ app: { name: 'bench-app', version: '1.4.2' }, server: { port: 9090 }, features: { legacy_api: true }, services }, null, 2);
}

/** wrk: warm up, then measure; an error or a non-2xx answer makes the number meaningless. */
async function measure(label: string, options: Omit<WrkOptions, 'seconds'>, seconds = MEASURE_S, warmUp = true): Promise<WrkResult> {
  log(`${label}: ${warmUp ? `warm-up ${WARMUP_S}s, ` : ''}measure ${seconds}s`);
  if (warmUp) await runWrk({ ...options, seconds: WARMUP_S });
  const result = await runWrk({ ...options, seconds });
  if (result.non2xx > 0 || result.socketErrors > 0) throw new Error(`${label}: ${result.non2xx} non-2xx answers, ${result.socketErrors} socket errors`);
  return result;
}

/** The reference from two bracketing runs: mean req/s, the worse of the latencies. */
function meanOf(a: WrkResult, b: WrkResult): WrkResult {
  return { ...a, requests: a.requests + b.requests, seconds: a.seconds + b.seconds, rps: (a.rps + b.rps) / 2, p50Ms: Math.max(a.p50Ms, b.p50Ms), p99Ms: Math.max(a.p99Ms, b.p99Ms) };
}

function checkSaves(label: string, result: SaveResult): SaveResult {
  if (result.failed > 0 || result.saves === 0) throw new Error(`${label}: ${result.failed} failed saves (of ${result.saves + result.failed})`);
  return result;
}

async function run(pika: PikaProcess, nginxBin: string, nginxSlot: { nginx?: Nginx }) {
  const rss = { startup_kib: rssKiB(pika.pid), after_reads_kib: 0, after_seed_kib: 0 };
  const admin = await register(pika.baseUrl, { username: 'bench', password: 'bench-admin-passphrase' });
  await admin.save('bench/base', { format: 'json', content: baseConfig() });
  await admin.save('bench/app', { format: 'json', content: appConfig(), inherits: [{ source: 'bench/base' }] });
  const token = await admin.createToken('bench-reader', [{ path: 'bench/**', operations: ['read'] }]);
  const resolved = await getData(pika.baseUrl, token, 'bench/app');
  if (resolved.status !== 200) throw new Error(`GET /data/bench/app answered ${resolved.status}: ${resolved.text()}`);
  log(`resolved /data/bench/app: ${resolved.body.length} bytes (${resolved.headers.get('content-type') ?? '?'}); stored app ${appConfig().length} B + base ${baseConfig().length} B`);

  const nginx = await startNginx({ bin: nginxBin, dir: makeTempDir('pika-bench-nginx-'), port: await freePort(), fileName: 'app.json', body: resolved.body });
  nginxSlot.nginx = nginx;
  const dataUrl = `${pika.baseUrl}/data/bench/app`;
  const auth = { Authorization: `Bearer ${token}` };
  // nginx is measured before and after pika (bracketing): on a shared machine the load around us
  // drifts, and the spread between the two nginx runs shows by how much.
  const nginxBefore = await measure('nginx static (1/2)', { url: nginx.url });
  const pikaRead = await measure('pika /data', { url: dataUrl, headers: auth });
  const nginxAfter = await measure('nginx static (2/2)', { url: nginx.url }, MEASURE_S, false);
  const nginxRead = meanOf(nginxBefore, nginxAfter);
  const nginxSpread = Math.abs(nginxBefore.rps - nginxAfter.rps) / nginxRead.rps;
  rss.after_reads_kib = rssKiB(pika.pid);
  await nginx.stop();
  nginxSlot.nginx = undefined;

  log('saves: 1 connection, 3s');
  const sequential = checkSaves('sequential saves', await runSaves({ baseUrl: pika.baseUrl, cookie: admin.cookie, connections: 1, seconds: 3, pathOf: (n) => `bench/seq/cfg${n % 50}`, bodyOf: (n) => JSON.stringify({ n, kind: 'sequential' }) }));
  log('saves: 16 connections, 5s');
  const concurrent = checkSaves('concurrent saves', await runSaves({ baseUrl: pika.baseUrl, cookie: admin.cookie, connections: 16, seconds: 5, pathOf: (n) => `bench/conc/cfg${n % 500}`, bodyOf: (n) => JSON.stringify({ n, kind: 'concurrent' }) }));

  log(`storing ${SEED_CONFIGS} configs (32 connections)`);
  const padding = 'x'.repeat(160);
  const seed = checkSaves('seeding', await runSaves({ baseUrl: pika.baseUrl, cookie: admin.cookie, connections: 32, amount: SEED_CONFIGS, pathOf: (n) => `bench/many/g${n % 100}/cfg${n}`, bodyOf: (n) => JSON.stringify({ id: n, owner: `team-${n % 17}`, padding }) }));
  if (seed.saves !== SEED_CONFIGS) throw new Error(`seeding stored ${seed.saves} configs, expected ${SEED_CONFIGS}`);
  rss.after_seed_kib = rssKiB(pika.pid);
  const readAfterSeed = await measure(`pika /data with ${SEED_CONFIGS} configs stored`, { url: dataUrl, headers: auth }, 3);

  return { bodyBytes: resolved.body.length, nginx, nginxRead, nginxRuns: [nginxBefore, nginxAfter], nginxSpread, pikaRead, readAfterSeed, sequential, concurrent, seed, rss };
}

type Results = Awaited<ReturnType<typeof run>>;

function summarize(r: Results): string {
  const ratio = r.pikaRead.rps / r.nginxRead.rps;
  const read = (name: string, w: WrkResult) => [name, fmt.int(w.rps), fmt.ms(w.p50Ms), fmt.ms(w.p99Ms)];
  const save = (name: string, s: SaveResult) => [name, fmt.int(s.savesPerSec), fmt.ms(s.p50Ms), fmt.ms(s.p99Ms)];
  return [
    '',
    `GET of the same ${r.bodyBytes}-byte JSON body (wrk -t1 -c16 -d${MEASURE_S}s --latency, after a ${WARMUP_S}s warm-up)`,
    table([['target', 'req/s', 'p50', 'p99'], read('nginx static file (mean of 2 runs)', r.nginxRead), read('pika /data/bench/app', r.pikaRead), read(`pika /data, ${SEED_CONFIGS} configs stored (3s)`, r.readAfterSeed)]),
    '',
    `ratio pika/nginx = ${ratio.toFixed(3)}   (goal >= ${GOAL}: ${ratio >= GOAL ? 'met' : 'NOT met'})`,
    `nginx before/after pika: ${r.nginxRuns.map((w) => fmt.int(w.rps)).join(' / ')} req/s (spread ${(r.nginxSpread * 100).toFixed(0)}%${r.nginxSpread > 0.2 ? ': the machine was busy, take this ratio with care' : ''})`,
    '',
    'POST /api/v1/file saves (autocannon; every save fsyncs before the 201)',
    table([['load', 'saves/s', 'p50', 'p99'], save('1 connection, 3s', r.sequential), save('16 connections, 5s', r.concurrent), save(`${SEED_CONFIGS} new configs, 32 connections`, r.seed)]),
    '',
    table([['pika RSS (VmRSS)', 'value'], ['at startup', fmt.mib(r.rss.startup_kib)], ['after the read load', fmt.mib(r.rss.after_reads_kib)], [`after storing ${SEED_CONFIGS} configs`, fmt.mib(r.rss.after_seed_kib)]]),
    '',
  ].join('\n');
}

function writeJson(r: Results): string {
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `${stamp}.json`);
  const cpu = cpus();
  const { nginx, ...numbers } = r;
  const json = {
    timestamp: new Date().toISOString(),
    machine: { cpus: cpu.length, cpu_model: cpu[0]?.model ?? 'unknown', memory_bytes: totalmem(), node: process.version, nginx: nginx.version, wrk: wrkVersion() },
    goal: { metric: 'pika /data req/s divided by nginx static req/s', target: GOAL, ratio: r.pikaRead.rps / r.nginxRead.rps },
    ...numbers,
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  return file;
}

async function main(): Promise<number> {
  const nginxBin = process.env.NGINX_BIN ?? 'nginx';
  const started = Date.now();
  const slot: { nginx?: Nginx | undefined } = {};
  let pika: PikaProcess | undefined;
  const onSignal = () => {
    void Promise.all([slot.nginx?.stop(), stopAllPika()]).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    pika = await startPika({ env: { PIKA_LOG_LEVEL: 'warn' } });
    log(`pika pid ${pika.pid} on ${pika.baseUrl}, data in ${pika.dataDir}`);
    const results = await run(pika, nginxBin, slot);
    process.stdout.write(summarize(results));
    process.stdout.write(`\nresults: ${writeJson(results)}\ntotal time: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    return 0;
  } catch (err) {
    log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    if (pika) log(`pika stderr:\n${pika.stderr()}\npika stdout (tail):\n${pika.stdout().slice(-4000)}`);
    return 1;
  } finally {
    await slot.nginx?.stop();
    if (pika) await pika.stop('SIGTERM');
    await stopAllPika();
  }
}

process.exitCode = await main();
