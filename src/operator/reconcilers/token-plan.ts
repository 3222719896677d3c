import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { PikaToken, PikaTokenSpec } from '../../shared/crds/index.ts';
import { PIKA_TOKEN_RESOURCE } from '../../shared/crds/index.ts';
import { parseDuration } from '../../shared/duration.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../kube/informers.ts';
import { PikaError } from '../pika/pika-client.ts';

/**
 * The pure decisions of a PikaToken (no I/O, unit-tested in token-plan.test.ts): when a token is
 * due (renewal at `expiresAt - renewBefore`, renewBefore defaulting to ttl/3), why a new one is
 * minted, how long to wait, its name on the server, the Secret that holds it, and what a failed
 * pika call means. The reconciler (pika-token-reconciler.ts) does the I/O around them.
 */

export const FINALIZER = 'pika.io/revoke-token';
/** Names the PikaToken a Secret belongs to (and marks it as ours: anything else is a conflict). */
export const TOKEN_OWNER_ANNOTATION = 'pika.io/pikatoken';
/** The server-side id of the token the Secret holds (never the token): detects a Secret out of step with status. */
export const TOKEN_ID_ANNOTATION = 'pika.io/token-id';

const DEFAULT_TTL = '24h';
const MIN_REQUEUE_MS = 1_000;
/** A token is never renewed later than this share of its lifetime is left (guards a renewBefore close to ttl). */
const MAX_RENEW_SHARE = 0.9;
/** Share of the remaining lifetime a requeue may wait at most, so the controller's jitter cannot carry it past expiry. */
const REQUEUE_SHARE_OF_REMAINING = 0.85;
const TOKEN_NAME_MAX = 128;

/** Why a new token is minted; undefined: the current one is fine. */
export type MintReason = 'Initial' | 'SpecChanged' | 'SecretMissing' | 'SecretChanged' | 'Expired' | 'RenewalDue';

export interface TokenPlan {
  readonly mint: MintReason | undefined;
  /** When the current token is due for renewal (epoch ms); undefined without one. */
  readonly renewAtMs: number | undefined;
}

// ---------------------------------------------------------------------------------------------
// Pure parts: durations, schedule, decisions, names, the Secret. Unit-tested directly.

/** Lifetime of each minted token, in ms. */
export function ttlOf(spec: PikaTokenSpec): number {
  return parseDuration(spec.ttl ?? DEFAULT_TTL);
}

/** How long before expiry the token is renewed: spec.renewBefore, else ttl/3; at most 90% of ttl. */
export function renewBeforeOf(spec: PikaTokenSpec): number {
  const ttl = ttlOf(spec);
  const wanted = spec.renewBefore === undefined ? ttl / 3 : parseDuration(spec.renewBefore);
  return Math.min(Math.max(wanted, 0), ttl * MAX_RENEW_SHARE);
}

export function targetKeyOf(spec: PikaTokenSpec): string {
  return spec.target.key ?? 'token';
}

/** Who a Secret of that name belongs to: only `absent` and `ours` may be written. */
export function claimOfSecret(secret: V1Secret | undefined, token: PikaToken): 'absent' | 'ours' | 'other' {
  if (!secret) return 'absent';
  return secret.metadata?.annotations?.[TOKEN_OWNER_ANNOTATION] === token.metadata.name ? 'ours' : 'other';
}

/** True when the Secret holds the token status names (not necessarily unexpired). */
function secretHoldsCurrent(token: PikaToken, secret: V1Secret | undefined): boolean {
  const id = token.status?.tokenId;
  return id !== undefined && claimOfSecret(secret, token) === 'ours' && Boolean(secret?.data?.[targetKeyOf(token.spec)]) && secret?.metadata?.annotations?.[TOKEN_ID_ANNOTATION] === id;
}

/** The Secret holds a valid, unexpired token (what Ready means). */
export function holdsValidToken(token: PikaToken, secret: V1Secret | undefined, now: number): boolean {
  const expiresAt = Date.parse(token.status?.expiresAt ?? '');
  return secretHoldsCurrent(token, secret) && Number.isFinite(expiresAt) && now < expiresAt;
}

/** Whether to mint now, and when the current token is due. */
export function planToken(token: PikaToken, secret: V1Secret | undefined, now: number): TokenPlan {
  const status = token.status;
  if (!status?.tokenId || !status.expiresAt) return { mint: 'Initial', renewAtMs: undefined };
  const expiresAt = Date.parse(status.expiresAt);
  const renewAtMs = expiresAt - renewBeforeOf(token.spec);
  return { mint: mintReasonOf(token, secret, now, renewAtMs), renewAtMs: Number.isFinite(renewAtMs) ? renewAtMs : undefined };
}

function mintReasonOf(token: PikaToken, secret: V1Secret | undefined, now: number, renewAtMs: number): MintReason | undefined {
  const status = token.status ?? {};
  const generation = token.metadata.generation;
  const expiresAt = Date.parse(status.expiresAt ?? '');
  if (generation !== undefined && status.observedGeneration !== generation) return 'SpecChanged';
  if (!secret?.data?.[targetKeyOf(token.spec)]) return 'SecretMissing';
  if (secret.metadata?.annotations?.[TOKEN_ID_ANNOTATION] !== status.tokenId) return 'SecretChanged';
  if (!Number.isFinite(expiresAt) || now >= expiresAt) return 'Expired';
  if (now >= renewAtMs) return 'RenewalDue';
  return undefined;
}

/** How long to wait before looking again: until the renewal, but never so long that jitter could pass the expiry. */
export function requeueAfter(renewAtMs: number, expiresAtMs: number, now: number): number {
  const untilRenewal = renewAtMs - now;
  const cap = (expiresAtMs - now) * REQUEUE_SHARE_OF_REMAINING;
  return Math.max(MIN_REQUEUE_MS, Math.round(Math.min(untilRenewal, cap)));
}

/** The name of the token on the server: `k8s/<namespace>/<name>`, shortened with a hash past 128 characters. */
export function tokenNameOf(namespace: string, name: string): string {
  const full = `k8s/${namespace}/${name}`;
  if (full.length <= TOKEN_NAME_MAX) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 10);
  return `${full.slice(0, TOKEN_NAME_MAX - hash.length - 1)}~${hash}`;
}

/**
 * Spec checks pika would refuse anyway, stated in the CRD's terms. `files.read`/`files.write`
 * are in the CRD's capability enum but pika grants file access only through scopes (a token-wide
 * files.read would be the opposite of least privilege), so they are rejected with a pointer to
 * `scopes` rather than silently dropped (the token would not do what the object says) or widened
 * into a `**` scope.
 */
export function specProblem(spec: PikaTokenSpec): string | undefined {
  const fileCaps = (spec.capabilities ?? []).filter((c) => c === 'files.read' || c === 'files.write');
  if (fileCaps.length > 0)
    return `capabilities ${fileCaps.join(', ')}: pika grants file access through scopes, not capabilities; use e.g. scopes: [{path: "myapp/**", operations: [read${fileCaps.includes('files.write') ? ', write' : ''}]}]`;
  if ((spec.scopes ?? []).length === 0 && (spec.capabilities ?? []).length === 0) return 'a token needs at least one scope or capability';
  try {
    ttlOf(spec);
    if (spec.renewBefore !== undefined) parseDuration(spec.renewBefore);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** The Secret as the exact field set the operator owns (server-side apply). */
export function buildTokenSecret(token: PikaToken, tokenId: string, rawKey: string): V1Secret {
  const target = token.spec.target;
  const name = token.metadata.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: target.name,
      namespace: token.metadata.namespace ?? 'default',
      labels: { ...(target.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: { ...(target.annotations ?? {}), [TOKEN_OWNER_ANNOTATION]: name, [TOKEN_ID_ANNOTATION]: tokenId },
      ownerReferences: [{ apiVersion: PIKA_TOKEN_RESOURCE.apiVersion, kind: PIKA_TOKEN_RESOURCE.kind, name, uid: token.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    type: 'Opaque',
    data: { [targetKeyOf(token.spec)]: Buffer.from(rawKey, 'utf8').toString('base64') },
  };
}

/** What a failed pika call means for the PikaToken. */
export function classifyFailure(err: unknown): { reason: string; message: string; locked: boolean; terminal: boolean } {
  if (err instanceof PikaError) {
    if (err.code === 'server_locked') return { reason: 'ServerLocked', message: 'the pika server is locked', locked: true, terminal: false };
    const detail = `pika answered ${err.status} ${err.code}: ${err.message}`;
    if (err.status === 400) return { reason: 'InvalidSpec', message: detail, locked: false, terminal: true };
    if (err.status === 401) return { reason: 'Unauthorized', message: `${detail} (the PikaServer's token was not accepted)`, locked: false, terminal: false };
    if (err.status === 403) return { reason: 'Forbidden', message: `${detail} (the PikaServer's token needs tokens.manage and every capability requested here)`, locked: false, terminal: false };
    return { reason: 'ServerError', message: detail, locked: false, terminal: false };
  }
  return { reason: 'ServerUnreachable', message: err instanceof Error ? err.message : String(err), locked: false, terminal: false };
}

