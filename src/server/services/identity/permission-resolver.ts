import { type Capability, CAPABILITY_KEYS } from '../../../shared/capabilities.ts';
import { AppError } from '../../../shared/errors.ts';
import { allPermissions, type Grants, grantPermissions, type Permissions, unionGrants } from '../access/permissions.ts';
import { type ExternalPermissionSettings, type ExternalSubject, isAllowlisted, mappedGrants } from '../access/external-permissions.ts';
import { tokenPermissions } from '../access/token-permissions.ts';
import { bundleGrants, type BundleService } from './bundle-service.ts';
import type { BundleRecord, TokenRecord, UserRecord } from './identity-records.ts';
import type { UserService } from './user-service.ts';

export interface PermissionResolverDeps {
  readonly users: Pick<UserService, 'get'>;
  readonly bundles: Pick<BundleService, 'list'>;
  readonly tokens: { get(id: string): Promise<TokenRecord | undefined> };
  /** For the expiry of parent tokens (default: Date.now). */
  readonly clock?: () => number;
}

interface ResolvedToken {
  readonly perms: Permissions;
  readonly until: number;
  readonly ancestors: number;
}

/** How many tokens may sit between a token and the user who started the chain. */
const MAX_TOKEN_CHAIN = 8;

export interface CapabilitySource {
  capability: Capability;
  kind: 'superadmin' | 'db_bundle' | 'token_scope';
  bundle?: string;
}

/**
 * Resolves what a user or token may do, caching results until the next identity change.
 * Order (upstream-pika.md §3.5): superadmin column → every capability minus per-user denies;
 * otherwise the union of the user's bundles, "unrestricted wins", then denies removed.
 */
export type PermissionResolver = ReturnType<typeof createPermissionResolver>;

export function createPermissionResolver(deps: PermissionResolverDeps) {
  const clock = deps.clock ?? Date.now;
  const cache = new Map<string, Permissions>();
  /**
   * Tokens: permissions, the moment an ancestor token expires (no event invalidates that), and
   * how many tokens sit above this one.
   */
  const tokenCache = new Map<string, ResolvedToken>();
  let bundleCache: Promise<Map<string, BundleRecord>> | undefined;
  // Bumped by every invalidation. A result computed across an invalidation may be stale, so it
  // is returned to its caller but never cached (otherwise a revoked right could outlive the
  // change that revoked it until the next, unrelated change).
  let generation = 0;

  function invalidate(): void {
    generation++;
    cache.clear();
    tokenCache.clear();
    bundleCache = undefined;
  }

  function bundlesById(): Promise<Map<string, BundleRecord>> {
    bundleCache ??= deps.bundles.list().then((list) => new Map(list.map((b) => [b.id, b])));
    return bundleCache;
  }

  async function userGrants(user: UserRecord): Promise<Grants> {
    if (user.is_superadmin) {
      const everything = new Map<Capability, 'all'>(CAPABILITY_KEYS.map((c) => [c, 'all']));
      return unionGrants([everything], user.denied_capabilities);
    }
    const bundles = await bundlesById();
    const sources = user.grants.map((g) => bundles.get(g.permission_id)).filter((b): b is BundleRecord => b !== undefined).map(bundleGrants);
    return unionGrants(sources, user.denied_capabilities);
  }

  async function forUser(user: UserRecord): Promise<Permissions> {
    const hit = cache.get(`u:${user.id}`);
    if (hit) return hit;
    const started = generation;
    const perms = user.is_superadmin && user.denied_capabilities.length === 0 ? allPermissions() : grantPermissions(await userGrants(user), user.is_superadmin, user.denied_capabilities);
    if (started === generation) cache.set(`u:${user.id}`, perms);
    return perms;
  }

  /**
   * Someone signed in through an external strategy (SPEC §6, seed 002, docs/adr/0008):
   * - the superadmin allowlist grants everything;
   * - a linked pika user keeps that user's own rights, plus the group mapping when enforcement
   *   is on (so signing in through an IdP never widens a restricted local account);
   * - an identity with no pika user (forward-auth) is trusted completely while enforcement is
   *   off (the seed's "trust the gateway"), and gets only the mapping when it is on.
   */
  async function forExternal(who: ExternalSubject & { user?: UserRecord | undefined }, settings: ExternalPermissionSettings): Promise<Permissions> {
    if (isAllowlisted(who, settings.superadmins)) return allPermissions();
    if (!who.user) return settings.enforce ? grantPermissions(mappedGrants(who.groups, settings.mapping)) : allPermissions();
    if (!settings.enforce) return forUser(who.user);
    const key = `x:${who.user.id}:${who.groups.join('\u0001')}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const started = generation;
    const user = who.user;
    const perms = grantPermissions(unionGrants([await userGrants(user), mappedGrants(who.groups, settings.mapping)], user.denied_capabilities), user.is_superadmin, user.denied_capabilities);
    if (started === generation) cache.set(key, perms);
    return perms;
  }

  /**
   * A token's permissions, bounded by its creator and, for a token minted by a token, by that
   * parent token, which must still be active and unexpired.
   */
  async function forToken(token: TokenRecord): Promise<Permissions> {
    return (await resolveToken(token, 0)).perms;
  }

  /** The token's permissions and the instant they stop holding (its own or an ancestor's expiry). */
  async function tokenAccess(token: TokenRecord): Promise<{ perms: Permissions; validUntil: number }> {
    const resolved = await resolveToken(token, 0);
    const own = token.expires_at === undefined ? Infinity : Date.parse(token.expires_at);
    return { perms: resolved.perms, validUntil: Math.min(own, resolved.until) };
  }

  async function resolveToken(token: TokenRecord, depth: number): Promise<ResolvedToken> {
    const hit = tokenCache.get(token.id);
    if (hit && hit.until <= clock()) throw new AppError('ERR_TOKEN_CREATOR_INACTIVE', 'the token that created this token has expired');
    const resolved = hit ?? (await computeToken(token, depth));
    if (resolved.ancestors > MAX_TOKEN_CHAIN) throw new AppError('ERR_TOKEN_CREATOR_INACTIVE', 'too many tokens minted by tokens above this one');
    return resolved;
  }

  async function computeToken(token: TokenRecord, depth: number): Promise<ResolvedToken> {
    const started = generation;
    const creator = await deps.users.get(token.created_by_user_id);
    if (!creator || creator.disabled) throw new AppError('ERR_TOKEN_CREATOR_INACTIVE');
    let upstream = await forUser(creator);
    let until = Infinity;
    let ancestors = 0;
    if (token.created_by_token_id !== undefined) {
      const parent = await deps.tokens.get(token.created_by_token_id);
      // `depth` only stops a (corrupt) cycle; the chain limit itself is `ancestors`.
      if (!parent || !parent.active || depth > MAX_TOKEN_CHAIN) throw new AppError('ERR_TOKEN_CREATOR_INACTIVE', 'the token that created this token is revoked or disabled');
      const parentExpiry = parent.expires_at === undefined ? Infinity : Date.parse(parent.expires_at);
      if (parentExpiry <= clock()) throw new AppError('ERR_TOKEN_CREATOR_INACTIVE', 'the token that created this token has expired');
      const resolved = await resolveToken(parent, depth + 1);
      upstream = resolved.perms;
      until = Math.min(parentExpiry, resolved.until);
      ancestors = resolved.ancestors + 1;
    }
    const entry = { perms: tokenPermissions(token.scopes, token.capabilities, upstream), until, ancestors };
    if (started === generation) tokenCache.set(token.id, entry);
    return entry;
  }

  /** Which source granted each capability (for `GET /api/v1/users-effective`). */
  async function sourcesForUser(user: UserRecord): Promise<CapabilitySource[]> {
    if (user.is_superadmin) return CAPABILITY_KEYS.filter((c) => !user.denied_capabilities.includes(c)).map((capability) => ({ capability, kind: 'superadmin' }));
    const bundles = await bundlesById();
    const out: CapabilitySource[] = [];
    for (const grant of user.grants) {
      const bundle = bundles.get(grant.permission_id);
      if (!bundle) continue;
      const held = withImplied(bundle.keys.filter((c) => !user.denied_capabilities.includes(c))).filter((c) => !user.denied_capabilities.includes(c));
      for (const capability of held) out.push({ capability, kind: 'db_bundle', bundle: bundle.key });
    }
    return out;
  }

  /** Grows with every identity change; anything derived from an identity is stale once it moves. */
  const currentGeneration = () => generation;

  return { forUser, forExternal, forToken, tokenAccess, sourcesForUser, invalidate, generation: currentGeneration };
}

/**
 * Capabilities plus `key.unlock` where a held `settings.manage` implies it (as `grantPermissions`
 * does), so the sources list names everything the report does.
 */
function withImplied(keys: readonly Capability[]): Capability[] {
  return keys.includes('settings.manage') && !keys.includes('key.unlock') ? [...keys, 'key.unlock'] : [...keys];
}
