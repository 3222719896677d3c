import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../../shared/errors.ts';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import type { Store } from '../../storage/store.ts';
import { isStoreConflict } from '../../storage/store.ts';

/** What the server remembers between sending a browser to the IdP and its return. */
export interface PendingFlow {
  readonly provider: string;
  /** The redirect_uri sent to the IdP; the token request must repeat it exactly. */
  readonly redirect_uri: string;
  readonly return_to: string;
  /** PKCE verifier (absent with `disable_pkce`). */
  readonly code_verifier?: string | undefined;
  /** OIDC nonce (absent for plain OAuth2). */
  readonly nonce?: string | undefined;
  /** SHA-256 of the browser-binding cookie that started the flow. */
  readonly browser: string;
}

interface StoredFlow extends Partial<PendingFlow> {
  readonly expires_at: number;
  /** A consumed flow stays as a tombstone until it expires, so a replay is told apart from noise. */
  readonly used?: boolean;
}

export type FlowRefusal = 'state_unknown' | 'state_expired' | 'state_replayed' | 'provider_mismatch' | 'browser_mismatch';
export type FlowOutcome = { readonly ok: true; readonly flow: PendingFlow } | { readonly ok: false; readonly reason: FlowRefusal };

export type FlowStore = ReturnType<typeof createFlowStore>;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * Pending OAuth2 sign-ins (`id/oauthstate/<sha256(state)>`): short-lived, single use, bound to
 * the browser that started them. Only the hash of `state` is a key, so reading the store does not
 * reveal a live state. Expired records are pruned lazily (at most once a minute, on start), and
 * the number of pending flows is capped so anonymous starts cannot fill the store.
 */
export function createFlowStore(deps: { readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>; readonly clock: () => number; readonly ttlMs?: number; readonly maxPending?: number }) {
  const { store, clock } = deps;
  const ttlMs = deps.ttlMs ?? 10 * 60_000;
  const maxPending = deps.maxPending ?? 10_000;
  let lastPrune = -Infinity;
  let pending = 0;

  /** Stores a new flow bound to the browser holding `browserCookie`; returns its `state` (32 random bytes, base64url). */
  async function save(flow: Omit<PendingFlow, 'browser'>, browserCookie: string): Promise<string> {
    if (clock() - lastPrune >= 60_000 || pending >= maxPending) await prune();
    if (pending >= maxPending) throw new AppError('ERR_RATE_LIMITED', 'too many sign-ins are in progress; retry in a few minutes', { headers: { 'retry-after': '60' } });
    const state = randomBytes(32).toString('base64url');
    const record: StoredFlow = { ...flow, browser: sha256(browserCookie), expires_at: clock() + ttlMs };
    await store.batch([{ type: 'put', key: identityKeys.oauthState(sha256(state)), value: encodeJson(record) }], [{ key: identityKeys.oauthState(sha256(state)), revision: 0 }]);
    pending++;
    return state;
  }

  /**
   * Takes the flow for a returning browser, exactly once. A wrong browser or provider does not
   * consume it: whoever replays a stolen callback URL must not be able to burn the real user's
   * sign-in. Everything else (success, expiry) ends the flow.
   */
  async function consume(state: string, provider: string, browserCookie: string | undefined): Promise<FlowOutcome> {
    const key = identityKeys.oauthState(sha256(state));
    const entry = await store.get(key);
    if (!entry) return { ok: false, reason: 'state_unknown' };
    const record = decodeJson<StoredFlow>(entry.value);
    if (record.used) return { ok: false, reason: 'state_replayed' };
    if (record.expires_at <= clock()) {
      await store.batch([{ type: 'del', key }]);
      return { ok: false, reason: 'state_expired' };
    }
    if (record.provider !== provider) return { ok: false, reason: 'provider_mismatch' };
    if (browserCookie === undefined || record.browser === undefined || !sameHash(sha256(browserCookie), record.browser)) return { ok: false, reason: 'browser_mismatch' };
    const tombstone: StoredFlow = { provider, expires_at: record.expires_at, used: true };
    try {
      await store.batch([{ type: 'put', key, value: encodeJson(tombstone) }], [{ key, revision: entry.revision }]);
    } catch (err) {
      // Two requests with the same callback URL raced: only the first one signs in.
      if (isStoreConflict(err)) return { ok: false, reason: 'state_replayed' };
      throw err;
    }
    return { ok: true, flow: record as StoredFlow & PendingFlow };
  }

  /** Deletes expired flows and tombstones; recounts what is pending. */
  async function prune(): Promise<number> {
    const now = clock();
    lastPrune = now;
    const doomed: string[] = [];
    let live = 0;
    for await (const item of store.iterate(identityKeys.oauthStatePrefix)) {
      const record = decodeJson<StoredFlow>(item.value);
      if (record.expires_at <= now) doomed.push(item.key);
      else if (!record.used) live++;
    }
    for (let i = 0; i < doomed.length; i += 500) await store.batch(doomed.slice(i, i + 500).map((key) => ({ type: 'del' as const, key })));
    pending = live;
    return doomed.length;
  }

  return { save, consume, prune };
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
