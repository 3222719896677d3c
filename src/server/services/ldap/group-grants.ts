import type { BundleRecord, UserRecord } from '../identity/identity-records.ts';
import type { UserService } from '../identity/user-service.ts';
import type { DirectoryGroup } from './ldap-directory.ts';

/**
 * A user-sync source's `group_permissions`: directory group (its name or its DN, compared
 * case-insensitively) → permission bundles (by id, or by key for readability). The bundles are
 * granted with the source `sync:<id>`, so a sync only ever replaces its own grants and never
 * touches what an administrator granted by hand.
 */
export interface GroupGrantPlan {
  /** Lower-cased group name or DN → bundle ids that exist. */
  readonly byGroup: ReadonlyMap<string, readonly string[]>;
  /** Problems to report: mapped bundles that do not exist (not fatal; the rest still applies). */
  readonly unknown: readonly string[];
}

const fold = (name: string) => name.trim().toLowerCase();

export function planGroupGrants(mapping: Readonly<Record<string, readonly string[]>>, bundles: readonly BundleRecord[]): GroupGrantPlan {
  const idOf = new Map<string, string>();
  for (const b of bundles) {
    idOf.set(b.key, b.id);
    idOf.set(b.id, b.id);
  }
  const byGroup = new Map<string, string[]>();
  const unknown: string[] = [];
  for (const [group, refs] of Object.entries(mapping)) {
    const ids: string[] = [];
    for (const ref of refs) {
      const id = idOf.get(ref);
      if (id === undefined) unknown.push(`group_permissions: unknown permission bundle "${ref}" (group "${group}")`);
      else ids.push(id);
    }
    const key = fold(group);
    byGroup.set(key, [...(byGroup.get(key) ?? []), ...ids]);
  }
  return { byGroup, unknown };
}

/** The bundle ids a member of these groups gets, sorted. */
export function bundlesFor(plan: GroupGrantPlan, groups: readonly DirectoryGroup[]): string[] {
  const ids = new Set<string>();
  for (const group of groups) {
    for (const key of [fold(group.name), fold(group.dn)]) for (const id of plan.byGroup.get(key) ?? []) ids.add(id);
  }
  return [...ids].sort();
}

/** Replaces the user's grants from `source` when they differ: the updated user, or undefined when nothing was written. */
export async function applyGrants(users: Pick<UserService, 'setGrants'>, user: UserRecord, source: string, ids: readonly string[]): Promise<UserRecord | undefined> {
  const current = [...new Set(user.grants.filter((g) => g.source === source).map((g) => g.permission_id))].sort();
  if (current.length === ids.length && current.every((id, i) => id === ids[i])) return undefined;
  return users.setGrants(user.id, [...ids], source);
}
