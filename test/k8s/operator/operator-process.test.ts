/**
 * `pika operator` as the real process a pod runs (built bin/pika.js): configured by PIKA_OPERATOR_*
 * and KUBECONFIG only, syncs against a real API server and a real pika server process, serves
 * /healthz, /readyz and /metrics, takes the Lease, and on SIGTERM exits 0 and releases the Lease so
 * a standby can take over at once. Bad configuration exits 2 with every problem listed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { KubeConfig, type V1Lease, type V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../e2e/support/http.ts';
import { freePort, REPO_ROOT, runPika, startPika, stopAllPika } from '../../e2e/support/server-process.ts';
import { createKube, type Kube } from '../../../src/operator/kube/kube.ts';
import { type Cluster, startCluster } from '../cluster.ts';
import { OPERATOR_NS } from './operator-env.ts';

let cluster: Cluster;
let kube: Kube;
let operator: ChildProcess;
let output = '';
let healthPort = 0;

beforeAll(async () => {
  cluster = await startCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  kube = createKube(kc);
  expect((await cluster.kubectl(['apply', '-f', 'crds/'])).code).toBe(0);
  expect((await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '-l', 'app.kubernetes.io/name=pika', '--timeout=60s'])).code).toBe(0);

  const pika = await startPika();
  const admin = await register(pika.baseUrl);
  await admin.save('proc/app', { format: 'json', content: '{"greeting": "hello"}' });
  const token = await admin.createToken('operator');
  await cluster.kubectl(['create', 'namespace', OPERATOR_NS]);
  await cluster.kubectl(['create', 'namespace', 'proc']);
  const apply = await cluster.kubectl(['apply', '-f', '-'], {
    input: `
apiVersion: v1
kind: Secret
metadata: {name: pika-token, namespace: proc}
stringData: {token: ${token}}
---
apiVersion: pika.io/v1alpha1
kind: PikaServer
metadata: {name: main, namespace: proc}
spec: {url: "${pika.baseUrl}", tokenSecretRef: {name: pika-token}}
---
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: app, namespace: proc}
spec:
  serverRef: {name: main}
  source: {path: proc/app}
  target: {name: app-env}
`,
  });
  expect(apply.stderr).toBe('');

  healthPort = await freePort();
  operator = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'pika.js'), 'operator'], {
    env: { PATH: process.env.PATH, KUBECONFIG: cluster.kubeconfig, PIKA_OPERATOR_HEALTH_ADDR: `127.0.0.1:${healthPort}`, PIKA_OPERATOR_IDENTITY: 'operator-under-test', PIKA_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  operator.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  operator.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
}, 180_000);

afterAll(async () => {
  if (operator.exitCode === null) operator.kill('SIGKILL');
  await stopAllPika();
  await cluster.stop();
}, 60_000);

describe('pika operator (process)', () => {
  it('syncs a PikaConfig, serves health and metrics, and holds the Lease', async () => {
    const greeting = async () => {
      const s = await kube.get<V1Secret>({ apiVersion: 'v1', kind: 'Secret', name: 'app-env', namespace: 'proc' });
      return s?.data?.greeting === undefined ? undefined : Buffer.from(s.data.greeting, 'base64').toString();
    };
    await expect.poll(greeting, { timeout: 20_000 }).toBe('hello');
    expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text()).toContain('pika_operator_leader 1');
    const lease = await kube.get<V1Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'pika-operator', namespace: OPERATOR_NS });
    expect(lease?.spec?.holderIdentity).toBe('operator-under-test');
    // Logs are JSON lines and never carry the token.
    const token = (await kube.get<V1Secret>({ apiVersion: 'v1', kind: 'Secret', name: 'pika-token', namespace: 'proc' }))?.data?.token ?? '';
    expect(output).not.toContain(Buffer.from(token, 'base64').toString());
    expect(output).toContain('"msg":"caches synced"');
  });

  it('on SIGTERM finishes, releases the Lease and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => operator.once('exit', (code) => { resolve(code); }));
    operator.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lease = await kube.get<V1Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'pika-operator', namespace: OPERATOR_NS });
    expect(lease?.spec?.holderIdentity ?? '').toBe('');
  });

  it('a bad configuration exits 2 and names every problem', async () => {
    const result = await runPika(['operator'], { KUBECONFIG: cluster.kubeconfig, PIKA_OPERATOR_WORKERS: 'many', PIKA_OPERATOR_HEALTH_ADDR: 'nowhere' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PIKA_OPERATOR_WORKERS');
    expect(result.stderr).toContain('PIKA_OPERATOR_HEALTH_ADDR');
  });
});
