/**
 * The PikaToken reconciler against a real kube-apiserver (CRDs from crds/) and a real pika server
 * process (the built dist/, started like the e2e tier): minted tokens are checked by using them on
 * pika, revoked ones by pika rejecting them. The reconciler is driven directly, one reconcile per
 * step: its object caches are snapshots read from the API server just before each call (what an
 * informer would hold once it caught up), and time moves through its `now`.
 */
import { CustomObjectsApi, KubeConfig, type KubernetesObject, type V1Secret } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEventRecorder } from '../../../src/operator/kube/events.ts';
import { createKube, type Kube } from '../../../src/operator/kube/kube.ts';
import { createPikaTokenReconciler } from '../../../src/operator/reconcilers/pika-token-reconciler.ts';
import { FINALIZER, TOKEN_OWNER_ANNOTATION } from '../../../src/operator/reconcilers/token-plan.ts';
import { TerminalError } from '../../../src/operator/runtime/controller.ts';
import { createServerConnections, ResolveError, type ServerConnections } from '../../../src/operator/servers/server-connections.ts';
import type { ClusterPikaServer, PikaServer, PikaToken, PikaTokenSpec } from '../../../src/shared/crds/index.ts';
import { getData, register, type Session } from '../../e2e/support/http.ts';
import { type PikaProcess, startPika, stopAllPika } from '../../e2e/support/server-process.ts';
import { type Cluster, startCluster } from '../cluster.ts';

const TEAM_A = 'team-a';
const TEAM_B = 'team-b';
const SYSTEM = 'pika-system';
const SERVER_KEY = 'pika-token k8s suite server key';
const MINUTE = 60_000;

let cluster: Cluster;
let pika: PikaProcess;
let admin: Session;
let kube: Kube;
let customs: CustomObjectsApi;
let connections: ServerConnections;
let reconciler: ReturnType<typeof createPikaTokenReconciler>;
/** Added to the reconciler's clock (the pika server keeps real time). */
let clockOffset = 0;

const cache = { tokens: new Map<string, PikaToken>(), servers: new Map<string, PikaServer>(), clusterServers: new Map<string, ClusterPikaServer>() };

async function list<T extends { metadata: { name?: string; namespace?: string } }>(plural: string): Promise<Map<string, T>> {
  const answer = (await customs.listClusterCustomObject({ group: 'pika.io', version: 'v1alpha1', plural })) as { items: T[] };
  return new Map(answer.items.map((o) => [o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name ?? ''}` : (o.metadata.name ?? ''), o]));
}

/** Reconciles after bringing the caches up to date, as the informers would be by then. */
async function reconcile(key: string) {
  cache.tokens = await list<PikaToken>('pikatokens');
  cache.servers = await list<PikaServer>('pikaservers');
  cache.clusterServers = await list<ClusterPikaServer>('clusterpikaservers');
  return reconciler.reconcile(key);
}

const tokenRef = (namespace: string, name: string) => ({ apiVersion: 'pika.io/v1alpha1', kind: 'PikaToken', namespace, name });
const secretRef = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'Secret', namespace, name });

async function applyToken(namespace: string, name: string, spec: Partial<PikaTokenSpec> = {}): Promise<void> {
  const body: PikaToken = {
    apiVersion: 'pika.io/v1alpha1',
    kind: 'PikaToken',
    metadata: { name, namespace },
    spec: { serverRef: { name: 'main' }, scopes: [{ path: 'myapp/**', operations: ['read'] }], ttl: '1h', target: { name: `${name}-token`, labels: { 'external-secrets.io/type': 'webhook' } }, ...spec },
  };
  await kube.apply(body as unknown as KubernetesObject, 'pika-token-test');
}

const readToken = (namespace: string, name: string) => kube.get<PikaToken & KubernetesObject>(tokenRef(namespace, name));
const readSecret = (namespace: string, name: string) => kube.get<V1Secret>(secretRef(namespace, name));
const rawOf = (secret: V1Secret | undefined, key = 'token') => Buffer.from(secret?.data?.[key] ?? '', 'base64').toString('utf8');
const ready = (token: PikaToken | undefined) => token?.status?.conditions?.find((c) => c.type === 'Ready');
/** What pika answers a read of myapp/config with this token: 200 works, 401 unknown (revoked). */
const useToken = async (raw: string) => (await getData(pika.baseUrl, raw, 'myapp/config')).status;

/** The Secret holds a token pika accepts, within its scopes only, labelled for ESO and owned by the PikaToken; returns the token. */
async function expectWorkingSecret(namespace: string, name: string): Promise<string> {
  const token = await readToken(namespace, name);
  const secret = await readSecret(namespace, `${name}-token`);
  const raw = rawOf(secret);
  expect(raw).toMatch(/^pika_[0-9a-f]{64}$/);
  expect(await useToken(raw)).toBe(200);
  expect((await getData(pika.baseUrl, raw, 'other/config')).status).toBe(403);
  expect(secret?.metadata?.labels).toMatchObject({ 'external-secrets.io/type': 'webhook', 'app.kubernetes.io/managed-by': 'pika-operator' });
  expect(secret?.metadata?.annotations?.[TOKEN_OWNER_ANNOTATION]).toBe(name);
  expect(secret?.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'PikaToken', name, uid: token?.metadata.uid, controller: true })]);
  return raw;
}

/** Status names the token (never holds it) and its expiry, one ttl (1h) after the mint; pika agrees. */
async function expectMintedStatus(namespace: string, name: string, mintedAfter: number, raw: string): Promise<void> {
  const token = await readToken(namespace, name);
  expect(token?.metadata.finalizers).toEqual([FINALIZER]);
  const expiresAt = Date.parse(token?.status?.expiresAt ?? '');
  expect(expiresAt).toBeGreaterThanOrEqual(mintedAfter + 60 * MINUTE - 1_000);
  expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60 * MINUTE + 1_000);
  expect(token?.status).toMatchObject({ observedGeneration: 1, tokenId: expect.any(String), lastRenewTime: expect.any(String) });
  expect(ready(token)).toMatchObject({ status: 'True', reason: 'Minted' });
  expect(JSON.stringify(token?.status)).not.toContain(raw);
  const onServer = (await admin.request('GET', '/api/v1/tokens')).json<{ id: string; name: string; expires_at: string }[]>().find((t) => t.id === token?.status?.tokenId);
  expect(onServer).toMatchObject({ name: `k8s/${namespace}/${name}`, expires_at: token?.status?.expiresAt });
}

async function eventsOf(namespace: string, name: string): Promise<{ type: string; reason: string; message: string }[]> {
  const listed = await cluster.kubectl(['get', 'events', '-n', namespace, '-o', 'json']);
  return (JSON.parse(listed.stdout) as { items: { type: string; reason: string; message: string; involvedObject: { name: string } }[] }).items.filter((e) => e.involvedObject.name === name);
}

async function kubectlOk(args: string[], input?: string): Promise<void> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
}

beforeAll(async () => {
  [cluster, pika] = await Promise.all([startCluster(), startPika()]);
  admin = await register(pika.baseUrl);
  expect(await admin.save('myapp/config', { format: 'json', content: '{"a":1}' })).toBe(1);
  // The operator's own token: it may mint tokens, and holds read on everything (the bound of what it mints).
  const minted = await admin.request('POST', '/api/v1/tokens', { name: 'operator', scopes: [{ path: '**', operations: ['read'] }], capabilities: ['tokens.manage'] });
  expect(minted.status).toBe(201);
  const operatorToken = minted.json<{ raw_key: string }>().raw_key;

  await kubectlOk(['apply', '-f', 'crds/']);
  await kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  for (const ns of [TEAM_A, TEAM_B, SYSTEM]) await kubectlOk(['create', 'namespace', ns]);
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  kube = createKube(kc);
  customs = kc.makeApiClient(CustomObjectsApi);
  for (const ns of [TEAM_A, SYSTEM]) await kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pika-operator-token', namespace: ns }, stringData: { token: operatorToken } } as KubernetesObject, 'pika-token-test');
  const server: PikaServer = { apiVersion: 'pika.io/v1alpha1', kind: 'PikaServer', metadata: { name: 'main', namespace: TEAM_A }, spec: { url: pika.baseUrl, tokenSecretRef: { name: 'pika-operator-token' } } };
  const shared: ClusterPikaServer = {
    apiVersion: 'pika.io/v1alpha1',
    kind: 'ClusterPikaServer',
    metadata: { name: 'shared' },
    spec: { url: pika.baseUrl, tokenSecretRef: { namespace: SYSTEM, name: 'pika-operator-token' }, allowedNamespaces: [TEAM_A] },
  };
  await kube.apply(server as unknown as KubernetesObject, 'pika-token-test');
  await kube.apply(shared as unknown as KubernetesObject, 'pika-token-test');

  connections = createServerConnections({
    servers: { get: (name, namespace) => cache.servers.get(`${namespace ?? ''}/${name}`) },
    clusterServers: { get: (name) => cache.clusterServers.get(name) },
    kube,
    onEvent: () => undefined,
  });
  reconciler = createPikaTokenReconciler({
    tokens: { get: (name, namespace) => cache.tokens.get(`${namespace ?? ''}/${name}`) },
    connections,
    kube,
    events: createEventRecorder(kube),
    now: () => Date.now() + clockOffset,
  });
}, 300_000);

afterEach(() => {
  clockOffset = 0;
});

afterAll(async () => {
  await connections.stop();
  await stopAllPika();
  await cluster.stop();
});

describe('PikaToken on a real API server and a real pika', () => {
  it('mints a working, scoped token into an owned Secret labelled for ESO, with the expiry in status', async () => {
    await applyToken(TEAM_A, 'eso');
    const before = Date.now();
    const result = await reconcile(`${TEAM_A}/eso`);
    // Renewal at 2/3 of the 1h ttl.
    expect(result?.requeueAfterMs).toBeGreaterThan(39 * MINUTE);
    expect(result?.requeueAfterMs).toBeLessThanOrEqual(40 * MINUTE);

    const raw = await expectWorkingSecret(TEAM_A, 'eso');
    await expectMintedStatus(TEAM_A, 'eso', before, raw);
    expect((await eventsOf(TEAM_A, 'eso')).map((e) => e.reason)).toContain('Minted');

    // Reconciling again before the renewal changes nothing.
    await reconcile(`${TEAM_A}/eso`);
    expect(rawOf(await readSecret(TEAM_A, 'eso-token'))).toBe(raw);
  });

  it('renews when due: the Secret gets a new token first, then the old one is revoked', async () => {
    await applyToken(TEAM_A, 'renew', { ttl: '1h', renewBefore: '10m' });
    await reconcile(`${TEAM_A}/renew`);
    const first = await readToken(TEAM_A, 'renew');
    const oldRaw = rawOf(await readSecret(TEAM_A, 'renew-token'));

    clockOffset = 49 * MINUTE; // before expiresAt - renewBefore
    await reconcile(`${TEAM_A}/renew`);
    expect(rawOf(await readSecret(TEAM_A, 'renew-token'))).toBe(oldRaw);

    clockOffset = 51 * MINUTE;
    await reconcile(`${TEAM_A}/renew`);
    const renewed = await readToken(TEAM_A, 'renew');
    const newRaw = rawOf(await readSecret(TEAM_A, 'renew-token'));
    expect(newRaw).not.toBe(oldRaw);
    expect(renewed?.status?.tokenId).not.toBe(first?.status?.tokenId);
    expect(Date.parse(renewed?.status?.expiresAt ?? '')).toBeGreaterThan(Date.parse(first?.status?.expiresAt ?? '') + 50 * MINUTE);
    expect(ready(renewed)).toMatchObject({ status: 'True', reason: 'Renewed' });
    expect(await useToken(newRaw)).toBe(200);
    expect(await useToken(oldRaw)).toBe(401);
    expect((await eventsOf(TEAM_A, 'renew')).map((e) => e.reason)).toEqual(expect.arrayContaining(['Renewed', 'Revoked']));
  });

  it('mints a fresh token when the Secret is deleted', async () => {
    await applyToken(TEAM_A, 'lost');
    await reconcile(`${TEAM_A}/lost`);
    const oldRaw = rawOf(await readSecret(TEAM_A, 'lost-token'));
    expect(await kube.remove(secretRef(TEAM_A, 'lost-token'))).toBe(true);
    await reconcile(`${TEAM_A}/lost`);
    const newRaw = rawOf(await readSecret(TEAM_A, 'lost-token'));
    expect(newRaw).toMatch(/^pika_/);
    expect(newRaw).not.toBe(oldRaw);
    expect(await useToken(newRaw)).toBe(200);
    expect(await useToken(oldRaw)).toBe(401);
  });

  it('revokes the token when the PikaToken is deleted, then lets the object go', async () => {
    await applyToken(TEAM_A, 'gone');
    await reconcile(`${TEAM_A}/gone`);
    const raw = rawOf(await readSecret(TEAM_A, 'gone-token'));
    expect(await kube.remove(tokenRef(TEAM_A, 'gone'))).toBe(true);
    expect((await readToken(TEAM_A, 'gone'))?.metadata.deletionTimestamp).toBeTruthy(); // held by the finalizer
    expect(await useToken(raw)).toBe(200);
    await reconcile(`${TEAM_A}/gone`);
    expect(await readToken(TEAM_A, 'gone')).toBeUndefined();
    expect(await useToken(raw)).toBe(401);
  });

  it('refuses to overwrite a Secret that is not its own', async () => {
    await kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'taken-token', namespace: TEAM_A }, stringData: { token: 'someone else' } } as KubernetesObject, 'pika-token-test');
    await applyToken(TEAM_A, 'taken');
    await expect(reconcile(`${TEAM_A}/taken`)).rejects.toMatchObject({ name: 'TerminalError', reason: 'TargetConflict' });
    expect(rawOf(await readSecret(TEAM_A, 'taken-token'))).toBe('someone else');
    expect(ready(await readToken(TEAM_A, 'taken'))).toMatchObject({ status: 'False', reason: 'TargetConflict' });
  });

  it('reports Forbidden when the token would hold a capability the operator token lacks', async () => {
    await applyToken(TEAM_A, 'greedy', { capabilities: ['users.manage'] });
    await expect(reconcile(`${TEAM_A}/greedy`)).rejects.toThrow(/Forbidden/);
    expect(ready(await readToken(TEAM_A, 'greedy'))).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(await readSecret(TEAM_A, 'greedy-token')).toBeUndefined();
  });

  it('does not let another namespace use a namespaced PikaServer', async () => {
    await applyToken(TEAM_B, 'borrow', { serverRef: { name: 'main' } });
    const err = await reconcile(`${TEAM_B}/borrow`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResolveError);
    const token = await readToken(TEAM_B, 'borrow');
    expect(ready(token)).toMatchObject({ status: 'False', reason: 'ServerNotFound' });
    expect(token?.metadata.finalizers).toBeUndefined();
    expect(await readSecret(TEAM_B, 'borrow-token')).toBeUndefined();
  });

  it('uses a ClusterPikaServer only from the namespaces it allows', async () => {
    await applyToken(TEAM_B, 'shared', { serverRef: { kind: 'ClusterPikaServer', name: 'shared' } });
    const err = await reconcile(`${TEAM_B}/shared`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerminalError);
    expect(ready(await readToken(TEAM_B, 'shared'))).toMatchObject({ status: 'False', reason: 'NamespaceNotAllowed' });
    expect(await readSecret(TEAM_B, 'shared-token')).toBeUndefined();

    await applyToken(TEAM_A, 'shared', { serverRef: { kind: 'ClusterPikaServer', name: 'shared' } });
    await reconcile(`${TEAM_A}/shared`);
    expect(await useToken(rawOf(await readSecret(TEAM_A, 'shared-token')))).toBe(200);
  });

  // Last: it turns on encryption at rest on the shared pika server (left unlocked at the end).
  it('keeps the Secret and the finalizer while the server is locked, and catches up on unlock', async () => {
    await applyToken(TEAM_A, 'locked');
    await reconcile(`${TEAM_A}/locked`);
    const before = await readSecret(TEAM_A, 'locked-token');
    const raw = rawOf(before);
    expect((await admin.request('POST', '/api/v1/key/initialize', { key: SERVER_KEY })).status).toBe(200);
    expect((await admin.request('POST', '/api/v1/key/lock')).status).toBe(200);
    try {
      clockOffset = 45 * MINUTE; // renewal due
      expect(await reconcile(`${TEAM_A}/locked`)).toEqual({ requeueAfterMs: 30_000 });
      const after = await readSecret(TEAM_A, 'locked-token');
      expect(rawOf(after)).toBe(raw);
      expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
      const token = await readToken(TEAM_A, 'locked');
      expect(ready(token)).toMatchObject({ status: 'True', reason: 'ServerLocked' });
      expect((await eventsOf(TEAM_A, 'locked')).map((e) => e.reason)).toContain('ServerLocked');

      // Deleting while locked: nothing can be revoked, so the finalizer holds the object.
      await kube.remove(tokenRef(TEAM_A, 'locked'));
      expect(await reconcile(`${TEAM_A}/locked`)).toEqual({ requeueAfterMs: 30_000 });
      expect((await readToken(TEAM_A, 'locked'))?.metadata.finalizers).toEqual([FINALIZER]);
    } finally {
      expect((await admin.request('POST', '/api/v1/key/unlock', { key: SERVER_KEY })).status).toBe(200);
    }
    expect(await useToken(raw)).toBe(200);
    await reconcile(`${TEAM_A}/locked`);
    expect(await readToken(TEAM_A, 'locked')).toBeUndefined();
    expect(await useToken(raw)).toBe(401);
  });
});
