/**
 * Picking a config version for an app that says which version *it* is.
 *
 * Config versions are plain integers (1, 2, 3…). A version may carry a semver constraint naming
 * the app versions it is meant for; an app asking with `?version=0.1.5` gets the newest config
 * version whose (effective) constraint its version satisfies. This lets a team publish config
 * for the next app release before every running instance has upgraded.
 */
import semver from 'semver';
import { AppError } from '../../shared/errors.ts';

/** `1`, `v1.2`, `1.2.3-beta.1+build`: one to three numeric parts, then optional pre-release/build. */
const LOOSE_VERSION = /^[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?([-+].*)?$/;

/**
 * Completes a loose version to full semver (`v0.2` → `0.2.0`, keeping any pre-release/build),
 * or undefined when it is not one. Leading zeros and malformed suffixes are rejected by
 * `semver.valid`, so `01.2` is not silently read as `1.2.0`.
 */
function completeVersion(text: string): string | undefined {
  const match = LOOSE_VERSION.exec(text);
  if (!match) return undefined;
  const [, major, minor = '0', patch = '0', suffix = ''] = match;
  const version = `${major ?? ''}.${minor}.${patch}${suffix}`;
  return semver.valid(version) === null ? undefined : version;
}

/**
 * Validates a constraint and returns what to store: '' for none, `>=X.Y.Z` for a bare version
 * (our rule: a bare version means "this app version and newer", unlike npm where `1.2` means
 * `1.2.x`), otherwise the user's own (trimmed) text of any npm range.
 */
export function normalizeConstraint(raw: string): string {
  const text = raw.trim();
  if (text === '') return '';
  const bare = completeVersion(text);
  // semver.valid drops build metadata, which ranges ignore anyway.
  if (bare !== undefined) return `>=${semver.valid(bare) ?? bare}`;
  if (semver.validRange(text) !== null) return text;
  throw new AppError('ERR_CONSTRAINT_INVALID', `invalid semver constraint ${JSON.stringify(raw)}`, {
    details: { constraint: raw },
  });
}

export type VersionSelector = { kind: 'latest' } | { kind: 'exact'; version: number } | { kind: 'semver'; version: string };

function invalidSelector(raw: string, why: string): AppError {
  return new AppError('ERR_VERSION_SELECTOR_INVALID', `invalid version ${JSON.stringify(raw)}: ${why}`, {
    details: { version: raw },
  });
}

/**
 * Reads `?version=`: nothing or `latest` → newest; digits only → that config version;
 * something with a dot or a leading `v` → the app's semver version.
 */
export function parseVersionSelector(raw: string | undefined): VersionSelector {
  const text = raw?.trim() ?? '';
  if (text === '' || text.toLowerCase() === 'latest') return { kind: 'latest' };
  if (/^\d+$/.test(text)) {
    const version = Number(text);
    if (version < 1 || !Number.isSafeInteger(version)) throw invalidSelector(text, 'config versions start at 1');
    return { kind: 'exact', version };
  }
  if (text.includes('.') || /^[vV]/.test(text)) {
    const version = completeVersion(text);
    if (version === undefined) throw invalidSelector(text, 'not a semver version');
    return { kind: 'semver', version };
  }
  throw invalidSelector(text, 'use "latest", a config version number or a semver version');
}

export interface VersionInfo {
  version: number;
  /** '' = no constraint. */
  constraint: string;
  deleted: boolean;
}

/**
 * The constraint each version effectively has: its own, or else that of the nearest older
 * version that has one. Deleted versions count: deleting v3 (`>=0.1.0`) hides v3's content but
 * must not make v4 — published as a follow-up for 0.1.0+ apps — suddenly serve 0.0.x apps.
 * Versions older than the first constraint map to ''.
 */
export function effectiveConstraints(versions: readonly VersionInfo[]): Map<number, string> {
  const sorted = [...versions].sort((a, b) => a.version - b.version);
  const out = new Map<number, string>();
  let current = '';
  for (const info of sorted) {
    if (info.constraint !== '') current = info.constraint;
    out.set(info.version, current);
  }
  return out;
}

/** Which config version a selector picks; undefined when none fits. */
export function selectVersion(versions: readonly VersionInfo[], selector: VersionSelector): number | undefined {
  const live = versions.filter((info) => !info.deleted).sort((a, b) => b.version - a.version);
  switch (selector.kind) {
    case 'latest':
      return live[0]?.version;
    case 'exact':
      return live.find((info) => info.version === selector.version)?.version;
    case 'semver': {
      const effective = effectiveConstraints(versions);
      const constraintOf = (info: VersionInfo) => effective.get(info.version) ?? '';
      const match = live.find((info) => {
        const range = constraintOf(info);
        return range !== '' && semver.satisfies(selector.version, range, { includePrerelease: true });
      });
      // No constrained version fits: fall back to the newest version from before constraints began.
      return (match ?? live.find((info) => constraintOf(info) === ''))?.version;
    }
  }
}
