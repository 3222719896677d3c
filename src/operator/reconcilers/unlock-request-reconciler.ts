import type { UnlockRequest, UnlockRequestSpec, UnlockRequestStatus } from '../../shared/crds/index.ts';
import { UNLOCK_REQUEST_RESOURCE } from '../../shared/crds/index.ts';
import { parseDuration } from '../../shared/duration.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Kube } from '../kube/kube.ts';
import { PikaError } from '../pika/pika-client.ts';
import { type ReconcileResult, TerminalError } from '../runtime/controller.ts';
import { ResolveError, type ServerConnection, type ServerConnections } from '../servers/server-connections.ts';
import { type ConditionInput, sameConditions, setConditions } from '../sync/conditions.ts';
import { bindingMismatch, open, type OpeningKey, readHeader, SealError, type SealedHeader } from '../unlock/seal.ts';

/**
 * Reconciles one UnlockRequest by key (`namespace/name`), SPEC §13.1: when the pika server it
 * names reports locked, open the sealed passphrase in memory and unlock the server with the
 * PikaServer's token (`key.unlock`).
 *
 * Order of checks, each with a unit test:
 * 1. the sealed value's header names this namespace and name (else `BindingMismatch`, terminal:
 *    a value copied from another UnlockRequest is never decrypted, let alone tried);
 * 2. the attempt budget (`maxAttempts` wrong passphrases) is not spent (else
 *    `AttemptBudgetExhausted`, terminal: the operator stops until the spec changes or the
 *    `pika.io/reset-attempts` annotation gets a new value);
 * 3. the server answers `/api/v1/key/status` (public, cheap: this poll is the restart detector,
 *    every `checkIntervalMs` while unlocked) and its `server_id` is the one sealed in (else
 *    `BindingMismatch`); while it is unlocked, the kid must be a key the operator holds (a
 *    pre-flight without decrypting: the passphrase is opened only when the server is locked);
 * 4. locked: not `suspend`ed, approved when `requireApproval` (the annotation
 *    `pika.io/approve-unlock` must equal `status.pendingSince`, a value written afresh for each
 *    lock, so an approval is good for one unlock), past the backoff after the last wrong
 *    passphrase; then decrypt and unlock, on an object re-read from the API server (a stale cache
 *    must never allow an attempt the budget or backoff forbids).
 *
 * The passphrase exists only as the decrypted bytes (zeroed after the call) and the string of
 * the request body: never in status, Events, errors or logs — pika's answer is classified, not
 * echoed, and only "wrong passphrase" counts as an attempt.
 */

export const APPROVE_ANNOTATION = 'pika.io/approve-unlock';
export const RESET_ANNOTATION = 'pika.io/reset-attempts';
const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_BACKOFF = '10s';
const MAX_BACKOFF_MS = 3_600_000;
/** How long to wait after a failure that is neither a wrong passphrase nor a dead server (no key.unlock, rate limited). */
const SLOW_RETRY_MS = 60_000;

export interface UnlockRequestReconcilerDeps {
  readonly requests: { get(name: string, namespace?: string): UnlockRequest | undefined };
  readonly connections: Pick<ServerConnections, 'resolve' | 'setLocked'>;
  readonly kube: Pick<Kube, 'get' | 'patchStatus'>;
  readonly events: Pick<EventRecorder, 'emit'>;
  /** The operator's sealing keys (all of them open), re-read from their Secret on an unknown kid. */
  readonly keys: { keys(): readonly OpeningKey[]; refresh(maxAgeMs?: number): Promise<unknown> };
  /** How often the lock state is polled while the server is unlocked: how fast a restart is noticed. */
  readonly checkIntervalMs?: number;
  /** How often while the server is unreachable, or locked and waiting for nothing but time. */
  readonly lockedRequeueMs?: number;
  readonly onError?: (reason: string) => void;
  /** Every unlock call, by outcome (metrics). */
  readonly onAttempt?: (outcome: 'unlocked' | 'wrong_passphrase' | 'failed') => void;
  readonly now?: () => number;
}

// ---------------------------------------------------------------------------------------------
// Pure parts: budget, backoff, approval. Unit-tested directly.

export function maxAttemptsOf(spec: UnlockRequestSpec): number {
  return spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
}

/** The wait after `failures` wrong passphrases in a row: backoff · 2^(failures-1), at most 1h. */
export function backoffMs(spec: UnlockRequestSpec, failures: number): number {
  const base = parseDuration(spec.backoff ?? DEFAULT_BACKOFF);
  return Math.min(base * 2 ** Math.max(failures - 1, 0), MAX_BACKOFF_MS);
}

/**
 * The count of wrong passphrases that applies now. It starts again from 0 when the spec changed
 * since it was counted (a new sealedKey, say: `status.observedGeneration` is the generation it
 * belongs to) or when the `pika.io/reset-attempts` annotation holds a value not acted on yet.
 */
export function effectiveAttempts(req: UnlockRequest): { attempts: number; reset: 'spec' | 'annotation' | undefined } {
  const status = req.status ?? {};
  const resetValue = req.metadata.annotations?.[RESET_ANNOTATION];
  if (resetValue !== undefined && resetValue !== '' && resetValue !== status.lastResetRequest) return { attempts: 0, reset: 'annotation' };
  const generation = req.metadata.generation;
  if (generation !== undefined && status.observedGeneration !== undefined && status.observedGeneration !== generation) return { attempts: 0, reset: 'spec' };
  return { attempts: status.attempts ?? 0, reset: undefined };
}

/** Milliseconds until the next attempt is allowed (0: now). */
export function waitBeforeAttempt(req: UnlockRequest, attempts: number, now: number): number {
  if (attempts === 0) return 0;
  const last = Date.parse(req.status?.lastAttemptTime ?? '');
  if (!Number.isFinite(last)) return 0;
  return Math.max(0, last + backoffMs(req.spec, attempts) - now);
}

/** Approval mode: approved only by the annotation holding this lock's `status.pendingSince`. */
export function approvalOf(req: UnlockRequest): 'not-required' | 'approved' | 'pending' {
  if (!req.spec.requireApproval) return 'not-required';
  const pending = req.status?.pendingSince;
  return pending !== undefined && req.metadata.annotations?.[APPROVE_ANNOTATION] === pending ? 'approved' : 'pending';
}

export type Gate = { readonly kind: 'go' } | { readonly kind: 'suspended' } | { readonly kind: 'approval' } | { readonly kind: 'backoff'; readonly waitMs: number } | { readonly kind: 'exhausted' };

/** What may happen while the server is locked. */
export function gateOf(req: UnlockRequest, attempts: number, now: number): Gate {
  if (attempts >= maxAttemptsOf(req.spec)) return { kind: 'exhausted' };
  if (req.spec.suspend) return { kind: 'suspended' };
  if (approvalOf(req) === 'pending') return { kind: 'approval' };
  const waitMs = waitBeforeAttempt(req, attempts, now);
  return waitMs > 0 ? { kind: 'backoff', waitMs } : { kind: 'go' };
}

/** What a failed unlock call means; only `wrong` counts against the budget. */
export function classifyUnlockFailure(err: unknown): { kind: 'wrong' | 'forbidden' | 'rate-limited' | 'not-initialized' | 'unreachable'; reason: string; message: string } {
  if (err instanceof PikaError) {
    if (err.status === 403 && err.code === 'ERR_KEY_WRONG') return { kind: 'wrong', reason: 'WrongPassphrase', message: 'pika rejected the passphrase' };
    if (err.status === 401 || err.status === 403) return { kind: 'forbidden', reason: 'Forbidden', message: `pika answered ${err.status} ${err.code}: the PikaServer's token needs the key.unlock capability` };
    if (err.status === 429) return { kind: 'rate-limited', reason: 'RateLimited', message: 'pika is rate limiting unlock attempts from the operator' };
    if (err.code === 'ERR_KEY_NOT_INITIALIZED') return { kind: 'not-initialized', reason: 'NotInitialized', message: 'the server key has not been initialized' };
    return { kind: 'unreachable', reason: 'ServerError', message: `pika answered ${err.status} ${err.code}` };
  }
  return { kind: 'unreachable', reason: 'ServerUnreachable', message: err instanceof Error ? err.message : 'the request failed' };
}

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`);

// ---------------------------------------------------------------------------------------------

/** Status fields; `null` removes one (JSON merge patch). */
type StatusPatch = { [K in keyof UnlockRequestStatus]?: UnlockRequestStatus[K] | null };

const REF = (req: UnlockRequest) => ({ apiVersion: UNLOCK_REQUEST_RESOURCE.apiVersion, kind: UNLOCK_REQUEST_RESOURCE.kind, name: req.metadata.name ?? '', namespace: req.metadata.namespace ?? 'default', uid: req.metadata.uid });
const UNLOCKED: ConditionInput = { type: 'Unlocked', status: 'True', reason: 'ServerUnlocked', message: 'the server key is unlocked' };
const LOCKED: ConditionInput = { type: 'Unlocked', status: 'False', reason: 'ServerLocked', message: 'the server is locked' };

export function createUnlockRequestReconciler(deps: UnlockRequestReconcilerDeps) {
  const now = deps.now ?? Date.now;
  const checkIntervalMs = deps.checkIntervalMs ?? 5_000;
  const lockedRequeueMs = deps.lockedRequeueMs ?? 2_000;
  const iso = () => new Date(now()).toISOString();

  /** The fields every write carries: the generation and reset the attempt count belongs to, and what the header says. */
  function base(req: UnlockRequest, header: SealedHeader | undefined): StatusPatch {
    const { attempts, reset } = effectiveAttempts(req);
    const resetValue = req.metadata.annotations?.[RESET_ANNOTATION];
    return {
      // Written only when it changes here: a write from a stale cache must never lower a count.
      ...(reset || req.status?.attempts === undefined ? { attempts } : {}),
      ...(req.metadata.generation === undefined ? {} : { observedGeneration: req.metadata.generation }),
      ...(header ? { keyId: header.kid, serverId: header.serverId } : {}),
      ...(resetValue ? { lastResetRequest: resetValue } : {}),
      ...(reset ? { lastError: null } : {}),
    };
  }

  /** Writes status when it says something new; true when Ready's reason changed (worth an Event). */
  async function writeStatus(req: UnlockRequest, conditions: readonly ConditionInput[], patch: StatusPatch): Promise<boolean> {
    const before = req.status ?? {};
    const next = setConditions(before.conditions, conditions, req.metadata.generation, new Date(now()));
    const current = before as Record<string, unknown>;
    const changed = Object.entries(patch).some(([k, v]) => (current[k] ?? null) !== (v ?? null));
    const reasonOf = (list: typeof next | undefined) => list?.find((c) => c.type === 'Ready')?.reason;
    if (changed || !sameConditions(before.conditions, next)) await deps.kube.patchStatus(REF(req), { ...patch, conditions: next });
    return reasonOf(before.conditions) !== reasonOf(next);
  }

  /** A problem only a change to the object (or another object) fixes: status, a Warning, no retry. */
  async function refuse(req: UnlockRequest, header: SealedHeader | undefined, reason: string, message: string): Promise<never> {
    deps.onError?.(reason);
    // The budget's message is the condition; lastError keeps the wrong passphrase that spent it.
    const lastError = reason === 'AttemptBudgetExhausted' ? {} : { lastError: message };
    // One Warning per transition: a terminal object is re-examined on every lock event of its server.
    if (await writeStatus(req, [{ type: 'Ready', status: 'False', reason, message }], { ...base(req, header), ...lastError })) await deps.events.emit(REF(req), 'Warning', reason, message);
    throw new TerminalError(reason, message);
  }

  /** The header, bound to this object; refuses (terminally) anything else. */
  async function headerOf(req: UnlockRequest): Promise<SealedHeader> {
    let header: SealedHeader;
    try {
      header = readHeader(req.spec.sealedKey);
    } catch (err) {
      return refuse(req, undefined, 'InvalidSealedKey', (err as Error).message);
    }
    const mismatch = bindingMismatch(header, { namespace: req.metadata.namespace ?? 'default', name: req.metadata.name ?? '' });
    if (mismatch) return refuse(req, header, 'BindingMismatch', mismatch);
    return header;
  }

  async function exhausted(req: UnlockRequest, header: SealedHeader): Promise<never> {
    const { attempts } = effectiveAttempts(req);
    const message = `${attempts} wrong passphrase${attempts === 1 ? '' : 's'} (maxAttempts ${maxAttemptsOf(req.spec)}): no further attempts until the spec changes (seal the right passphrase again) or the annotation ${RESET_ANNOTATION} gets a new value`;
    return refuse(req, header, 'AttemptBudgetExhausted', message);
  }

  async function resolve(req: UnlockRequest, header: SealedHeader): Promise<ServerConnection | ReconcileResult> {
    try {
      return await deps.connections.resolve(req.spec.serverRef, req.metadata.namespace ?? 'default');
    } catch (err) {
      if (!(err instanceof ResolveError)) throw err;
      if (err.terminal) return refuse(req, header, err.reason, err.message);
      deps.onError?.(err.reason);
      await writeStatus(req, [{ type: 'Ready', status: 'False', reason: err.reason, message: err.message }], base(req, header));
      return { requeueAfterMs: lockedRequeueMs };
    }
  }

  /** The server's key status; undefined when it does not answer (status says so, and it is polled again soon). */
  async function probe(req: UnlockRequest, header: SealedHeader, connection: ServerConnection) {
    try {
      return await connection.client.keyStatus();
    } catch (err) {
      const failure = classifyUnlockFailure(err);
      deps.onError?.('ServerUnreachable');
      const message = `cannot read the server's key status: ${failure.message}`;
      await writeStatus(req, [{ type: 'Ready', status: 'False', reason: 'ServerUnreachable', message }, { type: 'Unlocked', status: 'Unknown', reason: 'ServerUnreachable', message }], base(req, header));
      return undefined;
    }
  }

  /** Pre-flight without decrypting: the kid must be a key this operator holds (re-read at most once a minute). */
  async function knowsKey(kid: string): Promise<boolean> {
    if (deps.keys.keys().some((k) => k.kid === kid)) return true;
    await deps.keys.refresh(SLOW_RETRY_MS);
    return deps.keys.keys().some((k) => k.kid === kid);
  }

  async function unlockedSteady(req: UnlockRequest, header: SealedHeader): Promise<ReconcileResult> {
    if (!(await knowsKey(header.kid))) {
      const message = `sealedKey was sealed to key ${header.kid}, which this operator does not hold (another cluster, or a sealing Secret that was replaced): it could not unlock the server`;
      if (await writeStatus(req, [{ type: 'Ready', status: 'False', reason: 'UnknownSealingKey', message }, UNLOCKED], { ...base(req, header), lastError: message })) await deps.events.emit(REF(req), 'Warning', 'UnknownSealingKey', message);
      return { requeueAfterMs: SLOW_RETRY_MS };
    }
    const previous = req.status?.conditions?.find((c) => c.type === 'Ready');
    // "Unlocked" (by this operator) stays until something else happens; otherwise someone else did it, or it never was locked.
    const ready: ConditionInput = previous?.status === 'True' && previous.reason === 'Unlocked' ? { type: 'Ready', status: 'True', reason: 'Unlocked', message: previous.message } : { type: 'Ready', status: 'True', reason: 'ServerUnlocked', message: 'the server is unlocked; the sealed key is bound to it and will be used when it reports locked' };
    await writeStatus(req, [ready, UNLOCKED], { ...base(req, header), pendingSince: null });
    return { requeueAfterMs: checkIntervalMs };
  }

  async function waitForApproval(req: UnlockRequest, header: SealedHeader): Promise<ReconcileResult> {
    const pendingSince = req.status?.pendingSince ?? iso();
    const name = req.metadata.name ?? '';
    const message = `the server is locked and requireApproval is set: approve this unlock with \`kubectl annotate unlockrequest -n ${req.metadata.namespace ?? 'default'} ${name} ${APPROVE_ANNOTATION}=${pendingSince} --overwrite\``;
    await writeStatus(req, [{ type: 'Ready', status: 'False', reason: 'WaitingForApproval', message }, LOCKED], { ...base(req, header), pendingSince });
    if (req.status?.pendingSince === undefined) await deps.events.emit(REF(req), 'Normal', 'ApprovalRequired', message);
    // The approval annotation enqueues this at once; the poll only notices a manual unlock meanwhile.
    return { requeueAfterMs: checkIntervalMs };
  }

  /** The server is locked: what the gate allows, on the object as the API server has it now. */
  async function whileLocked(cached: UnlockRequest, connection: ServerConnection, serverId: string): Promise<ReconcileResult | undefined> {
    const req = await deps.kube.get<UnlockRequest>(REF(cached));
    if (!req || req.metadata.deletionTimestamp) return undefined;
    const header = await headerOf(req);
    if (header.serverId !== serverId) return refuse(req, header, 'BindingMismatch', bindingMismatch(header, { serverId }) ?? '');
    const { attempts } = effectiveAttempts(req);
    const gate = gateOf(req, attempts, now());
    switch (gate.kind) {
      case 'exhausted':
        return exhausted(req, header);
      case 'suspended':
        await writeStatus(req, [{ type: 'Ready', status: 'False', reason: 'Suspended', message: 'the server is locked; spec.suspend is set, so the operator does not unlock it' }, LOCKED], base(req, header));
        return { requeueAfterMs: checkIntervalMs };
      case 'approval':
        return waitForApproval(req, header);
      case 'backoff':
        await writeStatus(req, [{ type: 'Ready', status: 'False', reason: 'BackingOff', message: `the server is locked; next attempt in ${seconds(gate.waitMs)} (attempt ${attempts + 1} of ${maxAttemptsOf(req.spec)})` }, LOCKED], base(req, header));
        return { requeueAfterMs: gate.waitMs };
      case 'go':
        return attempt(req, header, connection, serverId);
    }
  }

  /** Decrypts, re-reading the sealing keys once when the kid is unknown (a key added by another replica). */
  async function openSealed(req: UnlockRequest, serverId: string): Promise<Uint8Array> {
    const binding = { namespace: req.metadata.namespace ?? 'default', name: req.metadata.name ?? '', serverId };
    try {
      return await open(req.spec.sealedKey, deps.keys.keys(), binding);
    } catch (err) {
      if (!(err instanceof SealError) || err.reason !== 'UnknownSealingKey') throw err;
      await deps.keys.refresh(10_000);
      return open(req.spec.sealedKey, deps.keys.keys(), binding);
    }
  }

  async function attempt(req: UnlockRequest, header: SealedHeader, connection: ServerConnection, serverId: string): Promise<ReconcileResult | undefined> {
    let plaintext: Uint8Array;
    try {
      plaintext = await openSealed(req, serverId);
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      if (err.reason !== 'UnknownSealingKey') return refuse(req, header, err.reason, err.message);
      // Not terminal: restoring the sealing Secret from a backup fixes it without touching this object.
      deps.onError?.(err.reason);
      if (await writeStatus(req, [{ type: 'Ready', status: 'False', reason: err.reason, message: err.message }, LOCKED], { ...base(req, header), lastError: err.message })) await deps.events.emit(REF(req), 'Warning', err.reason, err.message);
      return { requeueAfterMs: SLOW_RETRY_MS };
    }
    const at = iso();
    try {
      await connection.client.unlock(new TextDecoder().decode(plaintext));
    } catch (err) {
      return await failed(req, header, at, err);
    } finally {
      plaintext.fill(0);
    }
    deps.onAttempt?.('unlocked');
    const message = `unlocked ${connection.key} (server ${serverId}) with the passphrase sealed to key ${header.kid}`;
    await writeStatus(req, [{ type: 'Ready', status: 'True', reason: 'Unlocked', message }, UNLOCKED], { ...base(req, header), attempts: 0, lastAttemptTime: at, lastUnlockTime: at, lastError: null, pendingSince: null });
    await deps.events.emit(REF(req), 'Normal', 'Unlocked', message);
    deps.connections.setLocked(connection.key, false);
    return { requeueAfterMs: checkIntervalMs };
  }

  async function failed(req: UnlockRequest, header: SealedHeader, at: string, err: unknown): Promise<ReconcileResult> {
    const failure = classifyUnlockFailure(err);
    if (failure.kind === 'wrong') return wrongPassphrase(req, header, at);
    deps.onAttempt?.('failed');
    deps.onError?.(failure.reason);
    const message = `unlock failed: ${failure.message}`;
    if (await writeStatus(req, [{ type: 'Ready', status: 'False', reason: failure.reason, message }, LOCKED], { ...base(req, header), lastError: message })) await deps.events.emit(REF(req), 'Warning', failure.reason, message);
    return { requeueAfterMs: failure.kind === 'unreachable' ? lockedRequeueMs : SLOW_RETRY_MS };
  }

  async function wrongPassphrase(req: UnlockRequest, header: SealedHeader, at: string): Promise<ReconcileResult> {
    deps.onAttempt?.('wrong_passphrase');
    deps.onError?.('WrongPassphrase');
    const attempts = effectiveAttempts(req).attempts + 1;
    const max = maxAttemptsOf(req.spec);
    const patch = { ...base(req, header), attempts, lastAttemptTime: at };
    if (attempts >= max) {
      const message = `pika rejected the passphrase ${attempts} time${attempts === 1 ? '' : 's'} (maxAttempts ${max}): no further attempts until the spec changes or the annotation ${RESET_ANNOTATION} gets a new value`;
      await writeStatus(req, [{ type: 'Ready', status: 'False', reason: 'AttemptBudgetExhausted', message }, LOCKED], { ...patch, lastError: `wrong passphrase (attempt ${attempts} of ${max})` });
      await deps.events.emit(REF(req), 'Warning', 'AttemptBudgetExhausted', message);
      throw new TerminalError('AttemptBudgetExhausted', message);
    }
    const wait = backoffMs(req.spec, attempts);
    const message = `pika rejected the passphrase (attempt ${attempts} of ${max}); next attempt in ${seconds(wait)}`;
    await writeStatus(req, [{ type: 'Ready', status: 'False', reason: 'WrongPassphrase', message }, LOCKED], { ...patch, lastError: `wrong passphrase (attempt ${attempts} of ${max})` });
    await deps.events.emit(REF(req), 'Warning', 'WrongPassphrase', message);
    return { requeueAfterMs: wait };
  }

  async function reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const req = deps.requests.get(name, namespace);
    if (!req || req.metadata.deletionTimestamp) return undefined;
    const header = await headerOf(req);
    if (effectiveAttempts(req).attempts >= maxAttemptsOf(req.spec)) return exhausted(req, header);
    const connection = await resolve(req, header);
    if (!('client' in connection)) return connection;
    const state = await probe(req, header, connection);
    if (!state) return { requeueAfterMs: lockedRequeueMs };
    if (!state.initialized) {
      await writeStatus(req, [{ type: 'Ready', status: 'False', reason: 'NotInitialized', message: 'the server key has not been initialized: there is nothing to unlock' }, { type: 'Unlocked', status: 'False', reason: 'NotInitialized', message: 'no server key' }], base(req, header));
      return { requeueAfterMs: checkIntervalMs };
    }
    deps.connections.setLocked(connection.key, !state.unlocked);
    if (state.server_id === undefined) {
      await writeStatus(req, [{ type: 'Ready', status: 'False', reason: 'ServerIdUnknown', message: 'the server does not report a server_id (too old a pika?): the binding cannot be checked' }], base(req, header));
      return { requeueAfterMs: SLOW_RETRY_MS };
    }
    if (header.serverId !== state.server_id) return refuse(req, header, 'BindingMismatch', bindingMismatch(header, { serverId: state.server_id }) ?? '');
    if (state.unlocked) return unlockedSteady(req, header);
    return whileLocked(req, connection, state.server_id);
  }

  return { reconcile };
}
