import { type Capability, CAPABILITY_KEYS } from '../../../shared/capabilities.ts';
import { AppError } from '../../../shared/errors.ts';
import { allPermissions, type Grants, grantPermissions, type Permissions, unionGrants } from '../access/permissions.ts';
import { tokenPermissions } from '../access/token-permissions.ts';
import { bundleGrants, type BundleService } from './bundle-service.ts';
import type { BundleRecord, TokenRecord, UserRecord } from './identity-records.ts';
import type { UserService } from './user-service.ts';

export interface PermissionResolverDeps {
  readonly users: Pick<UserService, 'get'>;
  readonly bundles: Pick<BundleService, 'list'>;
  readonly tokens: { get(id: string): Promise<TokenRecord | undefined> };
}

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
  const cache = new Map<string, Permissions>();
  let bundleCache: Promise<Map<string, BundleRecord>> | undefined;

  function invalidate(): void {
    cache.clear();
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
    const perms = user.is_superadmin && user.denied_capabilities.length === 0 ? allPermissions() : grantPermissions(await userGrants(user), user.is_superadmin);
    cache.set(`u:${user.id}`, perms);
    return perms;
  }

  /** A token's permissions, bounded by its creator (and the token that minted it, if any). */
  async function forToken(token: TokenRecord, depth = 0): Promise<Permissions> {
    const hit = cache.get(`t:${token.id}`);
    if (hit) return hit;
    const creator = await deps.users.get(token.created_by_user_id);
    if (!creator || creator.disabled) throw new AppError('ERR_TOKEN_CREATOR_INACTIVE');
    let upstream = await forUser(creator);
    if (token.created_by_token_id !== undefined) {
      const parent = await deps.tokens.get(token.created_by_token_id);
      if (!parent || !parent.active || depth > 8) throw new AppError('ERR_TOKEN_CREATOR_INACTIVE', 'the token that created this token is revoked or disabled');
      upstream = await forToken(parent, depth + 1);
    }
    const perms = tokenPermissions(token.scopes, token.capabilities, upstream);
    cache.set(`t:${token.id}`, perms);
    return perms;
  }

  /** Which source granted each capability (for `GET /api/v1/users-effective`). */
  async function sourcesForUser(user: UserRecord): Promise<CapabilitySource[]> {
    if (user.is_superadmin) return CAPABILITY_KEYS.filter((c) => !user.denied_capabilities.includes(c)).map((capability) => ({ capability, kind: 'superadmin' }));
    const bundles = await bundlesById();
    const out: CapabilitySource[] = [];
    for (const grant of user.grants) {
      const bundle = bundles.get(grant.permission_id);
      if (!bundle) continue;
      for (const capability of bundle.keys) if (!user.denied_capabilities.includes(capability)) out.push({ capability, kind: 'db_bundle', bundle: bundle.key });
    }
    return out;
  }

  return { forUser, forToken, sourcesForUser, invalidate };
}
