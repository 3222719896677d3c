/**
 * A real Kubernetes API server for Vitest suites: `test/k8s/cluster.sh up` in a fresh temp dir
 * (kube-apiserver + etcd on 127.0.0.1, built once from the Go module proxy and cached in
 * .cache/k8s/<version>/), and `cluster.sh down` + removal of the dir in stop().
 *
 * There is no controller-manager, scheduler or node: no garbage collection of owned objects, no
 * namespace finalization, no ServiceAccount tokens, no Pods running. See test/k8s/README.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLUSTER_SH = join(dirname(fileURLToPath(import.meta.url)), 'cluster.sh');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's standard input (for `apply -f -`). */
  input?: string;
  /** A context of DIR/kubeconfig: `admin` (default, group system:masters) or `unprivileged`. */
  context?: 'admin' | 'unprivileged';
}

export interface Cluster {
  /** The temp dir holding kubeconfig, env, bin/kubectl, pki/, logs and etcd data. */
  readonly dir: string;
  /** Admin kubeconfig (contexts `admin`, current, and `unprivileged`). */
  readonly kubeconfig: string;
  /** `https://127.0.0.1:PORT` */
  readonly server: string;
  /** PEM of the CA that signed the serving certificate. */
  readonly ca: string;
  /** Bearer token of `pika-admin` (group system:masters). */
  readonly adminToken: string;
  /** Bearer token of `pika-unprivileged` (no RBAC bindings). */
  readonly unprivilegedToken: string;
  /** Runs the cached kubectl (same version as the server) against this cluster. Never rejects on a non-zero exit. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<RunResult>;
  /** Stops etcd and kube-apiserver and removes `dir` (kept when PIKA_K8S_KEEP=1). Idempotent. */
  stop(): Promise<void>;
}

function run(cmd: string, args: readonly string[], input: string | undefined, echo: boolean): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (echo) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** Starts a fresh cluster (builds the binaries first if they are not cached: 10-25 min cold). */
export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'pika-k8s-'));
  let stopped = false;
  const downSync = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync('bash', [CLUSTER_SH, 'down', dir], { stdio: 'ignore' });
    } finally {
      if (process.env['PIKA_K8S_KEEP'] !== '1') rmSync(dir, { recursive: true, force: true });
    }
  };
  // A suite that dies without afterAll must not leave an apiserver and etcd behind.
  process.once('exit', downSync);

  const up = await run('bash', [CLUSTER_SH, 'up', dir], undefined, true);
  if (up.code !== 0) {
    downSync();
    throw new Error(`cluster.sh up failed (exit ${up.code}):\n${up.stderr}`);
  }
  const env = Object.fromEntries(
    readFileSync(join(dir, 'env'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const kubeconfig = resolve(dir, 'kubeconfig');
  const kubectlBin = join(dir, 'bin', 'kubectl');
  return {
    dir,
    kubeconfig,
    server: env['PIKA_K8S_SERVER']!,
    ca: readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'),
    adminToken: readFileSync(join(dir, 'pki', 'admin.token'), 'utf8').trim(),
    unprivilegedToken: readFileSync(join(dir, 'pki', 'unprivileged.token'), 'utf8').trim(),
    kubectl(args, options = {}) {
      const ctx = ['--kubeconfig', kubeconfig, '--context', options.context ?? 'admin'];
      return run(kubectlBin, [...ctx, ...args], options.input, false);
    },
    async stop() {
      process.removeListener('exit', downSync);
      if (stopped) return;
      const down = await run('bash', [CLUSTER_SH, 'down', dir], undefined, true);
      downSync(); // marks stopped and removes the dir; `down` again is a no-op
      if (down.code !== 0) throw new Error(`cluster.sh down failed (exit ${down.code}):\n${down.stderr}`);
    },
  };
}
