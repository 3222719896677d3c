/**
 * PikaConfig end to end (issue 7.4, 7.5, 7.7, 7.8): a real kube-apiserver, a real pika server and
 * the operator in-process. Every check reads the objects back from the API server.
 */
import type { V1ConfigMap, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutAnnotation } from '../../../src/operator/reconcilers/rollout.ts';
import type { PikaConfig } from '../../../src/shared/crds/index.ts';
import { type OperatorEnv, SERVER_KEY, startOperatorEnv } from './operator-env.ts';

const NS = 'demo';
let env: OperatorEnv;

beforeAll(async () => {
  env = await startOperatorEnv();
  await env.tenant(NS);
}, 180_000);

afterAll(async () => {
  await env.stop();
}, 60_000);

const secret = (name: string, namespace = NS) => env.kube.get<V1Secret>({ apiVersion: 'v1', kind: 'Secret', name, namespace });
const configMap = (name: string, namespace = NS) => env.kube.get<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace });
const pikaConfig = (name: string, namespace = NS) => env.kube.get<PikaConfig>({ apiVersion: 'pika.io/v1alpha1', kind: 'PikaConfig', name, namespace });
const decoded = async (name: string, key: string, namespace = NS) => {
  const s = await secret(name, namespace);
  const raw = s?.data?.[key];
  return raw === undefined ? undefined : Buffer.from(raw, 'base64').toString('utf8');
};
const condition = async (name: string, type: string, namespace = NS) => {
  const c = (await pikaConfig(name, namespace))?.status?.conditions?.find((x) => x.type === type);
  return c ? `${c.status}/${c.reason}` : undefined;
};
const nudge = (name: string) => env.cluster.kubectl(['annotate', '--overwrite', '-n', NS, `pikaconfig/${name}`, `test.pika.io/nudge=${Date.now()}`]);

describe('PikaConfig', () => {
  it('creates the Secret of the issue example (file mode) and reports status', async () => {
    await env.putConfig('myapp/config', '{"db": {"host": "db.local", "port": 5432}, "debug": false}');
    await env.apply(`
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: app, namespace: ${NS}}
spec:
  serverRef: {name: main}
  source: {path: myapp/config, format: json}
  target: {kind: Secret, name: app-config, key: config.json}
  refreshInterval: 10m
`);
    await expect.poll(() => decoded('app-config', 'config.json'), { timeout: 10_000 }).toBe('{"db": {"host": "db.local", "port": 5432}, "debug": false}');
    const s = await secret('app-config');
    expect(s?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('pika-operator');
    expect(s?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'PikaConfig', name: 'app', controller: true });
    expect(s?.metadata?.managedFields?.some((m) => m.manager === 'pika-operator' && m.operation === 'Apply')).toBe(true);
    await expect.poll(() => condition('app', 'Ready')).toBe('True/Synced');
    const status = (await pikaConfig('app'))?.status;
    expect(status?.observedGeneration).toBe(1);
    expect(status?.dataHMAC).toMatch(/^hmac-sha256:/);
    expect(status?.lastSyncTime).toBeDefined();
    expect(status?.lastChangedKeys).toEqual(['config.json']);
    // The HMAC is keyed: it is not a plain hash of the data.
    expect(JSON.stringify(status)).not.toContain('db.local');
  });

  it('follows a change in pika within 2 s (change feed + ETag), and names only the changed keys', async () => {
    await expect.poll(() => condition('app', 'Ready')).toBe('True/Synced');
    const started = Date.now();
    await env.putConfig('myapp/config', '{"db": {"host": "db2.local"}}');
    await expect.poll(() => decoded('app-config', 'config.json'), { timeout: 2_000, interval: 20 }).toBe('{"db": {"host": "db2.local"}}');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('repairs drift at once: a deleted target is re-created, an edited key is rewritten', async () => {
    await expect.poll(() => decoded('app-config', 'config.json')).toBe('{"db": {"host": "db2.local"}}');
    expect((await env.cluster.kubectl(['delete', 'secret', '-n', NS, 'app-config'])).code).toBe(0);
    await expect.poll(() => decoded('app-config', 'config.json'), { timeout: 5_000 }).toBe('{"db": {"host": "db2.local"}}');
    const patch = JSON.stringify({ data: { 'config.json': Buffer.from('tampered').toString('base64') } });
    expect((await env.cluster.kubectl(['patch', 'secret', '-n', NS, 'app-config', '--type=merge', '-p', patch])).code).toBe(0);
    await expect.poll(() => decoded('app-config', 'config.json'), { timeout: 5_000 }).toBe('{"db": {"host": "db2.local"}}');
  });

  it('map mode into a ConfigMap: several sources merged in order, keys picked, templates rendered', async () => {
    await env.putConfig('shared/base', '{"region": "eu", "log": {"level": "info"}, "unused": 1}');
    await env.putConfig('svc/api', 'log:\n  level: debug\nport: 8080\nname: api\n', 'yaml');
    await env.apply(`
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: api, namespace: ${NS}}
spec:
  serverRef: {name: main}
  sources:
    - {path: shared/base, keys: [region, log]}
    - {path: svc/api}
  target:
    kind: ConfigMap
    name: api-env
    template:
      metadata: {labels: {team: platform}, annotations: {note: from-pika}}
      mergePolicy: Merge
      data:
        url: "https://{{ .name }}.{{ .region }}.example:{{ .port }}"
        missing: "{{ .nope.nothing }}"
`);
    await expect.poll(async () => (await configMap('api-env'))?.data, { timeout: 10_000 }).toEqual({
      region: 'eu',
      log: '{"level":"debug"}',
      port: '8080',
      name: 'api',
      url: 'https://api.eu.example:8080',
    });
    const cm = await configMap('api-env');
    expect(cm?.metadata?.labels?.team).toBe('platform');
    expect(cm?.metadata?.annotations?.note).toBe('from-pika');
    // The template that names a missing value is reported (name only) instead of rendered empty.
    await expect.poll(() => condition('api', 'Degraded')).toBe('True/MissingKeys');
    expect((await pikaConfig('api'))?.status?.conditions?.find((c) => c.type === 'Degraded')?.message).toContain('template.data.missing');
    // A key dropped from the source disappears from the target (server-side apply ownership).
    await env.putConfig('svc/api', 'log:\n  level: debug\nname: api\nport: 8080\n', 'yaml');
    await env.putConfig('shared/base', '{"region": "us", "log": {"level": "info"}}');
    await expect.poll(async () => (await configMap('api-env'))?.data?.region, { timeout: 5_000 }).toBe('us');
  });

  it('refuses to take over an object it does not manage; Merge writes its keys beside the others', async () => {
    await env.putConfig('merge/src', '{"added": "yes"}');
    await env.apply(`
apiVersion: v1
kind: Secret
metadata: {name: handmade, namespace: ${NS}}
stringData: {kept: "mine"}
---
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: grabby, namespace: ${NS}}
spec:
  serverRef: {name: main}
  source: {path: merge/src}
  target: {name: handmade}
`);
    await expect.poll(() => condition('grabby', 'Ready'), { timeout: 10_000 }).toBe('False/TargetConflict');
    expect(await decoded('handmade', 'added')).toBeUndefined();
    await env.apply(`
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: merger, namespace: ${NS}}
spec:
  serverRef: {name: main}
  source: {path: merge/src}
  target: {name: handmade, creationPolicy: Merge}
`);
    await expect.poll(() => decoded('handmade', 'added'), { timeout: 10_000 }).toBe('yes');
    expect(await decoded('handmade', 'kept')).toBe('mine');
    expect((await secret('handmade'))?.metadata?.ownerReferences).toBeUndefined();
  });

  it('deletes the target only on a confirmed 404 with deletionPolicy Delete; Retain keeps it', async () => {
    await env.putConfig('gone/a', '{"k": "v"}');
    await env.putConfig('gone/b', '{"k": "v"}');
    await env.apply(`
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: del, namespace: ${NS}}
spec:
  serverRef: {name: main}
  source: {path: gone/a}
  target: {name: del-target, deletionPolicy: Delete}
---
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: keep, namespace: ${NS}}
spec:
  serverRef: {name: main}
  source: {path: gone/b}
  target: {name: keep-target}
`);
    await expect.poll(() => decoded('del-target', 'k'), { timeout: 10_000 }).toBe('v');
    await expect.poll(() => decoded('keep-target', 'k'), { timeout: 10_000 }).toBe('v');
    expect((await env.admin.delete('/api/v1/file/gone/a')).status).toBe(200);
    expect((await env.admin.delete('/api/v1/file/gone/b')).status).toBe(200);
    await expect.poll(() => secret('del-target'), { timeout: 5_000 }).toBeUndefined();
    await expect.poll(() => condition('keep', 'Ready'), { timeout: 5_000 }).toBe('False/SourceNotFound');
    expect(await decoded('keep-target', 'k')).toBe('v');
  });

  it('while locked nothing is blanked or deleted and status says ServerLocked; unlock resyncs at once', async () => {
    await env.putConfig('locked/src', '{"k": "before"}');
    await env.apply(`
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: lockme, namespace: ${NS}}
spec:
  serverRef: {name: main}
  source: {path: locked/src}
  target: {name: lock-target, deletionPolicy: Delete}
`);
    await expect.poll(() => decoded('lock-target', 'k'), { timeout: 10_000 }).toBe('before');
    expect((await env.admin.post('/api/v1/key/lock')).status).toBeLessThan(300);
    await nudge('lockme');
    await expect.poll(() => condition('lockme', 'Synced'), { timeout: 5_000 }).toBe('False/ServerLocked');
    // A drift event while locked must not blank or delete either.
    await nudge('lockme');
    await new Promise((r) => setTimeout(r, 500));
    expect(await decoded('lock-target', 'k')).toBe('before');
    // A target deleted by hand while locked comes back with the last data the operator read.
    expect((await env.cluster.kubectl(['delete', 'secret', '-n', NS, 'lock-target'])).code).toBe(0);
    await expect.poll(() => decoded('lock-target', 'k'), { timeout: 5_000 }).toBe('before');
    expect(await condition('lockme', 'Synced')).toBe('False/ServerLocked');
    const unlocked = Date.now();
    expect((await env.admin.post('/api/v1/key/unlock', { key: SERVER_KEY })).status).toBeLessThan(300);
    await expect.poll(() => condition('lockme', 'Synced'), { timeout: 5_000, interval: 50 }).toBe('True/Synced');
    expect(Date.now() - unlocked).toBeLessThan(3_000);
    await env.putConfig('locked/src', '{"k": "after"}');
    await expect.poll(() => decoded('lock-target', 'k'), { timeout: 2_000, interval: 20 }).toBe('after');
  });

  it('a burst of 10 changes causes one rollout restart; none on first sync or after an operator restart', async () => {
    await env.putConfig('roll/src', '{"v": 0}');
    await env.apply(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: roll, namespace: ${NS}}
spec:
  serverRef: {name: main}
  source: {path: roll/src}
  target: {name: roll-target}
  rollout:
    targets: [{kind: Deployment, name: web}]
    debounce: 1500ms
`);
    await expect.poll(() => condition('roll', 'Ready'), { timeout: 10_000 }).toBe('True/Synced');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await generation()).toBe(1);

    const restartsBefore = await restartCount();
    for (let i = 1; i <= 10; i++) await env.putConfig('roll/src', `{"v": ${i}}`);
    await expect.poll(() => decoded('roll-target', 'v'), { timeout: 3_000 }).toBe('10');
    await expect.poll(generation, { timeout: 6_000 }).toBe(2);
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await generation()).toBe(2);
    expect(await stamp()).toBe((await pikaConfig('roll'))?.status?.dataHMAC);
    expect((await restartCount()) - restartsBefore).toBe(1);

    // A restarted operator re-syncs everything but restarts nothing.
    await env.stopOperator();
    await env.startOperator();
    // Every PikaConfig is reconciled once by the new operator (a re-check that changes nothing writes no status).
    const configs = (await env.cluster.kubectl(['get', 'pikaconfigs', '-A', '--no-headers'])).stdout.trim().split('\n').length;
    await expect.poll(() => reconciles('PikaConfig'), { timeout: 10_000 }).toBeGreaterThanOrEqual(configs);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await generation()).toBe(2);
  });

  it('suspend stops syncing; the target keeps its data', async () => {
    await env.putConfig('susp/src', '{"k": "one"}');
    await env.apply(`
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: susp, namespace: ${NS}}
spec:
  serverRef: {name: main}
  source: {path: susp/src}
  target: {name: susp-target}
`);
    await expect.poll(() => decoded('susp-target', 'k'), { timeout: 10_000 }).toBe('one');
    expect((await env.cluster.kubectl(['patch', 'pikaconfig', '-n', NS, 'susp', '--type=merge', '-p', '{"spec":{"suspend":true}}'])).code).toBe(0);
    await expect.poll(() => condition('susp', 'Synced'), { timeout: 5_000 }).toBe('False/Suspended');
    await env.putConfig('susp/src', '{"k": "two"}');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await decoded('susp-target', 'k')).toBe('one');
    expect((await env.cluster.kubectl(['patch', 'pikaconfig', '-n', NS, 'susp', '--type=merge', '-p', '{"spec":{"suspend":false}}'])).code).toBe(0);
    await expect.poll(() => decoded('susp-target', 'k'), { timeout: 5_000 }).toBe('two');
  });

  it('multi-tenancy: no PikaServer of another namespace, no ClusterPikaServer that does not allow the namespace', async () => {
    await env.putConfig('tenant/src', '{"k": "v"}');
    await env.apply(`
apiVersion: v1
kind: Namespace
metadata: {name: intruder}
---
apiVersion: pika.io/v1alpha1
kind: ClusterPikaServer
metadata: {name: shared}
spec:
  url: "${env.pikaUrl}"
  tokenSecretRef: {namespace: ${NS}, name: pika-token, key: token}
  allowedNamespaces: [${NS}]
---
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: borrow, namespace: intruder}
spec:
  serverRef: {name: main}
  source: {path: tenant/src}
  target: {name: stolen}
---
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: deputy, namespace: intruder}
spec:
  serverRef: {kind: ClusterPikaServer, name: shared}
  source: {path: tenant/src}
  target: {name: stolen2}
---
apiVersion: pika.io/v1alpha1
kind: PikaConfig
metadata: {name: allowed, namespace: ${NS}}
spec:
  serverRef: {kind: ClusterPikaServer, name: shared}
  source: {path: tenant/src}
  target: {name: via-cluster-server}
`);
    await expect.poll(() => decoded('via-cluster-server', 'k'), { timeout: 10_000 }).toBe('v');
    await expect.poll(() => condition('borrow', 'Ready', 'intruder'), { timeout: 10_000 }).toBe('False/ServerNotFound');
    await expect.poll(() => condition('deputy', 'Ready', 'intruder'), { timeout: 10_000 }).toBe('False/NamespaceNotAllowed');
    expect(await secret('stolen', 'intruder')).toBeUndefined();
    expect(await secret('stolen2', 'intruder')).toBeUndefined();
  });

  it('a PikaToken through the wired operator: a working, labelled token in a Secret', async () => {
    await env.putConfig('tok/app', '{"k": "v"}');
    await env.apply(`
apiVersion: pika.io/v1alpha1
kind: PikaToken
metadata: {name: eso, namespace: ${NS}}
spec:
  serverRef: {name: main}
  scopes: [{path: "tok/**", operations: [read]}]
  ttl: 1h
  target: {name: eso-token, labels: {external-secrets.io/type: webhook}}
`);
    await expect.poll(() => decoded('eso-token', 'token'), { timeout: 10_000 }).toMatch(/^pika_/);
    const raw = (await decoded('eso-token', 'token')) ?? '';
    expect((await secret('eso-token'))?.metadata?.labels?.['external-secrets.io/type']).toBe('webhook');
    const read = await fetch(`${env.pikaUrl}/data/tok/app`, { headers: { authorization: `Bearer ${raw}` } });
    expect(read.status).toBe(200);
    const outside = await fetch(`${env.pikaUrl}/data/myapp/config`, { headers: { authorization: `Bearer ${raw}` } });
    expect(outside.status).toBe(403);
  });

  it('PikaServer status: Ready and Unlocked', async () => {
    const server = await env.kube.get<{ status?: { conditions?: { type: string; status: string }[]; serverVersion?: string } } & { apiVersion: string; kind: string }>({ apiVersion: 'pika.io/v1alpha1', kind: 'PikaServer', name: 'main', namespace: NS });
    expect(server?.status?.conditions?.find((c) => c.type === 'Ready'), JSON.stringify(server?.status)).toMatchObject({ status: 'True' });
    expect(server?.status?.conditions?.find((c) => c.type === 'Unlocked')?.status).toBe('True');
    expect(server?.status?.serverVersion).toMatch(/\d+\.\d+/);
  });

  it('exposes /healthz, /readyz and Prometheus metrics', async () => {
    const address = env.operator.healthAddress() as { port: number };
    const base = `http://127.0.0.1:${address.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/pika_operator_syncs_total\{kind="PikaConfig",outcome="requeue"\} [1-9]/);
    expect(metrics).toMatch(/pika_operator_pika_api_calls_total\{route="data",status="200"\} [1-9]/);
    expect(metrics).toMatch(/pika_operator_reconcile_duration_seconds_count\{kind="PikaConfig"\} [1-9]/);
    expect(metrics).toContain('pika_operator_leader 1');
  });
});

const deployment = () => env.kube.get<V1Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: NS });
const generation = async () => (await deployment())?.metadata?.generation;
const stamp = async () => (await deployment())?.spec?.template.metadata?.annotations?.[rolloutAnnotation('roll')];

/** Reconciles the running operator finished for a kind, from its metrics registry. */
async function reconciles(kind: string): Promise<number> {
  const metrics = await env.operator.metrics.registry.getSingleMetricAsString('pika_operator_syncs_total');
  return [...metrics.matchAll(new RegExp(`pika_operator_syncs_total\\{kind="${kind}",outcome="\\w+"\\} (\\d+)`, 'g'))].reduce((n, m) => n + Number(m[1]), 0);
}

async function restartCount(): Promise<number> {
  const metrics = await env.operator.metrics.registry.getSingleMetricAsString('pika_operator_rollout_restarts_total');
  const match = /pika_operator_rollout_restarts_total\{kind="Deployment"\} (\d+)/.exec(metrics);
  return match ? Number(match[1]) : 0;
}
