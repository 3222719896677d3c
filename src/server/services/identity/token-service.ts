import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Capability } from '../../../shared/capabilities.ts';
import { AppError } from '../../../shared/errors.ts';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import type { Store } from '../../storage/store.ts';
import { isStoreConflict } from '../../storage/store.ts';
import type { TokenScope } from '../access/token-permissions.ts';
import { newId, nowIso, type TokenRecord } from './identity-records.ts';

export interface TokenServiceDeps {
  readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>;
  readonly clock: () => number;
  readonly onChange: () => void;
  /** How often `last_used_at` is flushed to the store (upstream: once a minute). */
  readonly usageFlushMs?: number;
}

export interface TokenInput {
  name: string;
  scopes: TokenScope[];
  capabilities?: Capability[] | undefined;
  expires_at?: string | undefined;
}

export interface TokenPatch {
  name?: string | undefined;
  scopes?: TokenScope[] | undefined;
  capabilities?: Capability[] | undefined;
  active?: boolean | undefined;
  expires_at?: string | null | undefined;
}

export interface TokenCreator {
  name: string;
  userId: string;
  tokenId?: string | undefined;
}

const RAW_TOKEN = /^pika_[0-9a-f]{64}$/;

export type TokenService = ReturnType<typeof createTokenService>;

export function hashToken(raw: string): string {
  return createHash('sha256').update(raw).digest('hex');
}

/**
 * API tokens (SPEC §6): `pika_` + 64 hex, shown once, stored as SHA-256. Lookups are by hash, then
 * the stored hash is compared in constant time. Records are cached in memory by hash for the
 * `/data` hot path and dropped on any token write. `last_used_at` is written in batches.
 */
export function createTokenService(deps: TokenServiceDeps) {
  const { store, clock, onChange } = deps;
  const byHash = new Map<string, TokenRecord>();
  // Token id → last use in epoch ms; formatted only when flushed (this runs on every /data read).
  const pendingUse = new Map<string, number>();

  // Bumped by every token write: a lookup that raced a write must not re-fill the cache with the
  // record it read before the write (a just-disabled token would keep working).
  let generation = 0;

  function changed(): void {
    generation++;
    byHash.clear();
    onChange();
  }

  async function get(id: string): Promise<TokenRecord | undefined> {
    const entry = await store.get(identityKeys.token(id));
    return entry ? decodeJson<TokenRecord>(entry.value) : undefined;
  }

  async function list(): Promise<TokenRecord[]> {
    const out: TokenRecord[] = [];
    for await (const item of store.iterate(identityKeys.tokenPrefix)) out.push(decodeJson<TokenRecord>(item.value));
    return out.sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  async function create(input: TokenInput, creator: TokenCreator): Promise<{ token: TokenRecord; rawKey: string }> {
    const rawKey = `pika_${randomBytes(32).toString('hex')}`;
    const token: TokenRecord = {
      id: newId(8),
      name: input.name,
      hashed_key: hashToken(rawKey),
      scopes: input.scopes.map(normalizeScope),
      capabilities: [...new Set(input.capabilities ?? [])],
      active: true,
      expires_at: normalizeExpiry(input.expires_at, clock),
      created_at: nowIso(clock),
      created_by: creator.name,
      created_by_user_id: creator.userId,
      created_by_token_id: creator.tokenId,
    };
    await store.batch(
      [
        { type: 'put', key: identityKeys.token(token.id), value: encodeJson(token) },
        { type: 'put', key: identityKeys.tokenHash(token.hashed_key), value: new TextEncoder().encode(token.id) },
      ],
      [{ key: identityKeys.tokenHash(token.hashed_key), revision: 0 }],
    );
    changed();
    return { token, rawKey };
  }

  async function update(id: string, patch: TokenPatch): Promise<TokenRecord> {
    const entry = await store.get(identityKeys.token(id));
    if (!entry) throw new AppError('ERR_TOKEN_NOT_FOUND');
    const token = decodeJson<TokenRecord>(entry.value);
    if (patch.name !== undefined) token.name = patch.name;
    if (patch.scopes !== undefined) token.scopes = patch.scopes.map(normalizeScope);
    if (patch.capabilities !== undefined) token.capabilities = [...new Set(patch.capabilities)];
    if (patch.active !== undefined) token.active = patch.active;
    if (patch.expires_at !== undefined) token.expires_at = patch.expires_at === null || patch.expires_at === '' ? undefined : normalizeExpiry(patch.expires_at, clock, false);
    await store.batch([{ type: 'put', key: identityKeys.token(id), value: encodeJson(token) }], [{ key: identityKeys.token(id), revision: entry.revision }]);
    changed();
    return token;
  }

  async function remove(id: string): Promise<TokenRecord> {
    const token = await get(id);
    if (!token) throw new AppError('ERR_TOKEN_NOT_FOUND');
    await store.batch([
      { type: 'del', key: identityKeys.token(id) },
      { type: 'del', key: identityKeys.tokenHash(token.hashed_key) },
    ]);
    pendingUse.delete(id);
    changed();
    return token;
  }

  /** The token for a raw bearer value; throws 401 for unknown, 403 for disabled or expired. */
  async function authenticate(raw: string): Promise<TokenRecord> {
    if (!RAW_TOKEN.test(raw)) throw new AppError('ERR_TOKEN_INVALID');
    const hash = hashToken(raw);
    let token = byHash.get(hash);
    if (!token) {
      const started = generation;
      const index = await store.get(identityKeys.tokenHash(hash));
      token = index ? await get(new TextDecoder().decode(index.value)) : undefined;
      if (!token) throw new AppError('ERR_TOKEN_INVALID');
      if (started === generation) byHash.set(hash, token);
    }
    if (!timingSafeEqual(Buffer.from(token.hashed_key, 'hex'), Buffer.from(hash, 'hex'))) throw new AppError('ERR_TOKEN_INVALID');
    if (!token.active) throw new AppError('ERR_TOKEN_DISABLED');
    if (token.expires_at !== undefined && Date.parse(token.expires_at) <= clock()) throw new AppError('ERR_TOKEN_EXPIRED');
    return token;
  }

  /** Records a use; flushed in batches by {@link flushUsage}. */
  function touch(tokenId: string): void {
    pendingUse.set(tokenId, clock());
  }

  async function flushUsage(): Promise<number> {
    const entries = [...pendingUse.entries()];
    pendingUse.clear();
    let written = 0;
    for (const [id, usedAtMs] of entries) {
      const usedAt = new Date(usedAtMs).toISOString();
      const entry = await store.get(identityKeys.token(id));
      if (!entry) continue;
      const token = decodeJson<TokenRecord>(entry.value);
      token.last_used_at = usedAt;
      try {
        await store.batch([{ type: 'put', key: identityKeys.token(id), value: encodeJson(token) }], [{ key: identityKeys.token(id), revision: entry.revision }]);
        const cached = byHash.get(token.hashed_key);
        if (cached) cached.last_used_at = usedAt;
        written++;
      } catch (err) {
        if (!isStoreConflict(err)) throw err;
        pendingUse.set(id, usedAtMs); // someone edited the token meanwhile; retry next flush
      }
    }
    return written;
  }

  /**
   * Forgets cached records and unflushed usage (a restore replaced every token record: usage
   * seen before it belongs to records that no longer exist as they were).
   */
  function clearCache(): void {
    generation++;
    byHash.clear();
    pendingUse.clear();
  }

  return { get, list, create, update, remove, authenticate, touch, flushUsage, clearCache, usageFlushMs: deps.usageFlushMs ?? 60_000 };
}

function normalizeScope(scope: TokenScope): TokenScope {
  const path = scope.path.trim().replace(/^\/+|\/+$/g, '');
  if (path === '' || path.split('/').some((s) => s === '' || s === '..' || s === '.')) throw new AppError('ERR_VALIDATION', `scopes: invalid path pattern "${scope.path}"`);
  if (scope.operations.length === 0) throw new AppError('ERR_VALIDATION', 'scopes: operations must not be empty');
  const resource = scope.resource?.trim();
  return { ...(resource ? { resource } : {}), path, operations: [...new Set(scope.operations)] };
}

function normalizeExpiry(raw: string | undefined, clock: () => number, mustBeFuture = true): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw new AppError('ERR_VALIDATION', 'expires_at: not an RFC 3339 date-time');
  if (mustBeFuture && at <= clock()) throw new AppError('ERR_VALIDATION', 'expires_at: must be in the future');
  return new Date(at).toISOString();
}
