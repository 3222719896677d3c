/**
 * Roles (groups) out of token or userinfo claims, by dot paths (`roles_claims`). A `*` segment
 * fans out over every key of an object (and every element of an array), so Keycloak's
 * `resource_access.*.roles` collects the roles of all clients. A path may end on a string or an
 * array of strings; anything else contributes nothing. The result is de-duplicated, in order.
 */
const MAX_ROLES = 256;
const MAX_ROLE_LENGTH = 256;

export function rolesFromClaims(claims: Readonly<Record<string, unknown>>, paths: readonly string[]): string[] {
  const found = new Set<string>();
  for (const path of paths) {
    const segments = path.split('.').filter((s) => s !== '');
    if (segments.length === 0) continue;
    for (const leaf of walk(claims, segments)) {
      for (const role of leafRoles(leaf)) {
        if (found.size >= MAX_ROLES) return [...found];
        found.add(role);
      }
    }
  }
  return [...found];
}

function walk(value: unknown, segments: readonly string[]): unknown[] {
  const [head, ...rest] = segments;
  if (head === undefined) return [value];
  if (typeof value !== 'object' || value === null) return [];
  if (head === '*') {
    const children = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
    return children.flatMap((child) => walk(child, rest));
  }
  if (Array.isArray(value) || !Object.hasOwn(value, head)) return [];
  return walk((value as Record<string, unknown>)[head], rest);
}

function leafRoles(leaf: unknown): string[] {
  const values = Array.isArray(leaf) ? (leaf as unknown[]) : [leaf];
  return values.filter((v): v is string => typeof v === 'string').map((v) => v.trim()).filter((v) => v !== '' && v.length <= MAX_ROLE_LENGTH);
}
