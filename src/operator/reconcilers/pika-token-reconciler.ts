import type { V1Secret } from '@kubernetes/client-node';
import type { PikaToken, PikaTokenStatus } from '../../shared/crds/index.ts';
import { PIKA_TOKEN_RESOURCE } from '../../shared/crds/index.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Kube } from '../kube/kube.ts';
import { type ReconcileResult, TerminalError } from '../runtime/controller.ts';
import { ResolveError, type ServerConnection, type ServerConnections } from '../servers/server-connections.ts';
import { type ConditionInput, sameConditions, setConditions } from '../sync/conditions.ts';
import {
  buildTokenSecret,
  claimOfSecret,
  classifyFailure,
  FINALIZER,
  holdsValidToken,
  type MintReason,
  planToken,
  renewBeforeOf,
  requeueAfter,
  specProblem,
  TOKEN_ID_ANNOTATION,
  TOKEN_OWNER_ANNOTATION,
  type TokenPlan,
  tokenNameOf,
  ttlOf,
} from './token-plan.ts';

/**
 * Reconciles one PikaToken by key (`namespace/name`), level-based (SPEC §13.1): mint a scoped,
 * expiring pika token into the target Secret, renew it before it expires, revoke it on delete.
 *
 * A new token is minted when there is none yet, when the spec changed since the current one was
 * minted (`status.observedGeneration` is the generation the current token reflects), when the
 * renewal is due (`expiresAt - renewBefore`, renewBefore defaulting to ttl/3, so at ~2/3 of the
 * lifetime, the controller adding jitter), or when the Secret lost the token (deleted, key
 * removed, or holding another token than status says): the raw key is never stored anywhere but
 * the Secret, so the only repair is a fresh token.
 *
 * Safety rules, each with a test:
 * - consumers never see a revoked token: the previous token is revoked only after the Secret
 *   holds the new one;
 * - a locked server changes nothing: the Secret keeps its token, the finalizer stays, and the
 *   key is retried; so does any other failure — nothing is ever blanked or deleted;
 * - an existing Secret not annotated for this PikaToken is never overwritten (TargetConflict);
 * - deletion is never stuck on a server that is gone: a serverRef that no longer resolves lets the
 *   finalizer go with a Warning (the token then simply expires at its expiresAt);
 * - the raw key goes into the Secret and nowhere else: not status, Events, errors or logs.
 */

export interface PikaTokenReconcilerDeps {
  readonly tokens: { get(name: string, namespace?: string): PikaToken | undefined };
  readonly connections: Pick<ServerConnections, 'resolve' | 'setLocked'>;
  readonly kube: Kube;
  readonly events: Pick<EventRecorder, 'emit'>;
  readonly onError?: (reason: string) => void;
  readonly now?: () => number;
  /** Requeue while the server is locked (the unlock event normally comes first). */
  readonly lockedRequeueMs?: number;
}

const WHY: Record<MintReason, string> = {
  Initial: 'first token',
  SpecChanged: 'the spec changed',
  SecretMissing: 'the Secret or its key was missing',
  SecretChanged: 'the Secret held another token than status names',
  Expired: 'the token had expired',
  RenewalDue: 'renewal due',
};

// ---------------------------------------------------------------------------------------------

const REF = (token: PikaToken) => ({ apiVersion: PIKA_TOKEN_RESOURCE.apiVersion, kind: PIKA_TOKEN_RESOURCE.kind, name: token.metadata.name ?? '', namespace: token.metadata.namespace ?? 'default', uid: token.metadata.uid });
const secretRef = (token: PikaToken) => ({ apiVersion: 'v1', kind: 'Secret', name: token.spec.target.name, namespace: token.metadata.namespace ?? 'default' });

export function createPikaTokenReconciler(deps: PikaTokenReconcilerDeps) {
  const now = deps.now ?? Date.now;
  const lockedRequeueMs = deps.lockedRequeueMs ?? 30_000;

  async function writeStatus(token: PikaToken, ready: ConditionInput, extra: Partial<PikaTokenStatus> = {}): Promise<void> {
    const conditions = setConditions(token.status?.conditions, [ready], token.metadata.generation, new Date(now()));
    const changed = Object.entries(extra).some(([k, v]) => (token.status as Record<string, unknown> | undefined)?.[k] !== v);
    if (!changed && sameConditions(token.status?.conditions, conditions)) return;
    await deps.kube.patchStatus(REF(token), { ...extra, conditions });
  }

  /** A failure that changes nothing but status: Ready says whether the Secret still holds a valid token. */
  async function fail(token: PikaToken, secret: V1Secret | undefined, reason: string, message: string): Promise<void> {
    deps.onError?.(reason);
    const valid = holdsValidToken(token, secret, now());
    const held = valid ? `; the Secret keeps token ${token.status?.tokenId ?? ''}, valid until ${token.status?.expiresAt ?? ''}` : '';
    await writeStatus(token, { type: 'Ready', status: valid ? 'True' : 'False', reason, message: `${message}${held}` });
    await deps.events.emit(REF(token), 'Warning', reason, message);
  }

  async function setFinalizers(token: PikaToken, finalizers: string[]): Promise<void> {
    // A merge patch replaces the list: send all of it, with the resourceVersion it was read at.
    // name/namespace are repeated because Kube.mergePatch spreads the patch over the object header.
    const ref = REF(token);
    await deps.kube.mergePatch(ref, { metadata: { name: ref.name, namespace: ref.namespace, finalizers, ...(token.metadata.resourceVersion ? { resourceVersion: token.metadata.resourceVersion } : {}) } });
  }

  async function resolve(token: PikaToken, secret: V1Secret | undefined): Promise<ServerConnection> {
    try {
      return await deps.connections.resolve(token.spec.serverRef, token.metadata.namespace ?? 'default');
    } catch (err) {
      if (!(err instanceof ResolveError)) throw err;
      await fail(token, secret, err.reason, err.message);
      if (err.terminal) throw new TerminalError(err.reason, err.message);
      throw err;
    }
  }

  /** Token ids this PikaToken may still have live on the server: status's and the Secret's. */
  function liveIds(token: PikaToken, secret: V1Secret | undefined): string[] {
    const fromSecret = claimOfSecret(secret, token) === 'ours' ? secret?.metadata?.annotations?.[TOKEN_ID_ANNOTATION] : undefined;
    return [...new Set([token.status?.tokenId, fromSecret].filter((id): id is string => Boolean(id)))];
  }

  async function finalize(token: PikaToken): Promise<ReconcileResult | undefined> {
    const finalizers = token.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return undefined;
    const secret = await deps.kube.get<V1Secret>(secretRef(token));
    const ids = liveIds(token, secret);
    const remaining = finalizers.filter((f) => f !== FINALIZER);
    if (ids.length === 0) {
      await setFinalizers(token, remaining);
      return undefined;
    }
    let connection: ServerConnection;
    try {
      connection = await deps.connections.resolve(token.spec.serverRef, token.metadata.namespace ?? 'default');
    } catch (err) {
      if (!(err instanceof ResolveError)) throw err;
      // The server object (or its access) is gone: waiting for it could block the deletion for ever.
      deps.onError?.(err.reason);
      await deps.events.emit(REF(token), 'Warning', 'RevokeSkipped', `token ${ids.join(', ')} not revoked (${err.message}); it stays valid until ${token.status?.expiresAt ?? 'its expiry'}`);
      await setFinalizers(token, remaining);
      return undefined;
    }
    try {
      for (const id of ids) await connection.client.revokeToken(id);
    } catch (err) {
      const failure = classifyFailure(err);
      if (failure.locked) deps.connections.setLocked(connection.key, true);
      deps.onError?.(failure.reason);
      const message = `cannot revoke token ${ids.join(', ')}: ${failure.message}; the finalizer stays until it is revoked`;
      await writeStatus(token, { type: 'Ready', status: 'False', reason: failure.reason, message });
      await deps.events.emit(REF(token), 'Warning', failure.reason, message);
      if (failure.locked) return { requeueAfterMs: lockedRequeueMs };
      throw new Error(`${failure.reason}: ${failure.message}`);
    }
    deps.connections.setLocked(connection.key, false);
    await deps.events.emit(REF(token), 'Normal', 'Revoked', `revoked token ${ids.join(', ')}`);
    await setFinalizers(token, remaining);
    return undefined;
  }

  /** Nothing to mint: Ready as it is, and look again when the renewal is due. */
  async function steady(token: PikaToken, plan: TokenPlan): Promise<ReconcileResult> {
    const t = now();
    const expiresAt = Date.parse(token.status?.expiresAt ?? '');
    const previous = token.status?.conditions?.find((c) => c.type === 'Ready');
    const reason = previous?.status === 'True' && previous.reason === 'Renewed' ? 'Renewed' : 'Minted';
    await writeStatus(token, { type: 'Ready', status: 'True', reason, message: readyMessage(token, token.status?.tokenId ?? '', token.status?.expiresAt ?? '') });
    return { requeueAfterMs: requeueAfter(plan.renewAtMs ?? t, expiresAt, t) };
  }

  function readyMessage(token: PikaToken, id: string, expiresAt: string): string {
    return `Secret ${token.spec.target.name} holds token ${id}, valid until ${expiresAt}`;
  }

  async function mint(token: PikaToken, connection: ServerConnection, secret: V1Secret | undefined, why: MintReason): Promise<ReconcileResult> {
    const spec = token.spec;
    const started = now();
    const ttl = ttlOf(spec);
    let minted: { id: string; raw_key: string; expires_at?: string };
    try {
      minted = await connection.client.createToken({
        name: tokenNameOf(token.metadata.namespace ?? 'default', token.metadata.name ?? ''),
        scopes: (spec.scopes ?? []).map((s) => ({ path: s.path, operations: [...s.operations], ...(s.resource ? { resource: s.resource } : {}) })),
        ...((spec.capabilities ?? []).length > 0 ? { capabilities: [...(spec.capabilities ?? [])] } : {}),
        expires_at: new Date(started + ttl).toISOString(),
      });
    } catch (err) {
      return mintFailed(token, connection, secret, err);
    }
    deps.connections.setLocked(connection.key, false);
    const expiresAt = minted.expires_at ?? new Date(started + ttl).toISOString();
    await writeSecret(token, connection, minted);
    const verb = why === 'RenewalDue' ? 'Renewed' : 'Minted';
    const message = readyMessage(token, minted.id, expiresAt);
    await writeStatus(token, { type: 'Ready', status: 'True', reason: verb, message }, {
      tokenId: minted.id,
      expiresAt,
      lastRenewTime: new Date(started).toISOString(),
      ...(token.metadata.generation === undefined ? {} : { observedGeneration: token.metadata.generation }),
    });
    await deps.events.emit(REF(token), 'Normal', verb, `${verb.toLowerCase()} token ${minted.id} into Secret ${spec.target.name} (${WHY[why]}), expires ${expiresAt}`);
    // Only now that the Secret holds the new token: consumers never read a revoked one.
    await revokePrevious(token, connection, liveIds(token, secret).filter((id) => id !== minted.id));
    const expiresMs = Date.parse(expiresAt);
    return { requeueAfterMs: requeueAfter(expiresMs - renewBeforeOf(spec), expiresMs, now()) };
  }

  async function writeSecret(token: PikaToken, connection: ServerConnection, minted: { id: string; raw_key: string }): Promise<void> {
    try {
      await deps.kube.apply(buildTokenSecret(token, minted.id, minted.raw_key));
    } catch (err) {
      // The new token reached no one: revoke it rather than leave it live, and keep the raw key out of the error.
      await connection.client.revokeToken(minted.id).catch(() => undefined);
      const message = (err instanceof Error ? err.message : String(err)).replaceAll(minted.raw_key, '[token]').replaceAll(Buffer.from(minted.raw_key).toString('base64'), '[token]');
      throw new Error(`writing Secret ${token.spec.target.name} failed: ${message}`);
    }
  }

  async function revokePrevious(token: PikaToken, connection: ServerConnection, ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      try {
        await connection.client.revokeToken(id);
        await deps.events.emit(REF(token), 'Normal', 'Revoked', `revoked the previous token ${id}`);
      } catch (err) {
        const failure = classifyFailure(err);
        deps.onError?.('RevokeFailed');
        await deps.events.emit(REF(token), 'Warning', 'RevokeFailed', `could not revoke the previous token ${id} (${failure.message}); it stays valid until it expires`);
      }
    }
  }

  async function mintFailed(token: PikaToken, connection: ServerConnection, secret: V1Secret | undefined, err: unknown): Promise<ReconcileResult> {
    const failure = classifyFailure(err);
    if (failure.locked) {
      deps.connections.setLocked(connection.key, true);
      await fail(token, secret, 'ServerLocked', 'the pika server is locked: no token can be minted until it is unlocked');
      return { requeueAfterMs: lockedRequeueMs };
    }
    await fail(token, secret, failure.reason, `cannot mint the token: ${failure.message}`);
    if (failure.terminal) throw new TerminalError(failure.reason, failure.message);
    throw new Error(`${failure.reason}: ${failure.message}`);
  }

  async function ensureFinalizer(token: PikaToken): Promise<void> {
    const finalizers = token.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) await setFinalizers(token, [...finalizers, FINALIZER]);
  }

  async function ensure(cached: PikaToken): Promise<ReconcileResult | undefined> {
    const problem = specProblem(cached.spec);
    const secret = await deps.kube.get<V1Secret>(secretRef(cached));
    if (problem !== undefined) {
      await fail(cached, secret, 'InvalidSpec', problem);
      throw new TerminalError('InvalidSpec', problem);
    }
    if (claimOfSecret(secret, cached) === 'other') {
      const owner = secret?.metadata?.annotations?.[TOKEN_OWNER_ANNOTATION];
      const message = `Secret ${cached.spec.target.name} exists and ${owner ? `belongs to PikaToken ${owner}` : 'is not managed by this PikaToken'}: delete it or choose another target.name`;
      await fail(cached, secret, 'TargetConflict', message);
      throw new TerminalError('TargetConflict', message);
    }
    let plan = planToken(cached, secret, now());
    if (plan.mint === undefined) return steady(cached, plan);
    // About to mint: make sure the decision was not taken on a stale cache (our own last status write).
    const token = await deps.kube.get<PikaToken>(REF(cached));
    if (!token) return undefined;
    if (token.metadata.deletionTimestamp) return finalize(token);
    plan = planToken(token, secret, now());
    if (plan.mint === undefined) return steady(token, plan);
    const connection = await resolve(token, secret);
    await ensureFinalizer(token);
    return mint(token, connection, secret, plan.mint);
  }

  async function reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const token = deps.tokens.get(name, namespace);
    if (!token) return undefined;
    if (token.metadata.deletionTimestamp) return finalize(token);
    return ensure(token);
  }

  return { reconcile };
}
