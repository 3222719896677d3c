import { type Capability, CAPABILITY_KEYS, isPathScoped } from '../../../shared/capabilities.ts';
import { matchCapabilityPattern, patternCoversFolder } from '../../domain/glob.ts';

/**
 * What a caller may do. Users get theirs from permission bundles (SPEC §6); tokens from their
 * scopes, always intersected with what their creator may do (docs/adr/0004).
 */
export type Operation = 'read' | 'write' | 'delete';

export interface PermissionReport {
  readonly capabilities: Capability[];
  /** Path-limited capabilities and their patterns; a capability absent here is unrestricted. */
  readonly patterns: Partial<Record<Capability, string[]>>;
}

export interface Permissions {
  readonly superadmin: boolean;
  /**
   * Whether the caller holds `cap`; for path-scoped capabilities with `path`, whether one of its
   * patterns matches. Without `path`, holding the capability for any path is enough.
   */
  can(cap: Capability, path?: string, op?: Operation): boolean;
  /** Whether a folder ('' = root) leads to something the caller may read (navigation). */
  canSeeFolder(folder: string): boolean;
  report(): PermissionReport;
}

/** A capability held everywhere ('all') or only under some patterns. */
export type Grants = ReadonlyMap<Capability, 'all' | readonly string[]>;

export const NO_PERMISSIONS: Permissions = {
  superadmin: false,
  can: () => false,
  canSeeFolder: () => false,
  report: () => ({ capabilities: [], patterns: {} }),
};

export function allPermissions(): Permissions {
  return {
    superadmin: true,
    can: () => true,
    canSeeFolder: () => true,
    report: () => ({ capabilities: [...CAPABILITY_KEYS], patterns: {} }),
  };
}

/**
 * Permissions from grants. `settings.manage` implies `key.unlock` unless `key.unlock` itself is
 * denied to the user (a deny always wins, also over an implication).
 */
export function grantPermissions(grants: Grants, superadmin = false, denied: readonly Capability[] = []): Permissions {
  const lookup = (cap: Capability) => grants.get(cap) ?? (cap === 'key.unlock' && !denied.includes('key.unlock') ? grants.get('settings.manage') : undefined);
  return {
    superadmin,
    can(cap, path) {
      const grant = lookup(cap);
      if (grant === undefined) return false;
      if (grant === 'all' || path === undefined || !isPathScoped(cap)) return true;
      return grant.some((pattern) => matchCapabilityPattern(pattern, path));
    },
    canSeeFolder(folder) {
      const grant = grants.get('files.read');
      if (grant === undefined) return false;
      return grant === 'all' || grant.some((pattern) => patternCoversFolder(pattern, folder));
    },
    report() {
      const capabilities = CAPABILITY_KEYS.filter((cap) => lookup(cap) !== undefined);
      const patterns: Partial<Record<Capability, string[]>> = {};
      for (const cap of capabilities) {
        const grant = lookup(cap);
        if (grant !== undefined && grant !== 'all' && isPathScoped(cap)) patterns[cap] = [...grant];
      }
      return { capabilities, patterns };
    },
  };
}

/**
 * Merges grants from several sources: "unrestricted wins", otherwise patterns are concatenated;
 * `denied` capabilities are removed last (SPEC §6, upstream-pika.md §3.5).
 */
export function unionGrants(sources: Iterable<Grants>, denied: readonly Capability[] = []): Grants {
  const out = new Map<Capability, 'all' | string[]>();
  for (const source of sources) {
    for (const [cap, grant] of source) {
      const prev = out.get(cap);
      if (prev === 'all' || grant === 'all') out.set(cap, 'all');
      else out.set(cap, [...new Set([...(prev ?? []), ...grant])]);
    }
  }
  for (const cap of denied) out.delete(cap);
  return out;
}
