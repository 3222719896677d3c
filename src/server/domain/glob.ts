/**
 * Path patterns for access control. Two dialects exist because two clients depend on them:
 * API-token scopes follow upstream pika's segment rules (`*` = one segment, `**` = any number,
 * nothing else is special), while permission-bundle capabilities use full doublestar globs.
 *
 * Both share the variant rule: a pattern that matches a base path also matches its variants
 * (`myapp/config` covers `myapp/config@prod`), because a variant is the same config for another
 * environment, and granting a config without its variants would surprise everyone; a pattern
 * naming a variant (`myapp/config@prod`) matches only that variant.
 */
import picomatch from 'picomatch';
import { matchSegments } from '../../shared/segment-match.ts';
import { splitFileKey } from './config-path.ts';

function clean(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** A pattern or path with a variant matches if either the full key or the base path matches. */
function withVariants(matches: (path: string) => boolean, path: string): boolean {
  if (matches(path)) return true;
  const { path: base, variant } = splitFileKey(path);
  return variant !== undefined && matches(base);
}

function matchesEverything(pattern: string): boolean {
  return pattern === '*' || pattern === '**';
}

/** API-token scope semantics (see the file comment). */
export function matchScopePattern(pattern: string, path: string): boolean {
  const cleanPattern = clean(pattern);
  if (matchesEverything(cleanPattern)) return true;
  if (cleanPattern === '') return false;
  const segments = cleanPattern.split('/');
  return withVariants((candidate) => matchSegments(segments, candidate.split('/')), clean(path));
}

/**
 * Compiled picomatch matchers. Patterns come from bundles and tokens, a small and slowly
 * changing set, but the cap keeps a flood of distinct patterns from growing memory forever.
 */
const compiled = new Map<string, (path: string) => boolean>();
const MAX_COMPILED = 1000;
const NEVER = (): boolean => false;

function compile(pattern: string): (path: string) => boolean {
  let matcher = compiled.get(pattern);
  if (matcher === undefined) {
    try {
      // `windows: false` so `/` is the only separator whatever the host OS.
      matcher = picomatch(pattern, { dot: true, windows: false });
    } catch {
      // An unusable pattern grants nothing: access checks fail closed.
      matcher = NEVER;
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(pattern, matcher);
  }
  return matcher;
}

/** Capability semantics: doublestar globs (`**`, `*`, `?`, `{a,b}`), dotfiles included. */
export function matchCapabilityPattern(pattern: string, path: string): boolean {
  const cleanPattern = clean(pattern);
  if (cleanPattern === '') return false;
  return withVariants(compile(cleanPattern), clean(path));
}

/** The first `{…,…}` group (with a top-level comma) in `pattern`, split into its alternatives. */
function firstBraceGroup(pattern: string): { start: number; end: number; parts: string[] } | undefined {
  for (let start = pattern.indexOf('{'); start !== -1; start = pattern.indexOf('{', start + 1)) {
    let depth = 0;
    const cuts = [start];
    for (let i = start; i < pattern.length; i++) {
      const char = pattern[i];
      if (char === '\\') i++;
      else if (char === '{') depth++;
      else if (char === ',' && depth === 1) cuts.push(i);
      else if (char === '}' && --depth === 0) {
        if (cuts.length === 1) break; // `{a}` or `{1..3}`: not alternatives; picomatch handles it
        cuts.push(i);
        return { start, end: i, parts: cuts.slice(1).map((cut, n) => pattern.slice((cuts[n] ?? 0) + 1, cut)) };
      }
    }
  }
  return undefined;
}

const MAX_ALTERNATIVES = 64;

/**
 * `{team-a/apps,team-b}/**` → `['team-a/apps/**', 'team-b/**']`: alternatives may contain `/`,
 * so they must be expanded before the pattern is cut into segments. Past MAX_ALTERNATIVES the
 * pattern is used unexpanded (an approximation, never a crash on a hostile pattern).
 */
function expandBraces(pattern: string): string[] {
  const done: string[] = [];
  const todo = [pattern];
  for (let current = todo.pop(); current !== undefined; current = todo.pop()) {
    const group = firstBraceGroup(current);
    if (!group) done.push(current);
    else for (const part of group.parts) todo.push(current.slice(0, group.start) + part + current.slice(group.end + 1));
    if (done.length + todo.length > MAX_ALTERNATIVES) return [pattern];
  }
  return done;
}

function segmentMatches(patternSegment: string, folderSegment: string): boolean {
  return patternSegment === folderSegment || compile(patternSegment)(folderSegment);
}

function coversSegments(pattern: readonly string[], folder: readonly string[]): boolean {
  for (const [i, folderSegment] of folder.entries()) {
    const patternSegment = pattern[i];
    // The pattern ends above this folder: nothing it matches can live inside the folder.
    if (patternSegment === undefined) return false;
    if (patternSegment === '**') return true;
    if (!segmentMatches(patternSegment, folderSegment)) return false;
  }
  return true;
}

/**
 * Whether `folder` ('' = root) is on the way to something `pattern` could match (or matches
 * itself), so navigation shows `''`, `team-a`, `team-a/apps`, `team-a/apps/x` to someone holding
 * `team-a/apps/**`, but not `team-b`. Works for both dialects: a bare `*` or `**` covers
 * everything (as a scope does); otherwise segment by segment, with each pattern segment matched
 * by picomatch. For capability globs a bare `*` therefore over-approximates a little: it reveals
 * folder names, while the files inside are still checked by the matchers above.
 */
export function patternCoversFolder(pattern: string, folder: string): boolean {
  const cleanPattern = clean(pattern);
  if (cleanPattern === '') return false;
  const cleanFolder = clean(folder);
  if (cleanFolder === '' || matchesEverything(cleanPattern)) return true;
  const folderSegments = cleanFolder.split('/');
  return expandBraces(cleanPattern).some((alternative) => coversSegments(alternative.split('/'), folderSegments));
}
