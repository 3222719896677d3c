/**
 * The API-token scope dialect, as the server applies it (src/server/domain/glob.ts): `*` is one
 * segment, `**` any number (also none), every other segment is literal; `*` or `**` alone cover
 * everything; a pattern for a config also covers its variants (`app/config` → `app/config@prod`).
 * Used only to show people live examples; the server decides.
 */
import { matchSegments } from '../../../../src/shared/segment-match.ts';

const clean = (path: string) => path.trim().replace(/^\/+|\/+$/g, '');

export function scopeCoversEverything(pattern: string): boolean {
  const p = clean(pattern);
  return p === '*' || p === '**';
}

/** A problem the server would refuse, or undefined. */
export function scopeProblem(pattern: string): string | undefined {
  const p = clean(pattern);
  if (p === '') return 'Enter a path pattern';
  if (p.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'Empty, "." and ".." segments are not allowed';
  return undefined;
}

export function matchScope(pattern: string, path: string): boolean {
  const p = clean(pattern);
  if (scopeCoversEverything(p)) return true;
  if (p === '' || clean(path) === '') return false;
  const segments = p.split('/');
  const target = clean(path);
  if (matchSegments(segments, target.split('/'))) return true;
  const at = target.indexOf('@');
  return at !== -1 && matchSegments(segments, target.slice(0, at).split('/'));
}

/** A few paths the pattern matches and a few it does not, for the scope builder's live example. */
export function scopeExamples(pattern: string): { matches: string[]; misses: string[] } {
  const p = clean(pattern);
  if (scopeProblem(p) !== undefined || scopeCoversEverything(p)) return { matches: [], misses: [] };
  const segments = p.split('/');
  const fill = (star: string, deep: string[]) => segments.flatMap((s) => (s === '**' ? deep : [s === '*' ? star : s]));
  const shallow = fill('app', []).join('/');
  const deep = fill('web', ['team', 'service']).join('/');
  const last = segments.at(-1) ?? '';
  const candidates = [shallow, deep, last.includes('@') || last === '**' ? `${deep}/config` : `${deep}@prod`];
  const firstLiteral = segments.findIndex((s) => s !== '*' && s !== '**');
  const renamed = firstLiteral === -1 ? [] : [segments.map((s, i) => (i === firstLiteral ? 'other' : s === '*' || s === '**' ? 'app' : s)).join('/')];
  // `team-*` is literal (not a wildcard), a pattern naming a variant misses the base config.
  const literalStar = segments.some((s) => s.includes('*') && s !== '*' && s !== '**') ? [fill('app', []).join('/').replace(/\*/g, 'a')] : [];
  const base = last.includes('@') ? [shallow.slice(0, shallow.lastIndexOf('@'))] : [];
  const parent = segments.length > 1 ? [fill('app', []).slice(0, -1).join('/')] : [];
  const misses = [...literalStar, ...base, ...renamed, `${shallow}/extra`, ...parent, 'other/config'];
  const unique = (list: string[]) => [...new Set(list.filter((x) => x !== ''))];
  return {
    matches: unique(candidates).filter((x) => matchScope(p, x)).slice(0, 3),
    misses: unique(misses).filter((x) => !matchScope(p, x)).slice(0, 2),
  };
}
