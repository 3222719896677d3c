import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Starts the built server (`node bin/pika.js server`) as a real child process for black-box tests
 * and benchmarks. It builds nothing: the runner runs `npm run build` first. Every process and
 * every temp dir it makes is tracked, so `stopAllPika()` in an afterEach/afterAll hook (and, as a
 * last resort, the test worker's exit) cleans up even when a test fails half-way.
 *
 * This module must not import vitest: bench/ reuses it.
 */

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const BIN = join(REPO_ROOT, 'bin', 'pika.js');
const DIST_CLI = join(REPO_ROOT, 'dist', 'cli.js');

export interface StartOptions {
  /** Data dir (PIKA_STORAGE_PATH). Default: a fresh temp dir, removed by stopAllPika(). */
  readonly dataDir?: string;
  /** Extra PIKA_* variables (e.g. PIKA_SERVER_BASE_PATH, PIKA_LOG_LEVEL). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for /healthz (default 20 s). */
  readonly readyTimeoutMs?: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface PikaProcess {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` — the origin, without the base path. */
  readonly origin: string;
  /** The origin plus PIKA_SERVER_BASE_PATH (no trailing slash): prefix for every route. */
  readonly baseUrl: string;
  readonly dataDir: string;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** stdout parsed as JSON lines (throws on a line that is not JSON). */
  logLines(): Record<string, unknown>[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Sends the signal and waits (bounded) for the exit; SIGKILLs when SIGTERM is not enough. */
  stop(signal?: 'SIGTERM' | 'SIGKILL', timeoutMs?: number): Promise<Exit>;
}

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();

process.once('exit', () => {
  // Last resort if a hook never ran (the worker is going away): no orphan servers.
  for (const child of running) child.kill('SIGKILL');
});

export function assertBuilt(): void {
  if (!existsSync(DIST_CLI)) throw new Error(`${DIST_CLI} is missing: run \`npm run build\` before the e2e tests or the bench`);
}

/** A fresh temp dir, removed by stopAllPika(). */
export function makeTempDir(prefix = 'pika-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Asks the OS for a free loopback port (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port from the OS'));
        return;
      }
      server.close(() => { resolvePort(address.port); });
    });
  });
}

/**
 * Starts `pika server` on a free port and resolves once `GET /healthz` answers 200. Retries with
 * another port if the chosen one was taken in between (EADDRINUSE).
 */
export async function startPika(options: StartOptions = {}): Promise<PikaProcess> {
  assertBuilt();
  const dataDir = options.dataDir ?? makeTempDir();
  for (let attempt = 1; ; attempt++) {
    const proc = spawnPika(await freePort(), dataDir, options.env ?? {});
    try {
      await waitReady(proc, options.readyTimeoutMs ?? 20_000);
      return proc;
    } catch (err) {
      await proc.stop('SIGKILL');
      if (attempt < 3 && /EADDRINUSE/.test(proc.stdout() + proc.stderr())) continue;
      throw err;
    }
  }
}

/** Runs `pika <args>` to completion (e.g. with a bad config) and returns its exit and output. */
export async function runPika(args: readonly string[], env: Readonly<Record<string, string>>, timeoutMs = 20_000): Promise<Exit & { stdout: string; stderr: string }> {
  assertBuilt();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: makeTempDir(), env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = track(child, 0, '', '');
  const timer = setTimeout(() => { child.kill('SIGKILL'); }, timeoutMs);
  try {
    const exit = await proc.exited;
    return { ...exit, stdout: proc.stdout(), stderr: proc.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every process still running (SIGKILL: tests that care stop their own first) and removes temp dirs. */
export async function stopAllPika(): Promise<void> {
  await Promise.all([...running].map((child) => stopChild(child, 'SIGKILL', 5_000)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function spawnPika(port: number, dataDir: string, env: Readonly<Record<string, string>>): PikaProcess {
  const child = spawn(process.execPath, [BIN, 'server'], {
    // A temp cwd, so a pika.yaml in the repo is never picked up.
    cwd: makeTempDir('pika-cwd-'),
    env: childEnv({ PIKA_SERVER_HOST: '127.0.0.1', PIKA_SERVER_PORT: String(port), PIKA_STORAGE_PATH: dataDir, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  const basePath = (env.PIKA_SERVER_BASE_PATH ?? '/').replace(/\/+$/, '');
  return track(child, port, dataDir, basePath);
}

/** The child's environment: ours without any PIKA_* (no leaks from the developer's shell), plus `env`. */
function childEnv(env: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PIKA_')));
  return { ...base, ...env };
}

function track(child: ChildProcess, port: number, dataDir: string, basePath: string): PikaProcess {
  if (child.pid === undefined) throw new Error('spawn failed: no pid');
  const pid = child.pid;
  running.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  const exited = new Promise<Exit>((resolveExit) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      resolveExit({ code, signal });
    });
  });
  const stdout = () => Buffer.concat(out).toString('utf8');
  const origin = `http://127.0.0.1:${port}`;
  return {
    pid,
    port,
    origin,
    baseUrl: origin + basePath,
    dataDir,
    stdout,
    stderr: () => Buffer.concat(err).toString('utf8'),
    logLines: () => stdout().split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
    exited,
    stop: (signal = 'SIGTERM', timeoutMs = 10_000) => stopChild(child, signal, timeoutMs).then(() => exited),
  };
}

async function stopChild(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL', timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return;
  }
  const closed = new Promise<void>((done) => child.once('close', () => { done(); }));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((done) => { timer = setTimeout(() => { done(true); }, timeoutMs); });
  const late = await Promise.race([closed.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    child.kill('SIGKILL');
    await closed;
  }
}

/** Polls /healthz (at the root, which answers with or without a base path) until 200, the process exits, or the deadline. */
async function waitReady(proc: PikaProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: Exit | undefined;
  void proc.exited.then((e) => { exit = e; });
  let lastError = '';
  while (Date.now() < deadline) {
    if (exit) throw new Error(`pika exited before it was ready (code ${exit.code}, signal ${exit.signal})\nstderr:\n${proc.stderr()}\nstdout:\n${proc.stdout()}`);
    try {
      const res = await fetch(`${proc.origin}/healthz`, { signal: AbortSignal.timeout(1_000) });
      const body = await res.text();
      if (res.status === 200 && body === 'OK') return;
      lastError = `HTTP ${res.status} ${body}`;
    } catch (e) {
      lastError = String(e);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`pika was not ready within ${timeoutMs} ms (last: ${lastError})\nstderr:\n${proc.stderr()}\nstdout:\n${proc.stdout()}`);
}
