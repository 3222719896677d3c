import type { ConfigRef, Format } from '~/api/configs.ts';

/**
 * Pure helpers for config paths and variants, mirroring the server's rules
 * (docs/guides/configs.md "Paths and folders") so dialogs can explain a bad name before sending it.
 */

const encoder = new TextEncoder();
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const VARIANT = /^[A-Za-z0-9._-]{1,64}$/;

/** Trims blanks and leading/trailing slashes (the server ignores them too). */
export function normalizePath(input: string): string {
  return input.trim().replace(/^\/+|\/+$/g, '');
}

/** Why `path` is not a valid config path, or `undefined` when it is. */
export function pathProblem(input: string): string | undefined {
  const path = normalizePath(input);
  if (path === '') return 'Enter a path, e.g. myapp/config.';
  for (const segment of path.split('/')) {
    if (segment === '') return 'A path cannot contain an empty segment (//).';
    if (segment === '.' || segment === '..') return `"${segment}" is not allowed as a path segment.`;
    if (segment.includes('@')) return `"${segment}" contains "@", which is reserved for variants.`;
    if (segment.includes('\\')) return `"${segment}" contains a backslash.`;
    if (CONTROL.test(segment)) return `"${segment}" contains a control character.`;
    if (encoder.encode(segment).length > 255) return `"${segment.slice(0, 20)}…" is longer than 255 bytes.`;
  }
  return undefined;
}

export function variantProblem(name: string): string | undefined {
  if (name === '') return 'Enter a variant name, e.g. prod.';
  return VARIANT.test(name) ? undefined : 'Use 1–64 letters, digits, ".", "_" or "-".';
}

export function parentOf(path: string): string {
  const at = path.lastIndexOf('/');
  return at === -1 ? '' : path.slice(0, at);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(folder: string, name: string): string {
  return folder === '' ? name : `${folder}/${name}`;
}

/** `path` or `path@variant`, the form inheritance sources and the tree use. */
export function fileKey(ref: ConfigRef): string {
  return ref.variant ? `${ref.path}@${ref.variant}` : ref.path;
}

export function sameRef(a: ConfigRef | undefined, b: ConfigRef | undefined): boolean {
  return a !== undefined && b !== undefined && a.path === b.path && (a.variant ?? '') === (b.variant ?? '');
}

/** The console route of a config (hash routing), as a router location. */
export function configLocation(ref: ConfigRef): { path: string; query: Record<string, string> } {
  return { path: `/configs/${ref.path}`, query: ref.variant ? { variant: ref.variant } : {} };
}

/** A document that parses as an empty map in each format: what new files and variants start from. */
export function emptyDocument(format: Format): string {
  return format === 'json' ? '{}\n' : format === 'yaml' ? '{}\n' : '';
}

export function decodeBase64(data: string): { text: string; binary: boolean } {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), binary: false };
  } catch {
    return { text: '', binary: true };
  }
}
