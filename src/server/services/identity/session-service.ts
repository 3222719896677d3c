import { createHash, randomBytes } from 'node:crypto';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import type { Store } from '../../storage/store.ts';
import { nowIso, type SessionRecord } from './identity-records.ts';

export interface SessionServiceDeps {
  readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>;
  readonly clock: () => number;
  readonly ttlMs: number;
}

export interface ActiveSession {
  /** SHA-256 of the cookie value: the storage key and the public "handle". */
  readonly handle: string;
  readonly record: SessionRecord;
}

/**
 * DB-backed sessions (SPEC §6). The cookie carries 32 random bytes; the store keeps only their
 * SHA-256, so a copy of the database cannot be replayed as cookies. A per-user index lets a
 * disable, delete, password change or kick revoke every session of that user at once.
 */
export type SessionService = ReturnType<typeof createSessionService>;

export function handleOf(cookieValue: string): string {
  return createHash('sha256').update(cookieValue).digest('hex');
}

export function createSessionService(deps: SessionServiceDeps) {
  const { store, clock, ttlMs } = deps;

  async function create(userId: string, meta: { provider: string; ip?: string; userAgent?: string; roles?: string[]; subject?: string }): Promise<{ cookie: string; handle: string; record: SessionRecord }> {
    const cookie = randomBytes(32).toString('base64url');
    const handle = handleOf(cookie);
    const record: SessionRecord = {
      user_id: userId,
      created_at: nowIso(clock),
      expires_at: new Date(clock() + ttlMs).toISOString(),
      provider: meta.provider,
      roles: meta.roles,
      subject: meta.subject,
      ip: meta.ip,
      user_agent: meta.userAgent?.slice(0, 256),
    };
    await store.batch([
      { type: 'put', key: identityKeys.session(handle), value: encodeJson(record) },
      { type: 'put', key: identityKeys.userSession(userId, handle), value: new Uint8Array() },
    ]);
    return { cookie, handle, record };
  }

  /** The live session for a cookie value, or undefined (unknown, malformed or expired). */
  async function validate(cookie: string): Promise<ActiveSession | undefined> {
    if (cookie.length < 16 || cookie.length > 128) return undefined;
    const handle = handleOf(cookie);
    const entry = await store.get(identityKeys.session(handle));
    if (!entry) return undefined;
    const record = decodeJson<SessionRecord>(entry.value);
    if (Date.parse(record.expires_at) <= clock()) {
      await revoke(handle, record.user_id);
      return undefined;
    }
    return { handle, record };
  }

  async function revoke(handle: string, userId?: string): Promise<boolean> {
    let owner = userId;
    if (owner === undefined) {
      const entry = await store.get(identityKeys.session(handle));
      if (!entry) return false;
      owner = decodeJson<SessionRecord>(entry.value).user_id;
    }
    await store.batch([
      { type: 'del', key: identityKeys.session(handle) },
      { type: 'del', key: identityKeys.userSession(owner, handle) },
    ]);
    return true;
  }

  async function listForUser(userId: string): Promise<ActiveSession[]> {
    const sessions: ActiveSession[] = [];
    for await (const item of store.iterate(identityKeys.userSessionPrefix(userId))) {
      const handle = identityKeys.userSessionHash(item.key);
      const entry = await store.get(identityKeys.session(handle));
      if (entry) sessions.push({ handle, record: decodeJson<SessionRecord>(entry.value) });
    }
    return sessions.filter((s) => Date.parse(s.record.expires_at) > clock());
  }

  /** Revokes every session of a user, except `keepHandle` (the caller's own, on a self-service change). */
  async function revokeAllForUser(userId: string, keepHandle?: string): Promise<number> {
    let count = 0;
    for await (const item of store.iterate(identityKeys.userSessionPrefix(userId))) {
      const handle = identityKeys.userSessionHash(item.key);
      if (handle === keepHandle) continue;
      await revoke(handle, userId);
      count++;
    }
    return count;
  }

  /** Deletes expired sessions; run periodically. */
  async function prune(): Promise<number> {
    let count = 0;
    const now = clock();
    for await (const item of store.iterate(identityKeys.sessionPrefix)) {
      const record = decodeJson<SessionRecord>(item.value);
      if (Date.parse(record.expires_at) <= now) {
        await revoke(item.key.slice(identityKeys.sessionPrefix.length), record.user_id);
        count++;
      }
    }
    return count;
  }

  return { create, validate, revoke, listForUser, revokeAllForUser, prune };
}
