/**
 * UnlockRequest reconciler decisions with labelled fakes of the Kubernetes wrapper, the connection
 * registry and the pika client (the real API server and a real, restarted pika server are in
 * test/k8s/operator/unlock-request.test.ts). The sealing is real: RSA keys and JWEs.
 */
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UnlockRequest, UnlockRequestSpec } from '../../shared/crds/index.ts';
import type { ObjectRef } from '../kube/kube.ts';
import { PikaError } from '../pika/pika-client.ts';
import { TerminalError } from '../runtime/controller.ts';
import { ResolveError } from '../servers/server-connections.ts';
import { keyIdOf, type OpeningKey, seal } from '../unlock/seal.ts';
import { APPROVE_ANNOTATION, backoffMs, createUnlockRequestReconciler, effectiveAttempts, gateOf, RESET_ANNOTATION } from './unlock-request-reconciler.ts';

const NS = 'demo';
const SERVER_ID = '5b0e7c9a-1111-4222-8333-944445555666';
const PASSPHRASE = 'the right server passphrase';
const T0 = Date.parse('2030-01-01T00:00:00Z');
const CHECK_MS = 5_000;
const LOCKED_MS = 2_000;

let keys: OpeningKey[];
let publicKey: ReturnType<typeof generateKeyPairSync>['publicKey'];

beforeAll(async () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  publicKey = pair.publicKey;
  keys = [{ kid: await keyIdOf(pair.publicKey), privateKey: pair.privateKey }];
});

const sealFor = (passphrase = PASSPHRASE, binding: { namespace?: string; name?: string; serverId?: string } = {}) => seal(passphrase, { namespace: NS, name: 'main', serverId: SERVER_ID, ...binding }, publicKey);

async function request(spec: Partial<UnlockRequestSpec> = {}, name = 'main'): Promise<UnlockRequest> {
  return {
    apiVersion: 'pika.io/v1alpha1',
    kind: 'UnlockRequest',
    metadata: { name, namespace: NS, uid: `uid-${name}`, generation: 1, resourceVersion: '1' },
    spec: { serverRef: { kind: 'PikaServer', name: 'main' }, sealedKey: await sealFor(), maxAttempts: 3, backoff: '10s', suspend: false, requireApproval: false, ...spec },
  };
}

/** Everything around the reconciler: one stored UnlockRequest, a fake pika server, a clock. */
function setup(initial: UnlockRequest) {
  let stored = structuredClone(initial);
  /** What the informer cache holds; `undefined`: up to date with the API server. */
  let staleCache: UnlockRequest | undefined;
  const clock = { now: T0 };
  const server = { initialized: true, unlocked: false, serverId: SERVER_ID as string | undefined, passphrase: PASSPHRASE, mode: 'ok' as 'ok' | 'forbidden' | 'down' | 'probe-down' };
  const calls: string[] = [];
  const events: { type: string; reason: string; message: string }[] = [];
  const lockedReports: boolean[] = [];
  const errors: string[] = [];
  let refreshes = 0;
  let resolveError: ResolveError | undefined;

  const client = {
    async keyStatus() {
      calls.push('status');
      if (server.mode === 'probe-down') throw new TypeError('fetch failed');
      return { initialized: server.initialized, unlocked: server.unlocked, ...(server.serverId ? { server_id: server.serverId } : {}) };
    },
    async unlock(key: string) {
      calls.push('unlock');
      if (server.mode === 'down') throw new TypeError('fetch failed');
      if (server.mode === 'forbidden') throw new PikaError(403, 'ERR_FORBIDDEN', 'requires key.unlock');
      if (key !== server.passphrase) throw new PikaError(403, 'ERR_KEY_WRONG', 'wrong server key');
      server.unlocked = true;
      return { initialized: true, unlocked: true };
    },
  };
  const reconciler = createUnlockRequestReconciler({
    requests: { get: (name, namespace) => (namespace === NS && name === stored.metadata.name ? structuredClone(staleCache ?? stored) : undefined) },
    connections: {
      resolve: async () => {
        if (resolveError) throw resolveError;
        return { key: `PikaServer/${NS}/main`, client, locked: undefined, revisionOf: () => undefined, revision: undefined } as unknown as Awaited<ReturnType<Parameters<typeof createUnlockRequestReconciler>[0]['connections']['resolve']>>;
      },
      setLocked: (_key, locked) => {
        lockedReports.push(locked);
      },
    },
    kube: {
      get: async <T extends object>(ref: ObjectRef) => (ref.name === stored.metadata.name ? (structuredClone(stored) as unknown as T) : undefined),
      patchStatus: async (_ref: ObjectRef, status: Record<string, unknown>) => {
        // JSON merge patch: null removes a field.
        const merged = Object.entries({ ...(stored.status ?? {}), ...structuredClone(status) } as Record<string, unknown>).filter(([, v]) => v !== null);
        stored = { ...stored, status: Object.fromEntries(merged) };
        calls.push('patch');
      },
    },
    events: {
      emit: async (_obj, type, reason, message) => {
        events.push({ type, reason, message });
      },
    },
    keys: {
      keys: () => keys,
      refresh: async () => {
        refreshes++;
      },
    },
    checkIntervalMs: CHECK_MS,
    lockedRequeueMs: LOCKED_MS,
    onError: (reason) => errors.push(reason),
    now: () => clock.now,
  });
  return {
    clock,
    server,
    calls,
    events,
    lockedReports,
    errors,
    refreshes: () => refreshes,
    stored: () => stored,
    ready: () => stored.status?.conditions?.find((c) => c.type === 'Ready'),
    unlockedCondition: () => stored.status?.conditions?.find((c) => c.type === 'Unlocked'),
    /** A user edit: spec changes bump the generation, annotations do not. */
    edit(change: { spec?: Partial<UnlockRequestSpec>; annotations?: Record<string, string> }) {
      stored = structuredClone(stored);
      if (change.spec) {
        stored.spec = { ...stored.spec, ...change.spec };
        stored.metadata.generation = (stored.metadata.generation ?? 0) + 1;
      }
      if (change.annotations) stored.metadata.annotations = { ...stored.metadata.annotations, ...change.annotations };
    },
    freezeCache() {
      staleCache = structuredClone(stored);
    },
    failResolve(err: ResolveError | undefined) {
      resolveError = err;
    },
    reconcile: () => reconciler.reconcile(`${NS}/${stored.metadata.name ?? ''}`),
  };
}

const unlockCalls = (calls: readonly string[]) => calls.filter((c) => c === 'unlock').length;

// ------------------------------------------------------------------------------------------------

describe('pure parts', () => {
  it('doubles the backoff after each wrong passphrase, up to 1h', async () => {
    const spec = (await request({ backoff: '10s' })).spec;
    expect([1, 2, 3, 4].map((n) => backoffMs(spec, n))).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(backoffMs(spec, 30)).toBe(3_600_000);
    expect(backoffMs({ ...spec, backoff: undefined }, 1)).toBe(10_000); // the CRD default
  });

  it('resets the count on a spec change or a new reset annotation value, once', async () => {
    const req = await request();
    req.status = { attempts: 2, observedGeneration: 1 };
    expect(effectiveAttempts(req)).toEqual({ attempts: 2, reset: undefined });
    expect(effectiveAttempts({ ...req, metadata: { ...req.metadata, generation: 2 } })).toEqual({ attempts: 0, reset: 'spec' });
    const annotated = { ...req, metadata: { ...req.metadata, annotations: { [RESET_ANNOTATION]: 'r1' } } };
    expect(effectiveAttempts(annotated)).toEqual({ attempts: 0, reset: 'annotation' });
    expect(effectiveAttempts({ ...annotated, status: { ...req.status, lastResetRequest: 'r1' } })).toEqual({ attempts: 2, reset: undefined });
  });

  it('checks the budget before suspend, approval and backoff', async () => {
    const req = await request({ suspend: true, requireApproval: true });
    expect(gateOf(req, 3, T0).kind).toBe('exhausted');
    expect(gateOf(req, 0, T0).kind).toBe('suspended');
    expect(gateOf({ ...req, spec: { ...req.spec, suspend: false } }, 0, T0).kind).toBe('approval');
    const backing = { ...req, spec: { ...req.spec, suspend: false, requireApproval: false }, status: { lastAttemptTime: new Date(T0 - 4_000).toISOString() } };
    expect(gateOf(backing, 1, T0)).toEqual({ kind: 'backoff', waitMs: 6_000 });
    expect(gateOf(backing, 1, T0 + 6_000)).toEqual({ kind: 'go' });
  });
});

describe('UnlockRequest reconciler', () => {
  it('unlocks a locked server with the sealed passphrase, and reports it without the passphrase', async () => {
    const t = setup(await request());
    expect(await t.reconcile()).toEqual({ requeueAfterMs: CHECK_MS });
    expect(t.server.unlocked).toBe(true);
    expect(t.ready()).toMatchObject({ status: 'True', reason: 'Unlocked' });
    expect(t.unlockedCondition()).toMatchObject({ status: 'True' });
    expect(t.stored().status).toMatchObject({ attempts: 0, lastUnlockTime: new Date(T0).toISOString(), keyId: keys[0]!.kid, serverId: SERVER_ID, observedGeneration: 1 });
    expect(t.events).toEqual([expect.objectContaining({ type: 'Normal', reason: 'Unlocked' })]);
    // Locked first (announces the lock to the registry), then unlocked by us.
    expect(t.lockedReports).toEqual([true, false]);
    expect(JSON.stringify([t.stored().status, t.events])).not.toContain(PASSPHRASE);
  });

  it('only watches an unlocked server: no unlock call, Ready ServerUnlocked, polled every checkIntervalMs', async () => {
    const t = setup(await request());
    t.server.unlocked = true;
    expect(await t.reconcile()).toEqual({ requeueAfterMs: CHECK_MS });
    expect(t.calls).toEqual(['status', 'patch']);
    expect(t.ready()).toMatchObject({ status: 'True', reason: 'ServerUnlocked' });
    expect(await t.reconcile()).toEqual({ requeueAfterMs: CHECK_MS });
    expect(t.calls).toEqual(['status', 'patch', 'status']); // nothing new: no write
    expect(t.events).toEqual([]);
  });

  it('refuses a sealed value copied into another UnlockRequest name: terminal, no decryption, no attempt', async () => {
    const copied = await request({ sealedKey: await sealFor() }, 'copy');
    const t = setup(copied);
    await expect(t.reconcile()).rejects.toBeInstanceOf(TerminalError);
    expect(t.calls).toEqual(['patch']); // not even the server was asked
    expect(t.ready()).toMatchObject({ status: 'False', reason: 'BindingMismatch', message: expect.stringMatching(/name "main", not "copy"/) });
    expect(t.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'BindingMismatch' })]);
    expect(t.server.unlocked).toBe(false);
  });

  it('refuses a value sealed for another server (its id differs): terminal, no attempt', async () => {
    const t = setup(await request({ sealedKey: await sealFor(PASSPHRASE, { serverId: 'another-server' }) }));
    await expect(t.reconcile()).rejects.toBeInstanceOf(TerminalError);
    expect(unlockCalls(t.calls)).toBe(0);
    expect(t.ready()).toMatchObject({ reason: 'BindingMismatch', message: expect.stringMatching(/server id "another-server", not "5b0e7c9a/) });
  });

  it('refuses what is not a sealed value', async () => {
    const t = setup(await request({ sealedKey: `${'a'.repeat(60)}.b.c.d.e` }));
    await expect(t.reconcile()).rejects.toThrow(TerminalError);
    expect(t.ready()).toMatchObject({ reason: 'InvalidSealedKey' });
  });

  it('counts wrong passphrases, backs off between them, and stops for good after the budget', async () => {
    const t = setup(await request({ sealedKey: await sealFor('not the passphrase'), maxAttempts: 3, backoff: '10s' }));
    expect(await t.reconcile()).toEqual({ requeueAfterMs: 10_000 });
    expect(t.stored().status).toMatchObject({ attempts: 1, lastError: 'wrong passphrase (attempt 1 of 3)' });
    expect(t.ready()).toMatchObject({ status: 'False', reason: 'WrongPassphrase', message: 'pika rejected the passphrase (attempt 1 of 3); next attempt in 10s' });
    // Inside the backoff (a `locked` event, say): no attempt.
    t.clock.now += 4_000;
    expect(await t.reconcile()).toEqual({ requeueAfterMs: 6_000 });
    expect(t.ready()).toMatchObject({ reason: 'BackingOff' });
    expect(unlockCalls(t.calls)).toBe(1);
    t.clock.now += 6_000;
    expect(await t.reconcile()).toEqual({ requeueAfterMs: 20_000 });
    t.clock.now += 20_000;
    await expect(t.reconcile()).rejects.toThrow(TerminalError);
    expect(unlockCalls(t.calls)).toBe(3);
    expect(t.ready()).toMatchObject({ status: 'False', reason: 'AttemptBudgetExhausted' });
    expect(t.stored().status).toMatchObject({ attempts: 3, lastError: 'wrong passphrase (attempt 3 of 3)' });
    expect(t.events.map((e) => e.reason)).toEqual(['WrongPassphrase', 'WrongPassphrase', 'AttemptBudgetExhausted']);
    // Later events (a restart, a `locked` event): still nothing, not even a call to the server.
    t.clock.now += 3_600_000;
    const before = t.calls.length;
    await expect(t.reconcile()).rejects.toThrow(TerminalError);
    expect(t.calls.slice(before).filter((c) => c !== 'patch')).toEqual([]);
    expect(JSON.stringify([t.stored().status, t.events])).not.toMatch(/not the passphrase|the right server passphrase/);
  });

  it('starts counting again after a spec change (a new sealedKey) or a new reset annotation value', async () => {
    const t = setup(await request({ sealedKey: await sealFor('wrong'), maxAttempts: 1 }));
    await expect(t.reconcile()).rejects.toThrow(TerminalError);
    // The reset annotation: one more try with the same (wrong) value, then stopped again.
    t.edit({ annotations: { [RESET_ANNOTATION]: 'first' } });
    await expect(t.reconcile()).rejects.toThrow(TerminalError);
    expect(unlockCalls(t.calls)).toBe(2);
    expect(t.stored().status?.lastResetRequest).toBe('first');
    await expect(t.reconcile()).rejects.toThrow(TerminalError); // the same value does not reset twice
    expect(unlockCalls(t.calls)).toBe(2);
    // The right passphrase sealed in: the spec changed, the count starts over, and it works.
    t.edit({ spec: { sealedKey: await sealFor() } });
    expect(await t.reconcile()).toEqual({ requeueAfterMs: CHECK_MS });
    expect(t.server.unlocked).toBe(true);
    expect(t.stored().status).toMatchObject({ attempts: 0, observedGeneration: 2 });
    expect(t.stored().status?.lastError).toBeUndefined();
  });

  it('never attempts on a stale cache: the count and backoff are read from the API server first', async () => {
    const t = setup(await request({ sealedKey: await sealFor('wrong') }));
    t.freezeCache(); // the cache will keep showing no attempts
    await t.reconcile();
    expect(unlockCalls(t.calls)).toBe(1);
    expect(await t.reconcile()).toEqual({ requeueAfterMs: 10_000 });
    expect(unlockCalls(t.calls)).toBe(1);
    expect(t.stored().status?.attempts).toBe(1);
  });

  it('does nothing while suspended, but still reports the lock state', async () => {
    const t = setup(await request({ suspend: true }));
    expect(await t.reconcile()).toEqual({ requeueAfterMs: CHECK_MS });
    expect(unlockCalls(t.calls)).toBe(0);
    expect(t.ready()).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(t.unlockedCondition()).toMatchObject({ status: 'False', reason: 'ServerLocked' });
    t.edit({ spec: { suspend: false } });
    await t.reconcile();
    expect(t.server.unlocked).toBe(true);
  });

  it('approval mode: waits for the annotation to hold this lock’s pendingSince; one approval, one unlock', async () => {
    const t = setup(await request({ requireApproval: true }));
    expect(await t.reconcile()).toEqual({ requeueAfterMs: CHECK_MS });
    const pending = t.stored().status?.pendingSince;
    expect(pending).toBe(new Date(T0).toISOString());
    expect(t.ready()).toMatchObject({ reason: 'WaitingForApproval', message: expect.stringContaining(`${APPROVE_ANNOTATION}=${pending ?? ''}`) });
    expect(t.events).toEqual([expect.objectContaining({ type: 'Normal', reason: 'ApprovalRequired' })]);
    // Polled again: the same pendingSince, no second Event, no attempt.
    t.clock.now += 2_000;
    await t.reconcile();
    expect(t.stored().status?.pendingSince).toBe(pending);
    expect(t.events).toHaveLength(1);
    // A value that is not this lock's does not approve.
    t.edit({ annotations: { [APPROVE_ANNOTATION]: 'yes' } });
    await t.reconcile();
    expect(unlockCalls(t.calls)).toBe(0);
    t.edit({ annotations: { [APPROVE_ANNOTATION]: pending ?? '' } });
    await t.reconcile();
    expect(t.server.unlocked).toBe(true);
    expect(t.stored().status?.pendingSince).toBeUndefined();
    // The next lock needs a new approval: the annotation still holds the old value.
    t.server.unlocked = false;
    t.clock.now += 60_000;
    await t.reconcile();
    expect(t.server.unlocked).toBe(false);
    expect(unlockCalls(t.calls)).toBe(1);
    expect(t.stored().status?.pendingSince).toBe(new Date(t.clock.now).toISOString());
    expect(t.ready()).toMatchObject({ reason: 'WaitingForApproval' });
  });

  it('does not count a refusal that is not about the passphrase (no key.unlock), and retries slowly', async () => {
    const t = setup(await request());
    t.server.mode = 'forbidden';
    expect(await t.reconcile()).toEqual({ requeueAfterMs: 60_000 });
    expect(t.ready()).toMatchObject({ reason: 'Forbidden', message: expect.stringContaining('key.unlock') });
    expect(t.stored().status?.attempts).toBe(0);
    await t.reconcile();
    expect(t.events).toHaveLength(1); // one Event per change of reason, not per retry
  });

  it('polls an unreachable server often (it is probably restarting), without Events', async () => {
    const t = setup(await request());
    t.server.mode = 'probe-down';
    expect(await t.reconcile()).toEqual({ requeueAfterMs: LOCKED_MS });
    expect(t.ready()).toMatchObject({ reason: 'ServerUnreachable' });
    expect(t.unlockedCondition()).toMatchObject({ status: 'Unknown' });
    expect(t.events).toEqual([]);
    t.server.mode = 'ok';
    await t.reconcile();
    expect(t.server.unlocked).toBe(true);
  });

  it('reports a server without a key, and one that does not name itself, without trying', async () => {
    const t = setup(await request());
    t.server.initialized = false;
    expect(await t.reconcile()).toEqual({ requeueAfterMs: CHECK_MS });
    expect(t.ready()).toMatchObject({ reason: 'NotInitialized' });
    t.server.initialized = true;
    t.server.serverId = undefined;
    expect(await t.reconcile()).toEqual({ requeueAfterMs: 60_000 });
    expect(t.ready()).toMatchObject({ reason: 'ServerIdUnknown' });
    expect(unlockCalls(t.calls)).toBe(0);
  });

  it('re-reads the sealing keys once for an unknown kid, and waits (not terminal) when it stays unknown', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const t = setup(await request({ sealedKey: await seal(PASSPHRASE, { namespace: NS, name: 'main', serverId: SERVER_ID }, stranger.publicKey) }));
    expect(await t.reconcile()).toEqual({ requeueAfterMs: 60_000 });
    expect(t.refreshes()).toBe(1);
    expect(t.ready()).toMatchObject({ reason: 'UnknownSealingKey' });
    expect(unlockCalls(t.calls)).toBe(0);
    // The same pre-flight while the server is unlocked: Ready never claims a value that could not be opened.
    t.server.unlocked = true;
    expect(await t.reconcile()).toEqual({ requeueAfterMs: 60_000 });
    expect(t.ready()).toMatchObject({ status: 'False', reason: 'UnknownSealingKey' });
    expect(t.unlockedCondition()).toMatchObject({ status: 'True' });
  });

  it('follows the registry’s tenancy: a namespace the ClusterPikaServer does not allow is terminal, a missing server is retried', async () => {
    const t = setup(await request());
    t.failResolve(new ResolveError('NamespaceNotAllowed', 'ClusterPikaServer shared does not allow namespace demo', true));
    await expect(t.reconcile()).rejects.toThrow(TerminalError);
    t.failResolve(new ResolveError('ServerNotFound', 'PikaServer demo/main does not exist', false));
    expect(await t.reconcile()).toEqual({ requeueAfterMs: LOCKED_MS });
    expect(t.ready()).toMatchObject({ reason: 'ServerNotFound' });
  });
});
