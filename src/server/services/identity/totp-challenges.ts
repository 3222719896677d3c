import { createHash, randomBytes } from 'node:crypto';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import { isStoreConflict, type Store } from '../../storage/store.ts';
import { nowIso } from './identity-records.ts';
import { type AcceptedCode, acceptCode, codeMethod, type CodeMethod, type TotpService } from './totp-service.ts';

/**
 * Half-finished sign-ins (upstream-pika.md §1.2): the password was right and the account wants a
 * second factor. Upstream kept them in memory; here they live in the store so phase two may land
 * on another replica (SPEC §15). The client holds a random id; the store keys only its SHA-256,
 * so a copy of the database cannot finish anybody's sign-in. Single use, five minutes, five
 * wrong codes.
 */
export const CHALLENGE_TTL_MS = 5 * 60_000;
export const CHALLENGE_MAX_FAILURES = 5;

/** What a strategy learned with the password and wants on the session (external groups, subject). */
export interface ChallengeSessionMeta {
  readonly roles?: string[] | undefined;
  readonly subject?: string | undefined;
}

export interface TotpChallengeRecord {
  user_id: string;
  /** The strategy that checked the password; phase two must be posted to the same one. */
  strategy: string;
  created_at: string;
  expires_at: string;
  failures: number;
  session?: ChallengeSessionMeta | undefined;
}

export type RedeemOutcome =
  | { readonly kind: 'unknown' }
  /** Two-factor sign-in was turned off (admin reset) after the password was checked. */
  | { readonly kind: 'not_enrolled'; readonly challenge: TotpChallengeRecord }
  | { readonly kind: 'wrong'; readonly challenge: TotpChallengeRecord; readonly method: CodeMethod; readonly attemptsLeft: number }
  | { readonly kind: 'ok'; readonly challenge: TotpChallengeRecord; readonly accepted: AcceptedCode };

export type TotpChallenges = ReturnType<typeof createTotpChallenges>;

const keyOf = (id: string) => identityKeys.totpChallenge(createHash('sha256').update(id).digest('hex'));

export function createTotpChallenges(deps: { readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>; readonly clock: () => number; readonly totp: Pick<TotpService, 'read'> }) {
  const { store, clock } = deps;

  async function load(id: string): Promise<{ record: TotpChallengeRecord; revision: number } | undefined> {
    const entry = await store.get(keyOf(id));
    if (!entry) return undefined;
    const record = decodeJson<TotpChallengeRecord>(entry.value);
    if (Date.parse(record.expires_at) > clock()) return { record, revision: entry.revision };
    await store.batch([{ type: 'del', key: keyOf(id) }], [{ key: keyOf(id), revision: entry.revision }]).catch(ignoreConflict);
    return undefined;
  }

  async function create(userId: string, strategy: string, session?: ChallengeSessionMeta): Promise<{ id: string; expiresInSeconds: number }> {
    const id = randomBytes(32).toString('base64url');
    const record: TotpChallengeRecord = { user_id: userId, strategy, created_at: nowIso(clock), expires_at: new Date(clock() + CHALLENGE_TTL_MS).toISOString(), failures: 0, session };
    await store.batch([{ type: 'put', key: keyOf(id), value: encodeJson(record) }]);
    return { id, expiresInSeconds: CHALLENGE_TTL_MS / 1000 };
  }

  /** The live challenge for an id, without touching it (the caller rate-limits by its user first). */
  async function peek(id: string): Promise<TotpChallengeRecord | undefined> {
    return (await load(id))?.record;
  }

  /**
   * Checks a code for a challenge. Accepting writes the user's TOTP record (replay guard, spent
   * recovery code) and deletes the challenge in one conditional batch, so two concurrent
   * submissions cannot both sign in; the loser re-reads and finds the challenge gone.
   */
  async function redeem(id: string, code: string): Promise<RedeemOutcome> {
    for (let tries = 0; ; tries++) {
      const loaded = await load(id);
      if (!loaded) return { kind: 'unknown' };
      const { record: challenge, revision } = loaded;
      const key = keyOf(id);
      const { record: totp, revision: totpRevision } = await deps.totp.read(challenge.user_id);
      try {
        if (!totp?.enabled) {
          await store.batch([{ type: 'del', key }], [{ key, revision }]);
          return { kind: 'not_enrolled', challenge };
        }
        const result = acceptCode(challenge.user_id, totp, code, clock());
        if (result) {
          const totpKey = identityKeys.totp(challenge.user_id);
          await store.batch([{ type: 'put', key: totpKey, value: encodeJson(result.next) }, { type: 'del', key }], [{ key, revision }, { key: totpKey, revision: totpRevision }]);
          return { kind: 'ok', challenge, accepted: result.accepted };
        }
        const failures = challenge.failures + 1;
        const exhausted = failures >= CHALLENGE_MAX_FAILURES;
        await store.batch([exhausted ? { type: 'del', key } : { type: 'put', key, value: encodeJson({ ...challenge, failures }) }], [{ key, revision }]);
        return { kind: 'wrong', challenge, method: codeMethod(code), attemptsLeft: CHALLENGE_MAX_FAILURES - failures };
      } catch (err) {
        if (!isStoreConflict(err) || tries >= 5) throw err;
      }
    }
  }

  /** Deletes expired challenges (abandoned sign-ins); run periodically. */
  async function prune(): Promise<number> {
    const now = clock();
    let count = 0;
    for await (const item of store.iterate(identityKeys.totpChallengePrefix)) {
      if (Date.parse(decodeJson<TotpChallengeRecord>(item.value).expires_at) > now) continue;
      await store.batch([{ type: 'del', key: item.key }], [{ key: item.key, revision: item.revision }]).catch(ignoreConflict);
      count++;
    }
    return count;
  }

  return { create, peek, redeem, prune };
}

/** Someone else changed or removed the record first; nothing left to do. */
function ignoreConflict(err: unknown): void {
  if (!isStoreConflict(err)) throw err;
}
