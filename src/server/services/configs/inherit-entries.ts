import { AppError } from '../../../shared/errors.ts';
import { fileKeyOf, normalizeConfigPath, normalizeVariant } from '../../domain/config-path.ts';
import { splitDotPath } from '../../domain/doc-paths.ts';
import { parseFormat } from '../../domain/formats.ts';
import type { InheritEntry } from './config-records.ts';

export const MAX_INHERIT_ENTRIES = 64;
const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Validates and normalises `meta.inherits` (SPEC §4): each entry names exactly one internal
 * `source` (`path[@variant]`) or external `resource`, with optional `paths`, `inject`, `format`.
 */
export function normalizeInherits(entries: readonly InheritEntry[]): InheritEntry[] {
  if (entries.length > MAX_INHERIT_ENTRIES) throw new AppError('ERR_INHERIT_INVALID', `at most ${MAX_INHERIT_ENTRIES} inheritance entries are allowed`);
  return entries.map((entry, i) => {
    try {
      return normalizeEntry(entry);
    } catch (err) {
      if (err instanceof AppError) throw new AppError('ERR_INHERIT_INVALID', `inherits[${i}]: ${err.message}`);
      throw err;
    }
  });
}

function normalizeEntry(entry: InheritEntry): InheritEntry {
  const hasSource = entry.source !== undefined && entry.source !== '';
  const hasResource = entry.resource !== undefined && entry.resource !== '';
  if (hasSource === hasResource) throw new AppError('ERR_INHERIT_INVALID', 'set exactly one of "source" or "resource"');
  const out: InheritEntry = {};
  if (hasSource) {
    if (entry.path !== undefined) throw new AppError('ERR_INHERIT_INVALID', '"path" belongs to "resource" entries');
    out.source = normalizeSourceRef(entry.source ?? '');
  } else {
    if (!RESOURCE_NAME.test(entry.resource ?? '')) throw new AppError('ERR_INHERIT_INVALID', `invalid resource name "${entry.resource ?? ''}"`);
    out.resource = entry.resource;
    if (entry.path !== undefined) out.path = entry.path;
  }
  return { ...out, ...normalizeShaping(entry) };
}

/** The optional `paths`, `inject` and `format` of an entry. */
function normalizeShaping(entry: InheritEntry): InheritEntry {
  const out: InheritEntry = {};
  if (entry.paths !== undefined && entry.paths.length > 0) {
    for (const p of entry.paths) splitDotPath(p);
    out.paths = [...entry.paths];
  }
  if (entry.inject !== undefined && entry.inject !== '') {
    splitDotPath(entry.inject);
    out.inject = entry.inject;
  }
  if (entry.format !== undefined) out.format = parseFormat(entry.format);
  return out;
}

/** `path[@variant]` → the canonical file key. */
export function normalizeSourceRef(ref: string): string {
  const at = ref.indexOf('@');
  if (at === -1) return normalizeConfigPath(ref);
  return fileKeyOf(normalizeConfigPath(ref.slice(0, at)), normalizeVariant(ref.slice(at + 1)));
}
