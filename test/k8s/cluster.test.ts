/**
 * Smoke test of the real API server harness (test/k8s/cluster.sh): the things the operator's
 * tests will lean on: namespaces, a CRD and its custom resources, a watch, server-side apply of a
 * Secret, and RBAC denying an identity without bindings.
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from './cluster.ts';

const NS = 'pika-smoke';
const GROUP = 'test.pika.dev';

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${GROUP}
spec:
  group: ${GROUP}
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
    - name: v1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: { type: integer, minimum: 1 }
                colour: { type: string }
            status:
              type: object
              properties:
                ready: { type: boolean }
`;

const widget = (size: number): string => `
apiVersion: ${GROUP}/v1
kind: Widget
metadata: { name: w1, namespace: ${NS} }
spec: { size: ${size}, colour: teal }
`;

interface WatchEvent {
  type: string;
  object: { metadata: { name: string; resourceVersion: string }; spec?: { size?: number } };
}

/** A raw watch (newline-delimited JSON over HTTPS), the way a controller's informer does it. */
function watch(cluster: Cluster, path: string): { events: WatchEvent[]; next(pred: (e: WatchEvent) => boolean): Promise<WatchEvent>; close(): void } {
  const events: WatchEvent[] = [];
  const waiters: { pred: (e: WatchEvent) => boolean; resolve: (e: WatchEvent) => void }[] = [];
  const url = new URL(path, cluster.server);
  const req = request(url, { ca: cluster.ca, headers: { authorization: `Bearer ${cluster.adminToken}` } }, (res) => {
    let buf = '';
    res.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const event = JSON.parse(buf.slice(0, nl)) as WatchEvent;
        buf = buf.slice(nl + 1);
        events.push(event);
        for (const w of waiters.filter((x) => x.pred(event))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    });
  });
  req.on('error', () => undefined); // close() aborts the request
  req.end();
  return {
    events,
    next(pred) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    close: () => req.destroy(),
  };
}

describe('real kube-apiserver + etcd (test/k8s/cluster.sh)', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster();
  });

  afterAll(async () => {
    await (cluster as Cluster | undefined)?.stop(); // undefined when beforeAll failed
  });

  it('serves the version it was built from, to the kubectl of the same version', async () => {
    const r = await cluster.kubectl(['version', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(v.clientVersion.gitVersion).toBe(v.serverVersion.gitVersion);
  });

  it('creates a namespace', async () => {
    const r = await cluster.kubectl(['create', 'namespace', NS]);
    expect(r.code, r.stderr).toBe(0);
    const get = await cluster.kubectl(['get', 'namespace', NS, '-o', 'jsonpath={.status.phase}']);
    expect(get.stdout).toBe('Active');
  });

  it('applies a CRD, then a custom resource that a watch sees added and modified', async () => {
    const crd = await cluster.kubectl(['apply', '-f', '-'], { input: CRD });
    expect(crd.code, crd.stderr).toBe(0);
    const est = await cluster.kubectl(['wait', '--for=condition=Established', `crd/widgets.${GROUP}`, '--timeout=60s']);
    expect(est.code, est.stderr).toBe(0);

    // Schema validation is the real one: size must be >= 1.
    const bad = await cluster.kubectl(['apply', '-f', '-'], { input: widget(0) });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.size/);

    const w = watch(cluster, `/apis/${GROUP}/v1/namespaces/${NS}/widgets?watch=1&allowWatchBookmarks=true`);
    try {
      const created = await cluster.kubectl(['apply', '-f', '-'], { input: widget(3) });
      expect(created.code, created.stderr).toBe(0);
      const added = await w.next((e) => e.type === 'ADDED' && e.object.metadata.name === 'w1');
      expect(added.object.spec?.size).toBe(3);

      const patched = await cluster.kubectl(['-n', NS, 'patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":5}}']);
      expect(patched.code, patched.stderr).toBe(0);
      const modified = await w.next((e) => e.type === 'MODIFIED' && e.object.spec?.size === 5);
      expect(Number(modified.object.metadata.resourceVersion)).toBeGreaterThan(Number(added.object.metadata.resourceVersion));

      const status = await cluster.kubectl(['-n', NS, 'patch', 'widget', 'w1', '--subresource=status', '--type=merge', '-p', '{"status":{"ready":true}}']);
      expect(status.code, status.stderr).toBe(0);
      const del = await cluster.kubectl(['-n', NS, 'delete', 'widget', 'w1']);
      expect(del.code, del.stderr).toBe(0);
      await w.next((e) => e.type === 'DELETED' && e.object.metadata.name === 'w1');
    } finally {
      w.close();
    }
  });

  it('creates a Secret with server-side apply and records the field manager', async () => {
    const secret = `
apiVersion: v1
kind: Secret
metadata: { name: db, namespace: ${NS}, labels: { app.kubernetes.io/managed-by: pika } }
type: Opaque
stringData: { password: s3cret }
`;
    const r = await cluster.kubectl(['apply', '--server-side', '--field-manager=pika-operator', '-f', '-'], { input: secret });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/serverside-applied/);
    const get = await cluster.kubectl(['-n', NS, 'get', 'secret', 'db', '-o', 'json', '--show-managed-fields']);
    expect(get.code, get.stderr).toBe(0);
    const s = JSON.parse(get.stdout);
    expect(Buffer.from(s.data.password, 'base64').toString()).toBe('s3cret');
    expect(s.metadata.managedFields).toContainEqual(expect.objectContaining({ manager: 'pika-operator', operation: 'Apply' }));

    // A second manager claiming the same field conflicts unless it forces.
    const other = secret.replace('s3cret', 'other');
    const conflict = await cluster.kubectl(['apply', '--server-side', '--field-manager=someone-else', '-f', '-'], { input: other });
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toMatch(/conflict/i);
  });

  it('RBAC denies an identity with no bindings, and allows it once bound', async () => {
    const denied = await cluster.kubectl(['-n', NS, 'get', 'secrets'], { context: 'unprivileged' });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden.*pika-unprivileged/i);
    const canI = await cluster.kubectl(['auth', 'can-i', 'create', 'secrets', '-n', NS], { context: 'unprivileged' });
    expect(canI.stdout.trim()).toBe('no');
    const adminCanI = await cluster.kubectl(['auth', 'can-i', '*', '*', '--all-namespaces']);
    expect(adminCanI.stdout.trim()).toBe('yes');

    const role = await cluster.kubectl(['-n', NS, 'create', 'role', 'secret-reader', '--verb=get,list', '--resource=secrets']);
    expect(role.code, role.stderr).toBe(0);
    const binding = await cluster.kubectl(['-n', NS, 'create', 'rolebinding', 'secret-reader', '--role=secret-reader', '--user=pika-unprivileged']);
    expect(binding.code, binding.stderr).toBe(0);
    const allowed = await cluster.kubectl(['-n', NS, 'get', 'secret', 'db', '-o', 'name'], { context: 'unprivileged' });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout.trim()).toBe('secret/db');
    // Still only what the Role grants.
    const write = await cluster.kubectl(['-n', NS, 'delete', 'secret', 'db'], { context: 'unprivileged' });
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/forbidden/i);
  });
});
