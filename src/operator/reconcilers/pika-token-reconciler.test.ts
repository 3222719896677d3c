/**
 * PikaToken reconciler logic with in-memory fakes of the Kubernetes wrapper and the pika client
 * (labelled fakes: this is a unit test of decisions and ordering; the real API server and a real
 * pika server are in test/k8s/operator/pika-token.test.ts).
 */
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ObjectMeta, PikaToken, PikaTokenSpec } from '../../shared/crds/index.ts';
import type { Kube, ObjectRef } from '../kube/kube.ts';
import { PikaError } from '../pika/pika-client.ts';
import { TerminalError } from '../runtime/controller.ts';
import { ResolveError } from '../servers/server-connections.ts';
import { createPikaTokenReconciler } from './pika-token-reconciler.ts';
import { FINALIZER, TOKEN_ID_ANNOTATION, TOKEN_OWNER_ANNOTATION } from './token-plan.ts';

const NS = 'demo';
const HOUR = 3_600_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

const spec = (extra: Partial<PikaTokenSpec> = {}): PikaTokenSpec => ({
  serverRef: { kind: 'PikaServer', name: 'main' },
  scopes: [{ path: 'myapp/**', operations: ['read'] }],
  ttl: '24h',
  target: { name: 'eso-token', key: 'token', labels: { 'external-secrets.io/type': 'webhook' } },
  ...extra,
});

const pikaToken = (extra: Partial<PikaTokenSpec> = {}): PikaToken => ({
  apiVersion: 'pika.io/v1alpha1',
  kind: 'PikaToken',
  metadata: { name: 'eso', namespace: NS, uid: 'uid-1', generation: 1, resourceVersion: '1' },
  spec: spec(extra),
});

// ------------------------------------------------------------------------------------------------
// Fakes

/** An in-memory fake of the Kube wrapper: objects by kind/ns/name, resourceVersions, an ordered log. */
/** What the fake stores: timestamps stay strings, as on the wire. */
interface Stored {
  kind?: string | undefined;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

function fakeKube(log: string[]) {
  const objects = new Map<string, Stored>();
  let rv = 10;
  const keyOf = (ref: { kind?: string | undefined; namespace?: string | undefined; name?: string | undefined }) => `${ref.kind ?? ''}/${ref.namespace ?? ''}/${ref.name ?? ''}`;
  const clone = <T>(v: T): T => structuredClone(v);
  const bump = (obj: Stored) => {
    obj.metadata.resourceVersion = String(++rv);
  };
  const kube: Kube = {
    async apply<T extends KubernetesObject>(obj: T) {
      log.push(`apply ${obj.kind ?? ''} ${obj.metadata?.name ?? ''}`);
      const stored = clone(obj) as unknown as Stored;
      bump(stored);
      objects.set(keyOf({ kind: obj.kind, namespace: obj.metadata?.namespace, name: obj.metadata?.name }), stored);
      return clone(stored) as unknown as T;
    },
    async get<T extends KubernetesObject>(ref: ObjectRef) {
      const found = objects.get(keyOf(ref));
      return found ? (clone(found) as unknown as T) : undefined;
    },
    async remove(ref) {
      log.push(`remove ${ref.kind} ${ref.name}`);
      return objects.delete(keyOf(ref));
    },
    async patchStatus(ref, status) {
      const found = objects.get(keyOf(ref));
      if (!found) throw new Error('404');
      found['status'] = { ...(found['status'] as object | undefined), ...clone(status) };
      bump(found);
      log.push(`status ${ref.name}`);
    },
    async mergePatch(ref, patch) {
      const found = objects.get(keyOf(ref));
      if (!found) throw new Error('404');
      const metadata = (patch as { metadata: { finalizers: string[]; resourceVersion?: string } }).metadata;
      if (metadata.resourceVersion !== undefined && metadata.resourceVersion !== found.metadata.resourceVersion) throw new Error('409 conflict');
      found.metadata.finalizers = metadata.finalizers;
      bump(found);
      log.push(`finalizers ${ref.name} [${metadata.finalizers.join(',')}]`);
      // Deleted once the last finalizer is gone.
      if (found.metadata.deletionTimestamp && metadata.finalizers.length === 0) objects.delete(keyOf(ref));
    },
  };
  return {
    kube,
    put(obj: PikaToken | V1Secret) {
      const stored = clone(obj) as unknown as Stored;
      objects.set(keyOf({ kind: stored.kind, namespace: stored.metadata.namespace, name: stored.metadata.name }), stored);
    },
    token: () => objects.get(keyOf({ kind: 'PikaToken', namespace: NS, name: 'eso' })) as unknown as PikaToken | undefined,
    secret: () => objects.get(keyOf({ kind: 'Secret', namespace: NS, name: 'eso-token' })) as unknown as V1Secret | undefined,
    /** A spec edit: the API server bumps generation. */
    editSpec(change: Partial<PikaTokenSpec>) {
      const t = objects.get(keyOf({ kind: 'PikaToken', namespace: NS, name: 'eso' })) as unknown as PikaToken;
      t.spec = { ...t.spec, ...change };
      t.metadata.generation = (t.metadata.generation ?? 0) + 1;
    },
    markDeleted() {
      const t = objects.get(keyOf({ kind: 'PikaToken', namespace: NS, name: 'eso' })) as unknown as PikaToken;
      t.metadata.deletionTimestamp = new Date(T0).toISOString();
    },
  };
}

type Mode = 'ok' | 'locked' | 'forbidden' | 'invalid' | 'down';

/** A fake pika client: numbered tokens, a mode for failures, revocations logged. */
function fakePika(log: string[]) {
  let n = 0;
  const state = { mode: 'ok' as Mode, live: new Set<string>(), lastCreate: undefined as unknown };
  const failure = (): Error | undefined => {
    if (state.mode === 'locked') return new PikaError(503, 'server_locked', 'the server is locked');
    if (state.mode === 'forbidden') return new PikaError(403, 'ERR_CAPABILITY_EXCEEDS_CREATOR', 'you do not hold users.manage, so a token you make cannot either');
    if (state.mode === 'invalid') return new PikaError(400, 'ERR_VALIDATION', 'scopes: invalid path pattern');
    if (state.mode === 'down') return new TypeError('fetch failed');
    return undefined;
  };
  const client = {
    async createToken(input: { name: string; expires_at?: string }) {
      state.lastCreate = input;
      const err = failure();
      if (err) throw err;
      n++;
      const id = `tok${n}`;
      state.live.add(id);
      log.push(`create ${id}`);
      return { id, raw_key: `pika_${String(n).padStart(64, '0')}`, ...(input.expires_at ? { expires_at: input.expires_at } : {}) };
    },
    async revokeToken(id: string) {
      const err = failure();
      if (err) throw err;
      state.live.delete(id);
      log.push(`revoke ${id}`);
    },
  };
  return { client, state };
}

function setup(options: { resolveError?: ResolveError } = {}) {
  const log: string[] = [];
  const k = fakeKube(log);
  const pika = fakePika(log);
  const events: { type: string; reason: string; message: string }[] = [];
  const locked: boolean[] = [];
  const errors: string[] = [];
  const clock = { now: T0 };
  const connections = {
    resolve: async () => {
      if (options.resolveError) throw options.resolveError;
      return { key: `PikaServer/${NS}/main`, client: pika.client, locked: undefined, revisionOf: () => undefined, revision: undefined } as unknown as Awaited<ReturnType<Parameters<typeof createPikaTokenReconciler>[0]['connections']['resolve']>>;
    },
    setLocked: (_key: string, value: boolean) => {
      locked.push(value);
    },
  };
  const reconciler = createPikaTokenReconciler({
    tokens: { get: (name, namespace) => (namespace === NS && name === 'eso' ? structuredClone(k.token()) : undefined) },
    connections,
    kube: k.kube,
    events: {
      emit: async (_obj, type, reason, message) => {
        events.push({ type, reason, message });
      },
    },
    onError: (reason) => errors.push(reason),
    now: () => clock.now,
  });
  return { log, k, pika, events, locked, errors, clock, reconcile: () => reconciler.reconcile(`${NS}/eso`) };
}

const ready = (t: PikaToken | undefined) => t?.status?.conditions?.find((c) => c.type === 'Ready');
const secretToken = (s: V1Secret | undefined) => Buffer.from(s?.data?.['token'] ?? '', 'base64').toString();

// ------------------------------------------------------------------------------------------------

describe('PikaToken reconciler (fake kube and pika)', () => {
  let s: ReturnType<typeof setup>;
  beforeEach(() => {
    s = setup();
    s.k.put(pikaToken());
  });

  it('adds the finalizer, mints into an owned, labelled Secret, and reports status with the expiry', async () => {
    const result = await s.reconcile();
    expect(s.log).toEqual(['finalizers eso [pika.io/revoke-token]', 'create tok1', 'apply Secret eso-token', 'status eso']);
    const secret = s.k.secret();
    expect(secretToken(secret)).toBe(`pika_${'1'.padStart(64, '0')}`);
    expect(secret?.metadata?.labels).toEqual({ 'external-secrets.io/type': 'webhook', 'app.kubernetes.io/managed-by': 'pika-operator' });
    expect(secret?.metadata?.annotations).toEqual({ [TOKEN_OWNER_ANNOTATION]: 'eso', [TOKEN_ID_ANNOTATION]: 'tok1' });
    expect(secret?.metadata?.ownerReferences).toEqual([{ apiVersion: 'pika.io/v1alpha1', kind: 'PikaToken', name: 'eso', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    const t = s.k.token();
    expect(t?.status).toMatchObject({ tokenId: 'tok1', expiresAt: new Date(T0 + 24 * HOUR).toISOString(), lastRenewTime: new Date(T0).toISOString(), observedGeneration: 1 });
    expect(ready(t)).toMatchObject({ status: 'True', reason: 'Minted' });
    expect(s.pika.state.lastCreate).toEqual({ name: 'k8s/demo/eso', scopes: [{ path: 'myapp/**', operations: ['read'] }], expires_at: new Date(T0 + 24 * HOUR).toISOString() });
    expect(result).toEqual({ requeueAfterMs: 16 * HOUR });
    expect(s.events).toEqual([expect.objectContaining({ type: 'Normal', reason: 'Minted' })]);
  });

  it('keeps a finalizer someone else put there', async () => {
    s.k.put({ ...pikaToken(), metadata: { ...pikaToken().metadata, finalizers: ['other.io/keep'] } });
    await s.reconcile();
    expect(s.k.token()?.metadata.finalizers).toEqual(['other.io/keep', FINALIZER]);
  });

  it('does nothing until the renewal is due, then writes the new token before revoking the old one', async () => {
    await s.reconcile();
    s.log.length = 0;
    s.clock.now = T0 + 10 * HOUR;
    expect(await s.reconcile()).toEqual({ requeueAfterMs: 6 * HOUR });
    expect(s.log).toEqual([]);
    s.clock.now = T0 + 16 * HOUR;
    const result = await s.reconcile();
    expect(s.log).toEqual(['create tok2', 'apply Secret eso-token', 'status eso', 'revoke tok1']);
    expect(secretToken(s.k.secret())).toBe(`pika_${'2'.padStart(64, '0')}`);
    expect(s.k.token()?.status).toMatchObject({ tokenId: 'tok2', expiresAt: new Date(T0 + 40 * HOUR).toISOString(), lastRenewTime: new Date(T0 + 16 * HOUR).toISOString() });
    expect(ready(s.k.token())).toMatchObject({ status: 'True', reason: 'Renewed' });
    expect(result).toEqual({ requeueAfterMs: 16 * HOUR });
    expect([...s.pika.state.live]).toEqual(['tok2']);
  });

  it('honours renewBefore', async () => {
    s.k.put(pikaToken({ ttl: '1h', renewBefore: '5m' }));
    // 55 min to the renewal, but ±10% jitter on 55 min could pass the expiry: capped at 85% of the hour left.
    expect(await s.reconcile()).toEqual({ requeueAfterMs: 51 * 60_000 });
    s.clock.now = T0 + 51 * 60_000;
    expect(await s.reconcile()).toEqual({ requeueAfterMs: 4 * 60_000 });
    s.clock.now = T0 + 55 * 60_000 - 1;
    await s.reconcile();
    expect(s.k.token()?.status?.tokenId).toBe('tok1');
    s.clock.now = T0 + 55 * 60_000;
    await s.reconcile();
    expect(s.k.token()?.status?.tokenId).toBe('tok2');
  });

  it('mints afresh when the spec changes or the Secret is deleted', async () => {
    await s.reconcile();
    s.k.editSpec({ scopes: [{ path: 'other/**', operations: ['read'] }] });
    await s.reconcile();
    expect(s.k.token()?.status).toMatchObject({ tokenId: 'tok2', observedGeneration: 2 });
    await s.k.kube.remove({ apiVersion: 'v1', kind: 'Secret', name: 'eso-token', namespace: NS });
    await s.reconcile();
    expect(s.k.token()?.status?.tokenId).toBe('tok3');
    expect(s.k.secret()?.metadata?.annotations?.[TOKEN_ID_ANNOTATION]).toBe('tok3');
    expect([...s.pika.state.live]).toEqual(['tok3']);
  });

  it('re-reads the object before minting, so a stale cache does not mint twice', async () => {
    await s.reconcile();
    const stale = pikaToken(); // what a cache that has not seen our status write yet would hold
    const r = createPikaTokenReconciler({
      tokens: { get: () => stale },
      connections: { resolve: async () => { throw new Error('must not resolve'); }, setLocked: () => undefined },
      kube: s.k.kube,
      events: { emit: async () => undefined },
      now: () => T0,
    });
    expect(await r.reconcile(`${NS}/eso`)).toEqual({ requeueAfterMs: 16 * HOUR });
    expect(s.pika.state.live.size).toBe(1);
  });

  it('keeps the Secret and its token while the server is locked, and requeues', async () => {
    await s.reconcile();
    const before = structuredClone(s.k.secret());
    s.pika.state.mode = 'locked';
    s.clock.now = T0 + 17 * HOUR;
    s.log.length = 0;
    expect(await s.reconcile()).toEqual({ requeueAfterMs: 30_000 });
    expect(s.log).toEqual(['status eso']);
    expect(s.k.secret()).toEqual(before);
    expect(ready(s.k.token())).toMatchObject({ status: 'True', reason: 'ServerLocked' });
    expect(s.locked).toEqual([false, true]);
    // Past the expiry the token is no longer valid: Ready turns False, the Secret is still not touched.
    s.clock.now = T0 + 25 * HOUR;
    await s.reconcile();
    expect(ready(s.k.token())).toMatchObject({ status: 'False', reason: 'ServerLocked' });
    expect(s.k.secret()).toEqual(before);
    s.pika.state.mode = 'ok';
    await s.reconcile();
    expect(s.k.token()?.status?.tokenId).toBe('tok2');
    expect(s.locked.at(-1)).toBe(false);
  });

  it('reports Forbidden when pika refuses the scopes or capabilities, and retries', async () => {
    s.pika.state.mode = 'forbidden';
    s.k.put(pikaToken({ capabilities: ['users.manage'] }));
    await expect(s.reconcile()).rejects.toThrow(/Forbidden/);
    expect(ready(s.k.token())).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(s.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'Forbidden' })]);
    expect(s.errors).toEqual(['Forbidden']);
    expect(s.k.secret()).toBeUndefined();
  });

  it('treats a 400 from pika as a spec error (terminal), and an unreachable server as retryable', async () => {
    s.pika.state.mode = 'invalid';
    await expect(s.reconcile()).rejects.toBeInstanceOf(TerminalError);
    expect(ready(s.k.token())).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    s.pika.state.mode = 'down';
    const err = await s.reconcile().catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(TerminalError);
    expect(ready(s.k.token())).toMatchObject({ status: 'False', reason: 'ServerUnreachable' });
  });

  it('rejects files.read in capabilities before calling pika', async () => {
    s.k.put(pikaToken({ capabilities: ['files.read'] }));
    await expect(s.reconcile()).rejects.toMatchObject({ name: 'TerminalError', reason: 'InvalidSpec' });
    expect(s.pika.state.lastCreate).toBeUndefined();
    expect(ready(s.k.token())?.message).toMatch(/through scopes/);
  });

  it('never overwrites a Secret that is not annotated for this PikaToken', async () => {
    s.k.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'eso-token', namespace: NS }, data: { token: 'eA==' } });
    await expect(s.reconcile()).rejects.toMatchObject({ name: 'TerminalError', reason: 'TargetConflict' });
    expect(s.k.secret()?.data).toEqual({ token: 'eA==' });
    expect(s.pika.state.lastCreate).toBeUndefined();
    s.k.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'eso-token', namespace: NS, annotations: { [TOKEN_OWNER_ANNOTATION]: 'other' } }, data: {} });
    await expect(s.reconcile()).rejects.toThrow(/belongs to PikaToken other/);
  });

  it('revokes on delete, then removes the finalizer', async () => {
    await s.reconcile();
    s.k.markDeleted();
    s.log.length = 0;
    expect(await s.reconcile()).toBeUndefined();
    expect(s.log).toEqual(['revoke tok1', 'finalizers eso []']);
    expect(s.k.token()).toBeUndefined();
    expect(s.events.at(-1)).toMatchObject({ type: 'Normal', reason: 'Revoked' });
  });

  it('keeps the finalizer while the server is locked at delete time', async () => {
    await s.reconcile();
    s.k.markDeleted();
    s.pika.state.mode = 'locked';
    expect(await s.reconcile()).toEqual({ requeueAfterMs: 30_000 });
    expect(s.k.token()?.metadata.finalizers).toEqual([FINALIZER]);
    expect(ready(s.k.token())).toMatchObject({ reason: 'ServerLocked' });
    s.pika.state.mode = 'ok';
    await s.reconcile();
    expect(s.k.token()).toBeUndefined();
    expect(s.pika.state.live.size).toBe(0);
  });

  it('lets a deletion go when the server no longer resolves, with a Warning', async () => {
    await s.reconcile();
    const gone = setup({ resolveError: new ResolveError('ServerNotFound', `PikaServer ${NS}/main does not exist`, false) });
    const deleted = structuredClone(s.k.token()!);
    deleted.metadata.deletionTimestamp = new Date(T0).toISOString();
    gone.k.put(deleted);
    expect(await gone.reconcile()).toBeUndefined();
    expect(gone.k.token()).toBeUndefined();
    expect(gone.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'RevokeSkipped' })]);
  });

  it('reports a serverRef that does not resolve, terminal or not, without adding a finalizer', async () => {
    const notFound = setup({ resolveError: new ResolveError('ServerNotFound', 'PikaServer demo/main does not exist', false) });
    notFound.k.put(pikaToken());
    const err = await notFound.reconcile().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResolveError);
    expect(ready(notFound.k.token())).toMatchObject({ status: 'False', reason: 'ServerNotFound' });
    expect(notFound.k.token()?.metadata.finalizers).toBeUndefined();
    const denied = setup({ resolveError: new ResolveError('NamespaceNotAllowed', 'ClusterPikaServer shared does not allow namespace demo', true) });
    denied.k.put(pikaToken());
    await expect(denied.reconcile()).rejects.toMatchObject({ name: 'TerminalError', reason: 'NamespaceNotAllowed' });
    expect(ready(denied.k.token())).toMatchObject({ status: 'False', reason: 'NamespaceNotAllowed' });
  });

  it('puts the raw key in the Secret and nowhere else', async () => {
    await s.reconcile();
    s.clock.now = T0 + 17 * HOUR;
    await s.reconcile();
    const raws = [`pika_${'1'.padStart(64, '0')}`, `pika_${'2'.padStart(64, '0')}`];
    const elsewhere = JSON.stringify({ status: s.k.token()?.status, events: s.events, log: s.log, errors: s.errors, meta: s.k.secret()?.metadata });
    for (const raw of raws) expect(elsewhere).not.toContain(raw);
  });
});
