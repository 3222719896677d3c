/**
 * Everything an operator test needs, all real: a kube-apiserver with the pika CRDs, a pika server
 * (buildApp on a real store, listening on loopback) with an initialized key, an operator token in
 * a Secret, and the operator itself (buildOperator, in-process) watching it.
 */
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { OperatorConfig } from '../../../src/operator/config.ts';
import { createKube, type Kube } from '../../../src/operator/kube/kube.ts';
import { buildOperator } from '../../../src/operator/operator.ts';
import { type Client, startTestApp, type TestApp } from '../../../src/server/test-support/app-harness.ts';
import { type Cluster, startCluster } from '../cluster.ts';

export const SERVER_KEY = 'operator e2e server key';
export const OPERATOR_NS = 'pika-system';

export interface OperatorEnv {
  readonly cluster: Cluster;
  readonly kc: KubeConfig;
  readonly kube: Kube;
  readonly pika: TestApp;
  readonly admin: Client;
  readonly pikaUrl: string;
  operator: ReturnType<typeof buildOperator>;
  /** Starts a fresh operator (after stopOperator), as a restarted pod would. */
  startOperator(overrides?: Partial<OperatorConfig>): Promise<void>;
  stopOperator(): Promise<void>;
  /** `kubectl apply -f -` that must succeed. */
  apply(yaml: string): Promise<void>;
  /** Namespace + token Secret + PikaServer `main` in it. */
  tenant(namespace: string): Promise<void>;
  putConfig(path: string, content: string, format?: string): Promise<void>;
  stop(): Promise<void>;
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };

export function operatorConfig(overrides: Partial<OperatorConfig> = {}): OperatorConfig {
  return {
    namespace: OPERATOR_NS,
    identity: `test-${process.pid}`,
    watchNamespaces: undefined,
    health: { host: '127.0.0.1', port: 0 },
    leaderElection: true,
    leaseName: 'pika-operator',
    stateSecret: 'pika-operator-state',
    workers: 4,
    serverCheckIntervalMs: 60_000,
    lockedCheckIntervalMs: 300,
    logLevel: 'silent',
    ...overrides,
  };
}

export async function startOperatorEnv(): Promise<OperatorEnv> {
  const cluster = await startCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const kube = createKube(kc);
  const apply = async (yaml: string) => {
    const result = await cluster.kubectl(['apply', '-f', '-'], { input: yaml });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  };
  expect((await cluster.kubectl(['apply', '-f', 'crds/'])).code).toBe(0);
  expect((await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '-l', 'app.kubernetes.io/name=pika', '--timeout=60s'])).code).toBe(0);
  expect((await cluster.kubectl(['create', 'namespace', OPERATOR_NS])).code).toBe(0);

  const pika = await startTestApp();
  const admin = await pika.bootstrapAdmin();
  await pika.app.listen({ host: '127.0.0.1', port: 0 });
  expect((await admin.post('/api/v1/key/initialize', { key: SERVER_KEY })).status).toBeLessThan(300);
  const token = await admin.post('/api/v1/tokens', { name: 'operator', scopes: [{ path: '**', operations: ['read'] }], capabilities: ['tokens.manage', 'key.unlock'] });
  expect(token.status).toBeLessThan(300);
  const pikaUrl = `http://127.0.0.1:${(pika.app.server.address() as AddressInfo).port}`;

  const env: OperatorEnv = {
    cluster,
    kc,
    kube,
    pika,
    admin,
    pikaUrl,
    operator: buildOperator(operatorConfig(), { kubeConfig: kc, logger: silent }),
    async startOperator(overrides = {}) {
      env.operator = buildOperator(operatorConfig(overrides), { kubeConfig: kc, logger: silent, inheritDelayMs: 200 });
      await env.operator.start();
      const deadline = Date.now() + 20_000;
      while (!env.operator.isLeader()) {
        if (Date.now() > deadline) throw new Error('the operator did not become leader within 20 s');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stopOperator() {
      await env.operator.stop();
    },
    apply,
    async tenant(namespace) {
      await apply(`
apiVersion: v1
kind: Namespace
metadata: {name: ${namespace}}
---
apiVersion: v1
kind: Secret
metadata: {name: pika-token, namespace: ${namespace}}
stringData: {token: ${token.json.raw_key as string}}
---
apiVersion: pika.io/v1alpha1
kind: PikaServer
metadata: {name: main, namespace: ${namespace}}
spec: {url: "${pikaUrl}", tokenSecretRef: {name: pika-token, key: token}}
`);
    },
    async putConfig(path, content, format = 'json') {
      const response = await admin.post(`/api/v1/file/${path}`, { meta: { format }, content });
      expect(response.status, JSON.stringify(response.json)).toBeLessThan(300);
    },
    async stop() {
      await env.operator.stop().catch(() => undefined);
      await pika.close();
      await cluster.stop();
    },
  };
  await env.startOperator();
  return env;
}
