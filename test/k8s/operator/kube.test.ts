/**
 * The operator's Kubernetes wrapper against the real API server: server-side apply under our
 * field manager, reads and deletes with 404 as a normal answer, the /status subresource, and
 * deduplicated Events.
 */
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventRecorder } from '../../../src/operator/kube/events.ts';
import { createKube, FIELD_MANAGER, type Kube } from '../../../src/operator/kube/kube.ts';
import { type Cluster, startCluster } from '../cluster.ts';

const NS = 'kube-wrapper';
let cluster: Cluster;
let kube: Kube;

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: gadgets.test.pika.dev }
spec:
  group: test.pika.dev
  scope: Namespaced
  names: { plural: gadgets, singular: gadget, kind: Gadget }
  versions:
    - name: v1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, properties: { size: { type: integer } } }
            status: { type: object, properties: { phase: { type: string } } }
`;

beforeAll(async () => {
  cluster = await startCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  kube = createKube(kc);
  expect((await cluster.kubectl(['create', 'namespace', NS])).code).toBe(0);
  expect((await cluster.kubectl(['apply', '-f', '-'], { input: CRD })).code).toBe(0);
  expect((await cluster.kubectl(['wait', '--for=condition=Established', 'crd/gadgets.test.pika.dev', '--timeout=30s'])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await cluster.stop();
});

describe('kube wrapper', () => {
  it('applies a Secret server-side under the pika field manager, re-applies it, and deletes it', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app', namespace: NS, labels: { a: '1' } }, stringData: { 'config.json': '{"a":1}' } };
    await kube.apply(secret);
    const read = await kube.get<KubernetesObject & { data: Record<string, string>; metadata: { managedFields: { manager: string; operation: string }[] } }>({ apiVersion: 'v1', kind: 'Secret', name: 'app', namespace: NS });
    expect(Buffer.from(read?.data['config.json'] ?? '', 'base64').toString()).toBe('{"a":1}');
    expect(read?.metadata.managedFields.some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply')).toBe(true);
    await kube.apply({ ...secret, stringData: { 'config.json': '{"a":2}' } });
    const again = await kube.get<KubernetesObject & { data: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', name: 'app', namespace: NS });
    expect(Buffer.from(again?.data['config.json'] ?? '', 'base64').toString()).toBe('{"a":2}');
    expect(await kube.remove({ apiVersion: 'v1', kind: 'Secret', name: 'app', namespace: NS })).toBe(true);
    expect(await kube.remove({ apiVersion: 'v1', kind: 'Secret', name: 'app', namespace: NS })).toBe(false);
    expect(await kube.get({ apiVersion: 'v1', kind: 'Secret', name: 'app', namespace: NS })).toBeUndefined();
  });

  it('patches the status subresource of a custom resource', async () => {
    await kube.apply({ apiVersion: 'test.pika.dev/v1', kind: 'Gadget', metadata: { name: 'g', namespace: NS }, spec: { size: 1 } } as KubernetesObject);
    await kube.patchStatus({ apiVersion: 'test.pika.dev/v1', kind: 'Gadget', plural: 'gadgets', name: 'g', namespace: NS }, { phase: 'Ready' });
    const got = await kube.get<KubernetesObject & { status?: { phase: string } }>({ apiVersion: 'test.pika.dev/v1', kind: 'Gadget', name: 'g', namespace: NS });
    expect(got?.status?.phase).toBe('Ready');
  });

  it('records an Event once and counts repeats instead of creating more', async () => {
    const recorder = createEventRecorder(kube);
    const involved = { apiVersion: 'test.pika.dev/v1', kind: 'Gadget', name: 'g', namespace: NS };
    for (let i = 0; i < 5; i++) await recorder.emit(involved, 'Warning', 'SyncFailed', 'pika unreachable');
    await recorder.emit(involved, 'Normal', 'Synced', 'wrote 3 keys');
    const listed = await cluster.kubectl(['get', 'events', '-n', NS, '-o', 'json']);
    const events = (JSON.parse(listed.stdout) as { items: { reason: string; count: number }[] }).items;
    expect(events.filter((e) => e.reason === 'SyncFailed')).toEqual([expect.objectContaining({ count: 5 })]);
    expect(events.filter((e) => e.reason === 'Synced')).toHaveLength(1);
  });
});
