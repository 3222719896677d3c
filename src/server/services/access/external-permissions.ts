import type { Capability } from '../../../shared/capabilities.ts';
import type { Grants } from './permissions.ts';

/** The `auth.permissions` settings block (seed 002 "External permissions"). */
export interface ExternalPermissionSettings {
  readonly enforce: boolean;
  readonly superadmins: readonly string[];
  readonly mapping: Readonly<Record<string, readonly Capability[]>>;
}

/** Who signed in through an external strategy, for the allowlist and the mapping. */
export interface ExternalSubject {
  readonly provider: string;
  readonly subject?: string | undefined;
  readonly username?: string | undefined;
  readonly groups: readonly string[];
}

/**
 * Allowlist entries may name a bare subject, `provider:subject`, or a pika username, so an admin
 * can write what their IdP shows them.
 */
export function isAllowlisted(who: ExternalSubject, superadmins: readonly string[]): boolean {
  const names = new Set([who.subject, who.subject === undefined ? undefined : `${who.provider}:${who.subject}`, who.username].filter((n): n is string => n !== undefined && n !== ''));
  return superadmins.some((entry) => names.has(entry));
}

/** Capabilities the user's groups map to: the union of every match; unknown groups add nothing. */
export function mappedGrants(groups: readonly string[], mapping: Readonly<Record<string, readonly Capability[]>>): Grants {
  const grants = new Map<Capability, 'all'>();
  for (const group of groups) for (const cap of mapping[group] ?? []) grants.set(cap, 'all');
  return grants;
}

/** Which groups matched which capabilities (for `users-effective`). */
export function mappingSources(groups: readonly string[], mapping: Readonly<Record<string, readonly Capability[]>>): { capability: Capability; role: string }[] {
  return groups.flatMap((role) => (mapping[role] ?? []).map((capability) => ({ capability, role })));
}

/**
 * Splits group header values: every header line is split on the separator, so both
 * `X-Groups: a,b` and repeated `X-Groups` lines work; blanks are dropped.
 */
export function splitGroups(lines: readonly string[], separator: string): string[] {
  return [...new Set(lines.flatMap((line) => line.split(separator)).map((g) => g.trim()).filter((g) => g !== ''))];
}
