/**
 * Capability keys (seed 002 plus our narrow `key.unlock`). A capability may be held unrestricted
 * or limited to path patterns (doublestar globs) for the path-scoped ones.
 */
export const CAPABILITIES = [
  { key: 'files.read', description: 'View configurations, versions, variants, render, search, convert', pathScoped: true },
  { key: 'files.write', description: 'Create, update, delete configurations and variants', pathScoped: true },
  { key: 'external.read', description: 'Browse, search, read entries from configured external resources', pathScoped: true },
  { key: 'external.write', description: 'Create, update, delete entries on configured external resources', pathScoped: true },
  { key: 'settings.manage', description: 'View and modify server settings, backup/restore, server encryption-key lifecycle', pathScoped: false },
  { key: 'tokens.manage', description: 'Create, edit, revoke API access tokens', pathScoped: false },
  { key: 'users.manage', description: 'Create, edit, delete, kick users', pathScoped: false },
  { key: 'permissions.manage', description: 'Define permission bundles and assign them', pathScoped: false },
  { key: 'key.unlock', description: 'Read the key status and unlock the server (implied by settings.manage)', pathScoped: false },
] as const;

export type Capability = (typeof CAPABILITIES)[number]['key'];

export const CAPABILITY_KEYS: readonly Capability[] = CAPABILITIES.map((c) => c.key);

export function isCapability(value: string): value is Capability {
  return (CAPABILITY_KEYS as readonly string[]).includes(value);
}

export function isPathScoped(cap: Capability): boolean {
  return CAPABILITIES.some((c) => c.key === cap && c.pathScoped);
}
