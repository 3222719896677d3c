/**
 * The operator as a real process for `npm run bench:operator`: `node bin/pika.js operator` (the
 * built dist/, exactly what a pod runs) with KUBECONFIG and PIKA_OPERATOR_* set, its /metrics
 * scraped over HTTP, its VmRSS read from /proc. Stopped by PID (SIGTERM, SIGKILL after a grace).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/e2e/support/server-process.ts';

export interface OperatorProcess {
  readonly pid: number;
  readonly metricsUrl: string;
  /** performance.now() when the process was spawned, and when /readyz first answered 200. */
  readonly spawnedAt: number;
  readonly readyAt: number;
  /** stdout (pino JSON lines at PIKA_LOG_LEVEL) and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface OperatorOptions {
  readonly kubeconfig: string;
  readonly healthPort: number;
  readonly namespace: string;
  readonly workers: number;
  readonly logLevel: string;
  /** Extra node flags for the operator process (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[];
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Spawns the operator and resolves once /readyz says its caches are synced. */
export async function startOperatorProcess(options: OperatorOptions): Promise<OperatorProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PIKA_') && k !== 'KUBECONFIG'));
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), join(REPO_ROOT, 'bin', 'pika.js'), 'operator'], {
    cwd: REPO_ROOT,
    env: {
      ...inherited,
      KUBECONFIG: options.kubeconfig,
      PIKA_OPERATOR_NAMESPACE: options.namespace,
      PIKA_OPERATOR_IDENTITY: `bench-${process.pid}`,
      // One replica: no Lease to wait for, so a restart measures caches + reconciles only.
      PIKA_OPERATOR_LEADER_ELECTION: 'false',
      PIKA_OPERATOR_HEALTH_ADDR: `127.0.0.1:${options.healthPort}`,
      PIKA_OPERATOR_WORKERS: String(options.workers),
      PIKA_LOG_LEVEL: options.logLevel,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('spawning the operator failed');
  running.add(child);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => {
      running.delete(child);
      resolve();
    });
  });
  const output = () => Buffer.concat(chunks).toString('utf8');
  const stop = () => stopChild(child, closed);
  const base = `http://127.0.0.1:${options.healthPort}`;
  try {
    const readyAt = await waitReady(`${base}/readyz`, () => child.exitCode !== null, 30_000);
    return { pid: child.pid, metricsUrl: `${base}/metrics`, spawnedAt, readyAt, output, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\noperator output:\n${output().slice(-4000)}`);
  }
}

async function stopChild(child: ChildProcess, closed: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([closed.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => { r(true); }, 10_000); })]);
  clearTimeout(timer);
  if (late) {
    child.kill('SIGKILL');
    await closed;
  }
}

async function waitReady(url: string, exited: () => boolean, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error('the operator exited before it was ready');
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the operator was not ready within ${timeoutMs} ms`);
}

/** One sample of a Prometheus text exposition: name, labels, value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] ?? ''] = l[2] ?? '';
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return samples;
}

export async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return parseMetrics(await res.text());
}

/** Sum of the samples named `name` whose labels include `match`. */
export function total(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

/** Per label combination: `label=value,…` → value (counters only; for JSON reports). */
export function byLabels(samples: readonly Sample[], name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples.filter((x) => x.name === name)) out[Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',')] = s.value;
  return out;
}

/** `after - before` for every label combination of a counter. */
export function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}
