/**
 * Config paths (`team/app/config`) and file keys (`team/app/config@prod`).
 *
 * The rules exist for the store more than for taste: store keys use `\x00` as a separator, so
 * control characters can never appear in a path (storage/keys.ts relies on it); `@` separates a
 * path from its variant, so it is reserved inside segments; `.`/`..` and backslashes would make
 * paths mean different things to different clients (URLs, file systems, the operator).
 */
import { AppError } from '../../shared/errors.ts';

const MAX_SEGMENT_BYTES = 255;
const MAX_VARIANT_BYTES = 64;
const encoder = new TextEncoder();

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// In `u` mode a surrogate class only matches unpaired halves; those cannot be encoded as UTF-8,
// so two different strings would end up as the same store key.
const LONE_SURROGATE = /\p{Cs}/u;
const VARIANT_CHARS = /^[A-Za-z0-9._-]+$/;

function invalid(reason: string, segment: string): AppError {
  return new AppError('ERR_PATH_INVALID', reason, { details: { segment } });
}

/** Returns why `segment` is not allowed, or undefined when it is fine. */
function segmentProblem(segment: string): string | undefined {
  const shown = JSON.stringify(segment);
  if (segment === '.' || segment === '..') return `path segment ${shown} is not allowed`;
  const bytes = encoder.encode(segment).length;
  if (bytes > MAX_SEGMENT_BYTES) return `path segment ${shown} is ${bytes} bytes long (at most ${MAX_SEGMENT_BYTES})`;
  if (CONTROL.test(segment)) return `path segment ${shown} contains a control character`;
  if (LONE_SURROGATE.test(segment)) return `path segment ${shown} contains an unpaired surrogate`;
  if (segment.includes('\\')) return `path segment ${shown} contains a backslash`;
  if (segment.includes('@')) return `path segment ${shown} contains "@" (reserved for variants)`;
  return undefined;
}

/** Validates a config path and returns it without its leading and trailing `/`. */
export function normalizeConfigPath(raw: string): string {
  let path = raw.startsWith('/') ? raw.slice(1) : raw;
  if (path.endsWith('/')) path = path.slice(0, -1);
  if (path === '') throw invalid('the path is empty', '');
  for (const segment of path.split('/')) {
    if (segment === '') throw invalid(`path ${JSON.stringify(raw)} has an empty segment`, '');
    const problem = segmentProblem(segment);
    if (problem !== undefined) throw invalid(problem, segment);
  }
  return path;
}

/**
 * Validates a variant name (the part after `@`). Variants are short URL-safe labels (`prod`,
 * `eu-west-1`), so the segment rules collapse to a character class plus a length cap.
 */
export function normalizeVariant(raw: string): string {
  const shown = JSON.stringify(raw);
  if (raw === '') throw invalid('the variant is empty', raw);
  if (raw === '.' || raw === '..') throw invalid(`variant ${shown} is not allowed`, raw);
  if (!VARIANT_CHARS.test(raw)) {
    throw invalid(`variant ${shown} may only contain A-Z, a-z, 0-9, ".", "_" and "-"`, raw);
  }
  // The character class is ASCII, so characters and UTF-8 bytes are the same count here.
  if (raw.length > MAX_VARIANT_BYTES) {
    throw invalid(`variant ${shown} is ${raw.length} bytes long (at most ${MAX_VARIANT_BYTES})`, raw);
  }
  return raw;
}

/** The store's name for one file: the path, or `path@variant`. */
export function fileKeyOf(path: string, variant?: string): string {
  return variant === undefined || variant === '' ? path : `${path}@${variant}`;
}

/** Inverse of {@link fileKeyOf}. Segments never contain `@`, so the first one is the separator. */
export function splitFileKey(key: string): { path: string; variant: string | undefined } {
  const at = key.indexOf('@');
  if (at === -1) return { path: key, variant: undefined };
  return { path: key.slice(0, at), variant: key.slice(at + 1) };
}

/** The folder holding `path`; '' is the root. */
export function parentFolder(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

/** The last segment of `path`. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Every folder above `path`, root first: `a/b/c` → `['', 'a', 'a/b']`. */
export function ancestorFolders(path: string): string[] {
  const segments = path.split('/');
  const folders = [''];
  for (let i = 1; i < segments.length; i++) folders.push(segments.slice(0, i).join('/'));
  return folders;
}
