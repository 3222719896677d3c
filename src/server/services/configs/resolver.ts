import { AppError, isAppError } from '../../../shared/errors.ts';
import { splitFileKey } from '../../domain/config-path.ts';
import { injectAt, pickPaths } from '../../domain/doc-paths.ts';
import { type Format, parseDocument } from '../../domain/formats.ts';
import { deepMerge } from '../../../shared/merge.ts';
import { selectVersion, type VersionSelector } from '../../domain/semver-select.ts';
import type { Permissions } from '../access/permissions.ts';
import type { ExternalSources } from '../externals/external-sources.ts';
import type { ConfigRepo, StoredVersion } from './config-repo.ts';
import { type FileMeta, type FileRecord, isDeleted, type InheritEntry } from './config-records.ts';

export const MAX_INHERIT_DEPTH = 16;

export interface ResolverDeps {
  readonly repo: Pick<ConfigRepo, 'file' | 'version'>;
  readonly externals: ExternalSources;
  /** How documents are parsed (default formats.ts `parseDocument`; the ESO reader keeps number text). */
  readonly parse?: DocumentParser;
}

export type DocumentParser = (text: string, format: Exclude<Format, 'raw'>) => unknown;

/** A resolved config: either the exact stored bytes (nothing inherited) or a merged document. */
export interface Resolved {
  readonly fileKey: string;
  readonly version: number;
  readonly format: Format;
  readonly raw: Uint8Array | undefined;
  readonly doc: unknown;
  /** Every config file key read on the way, the requested one first (cache invalidation). */
  readonly deps: readonly string[];
  /** External resources read on the way; their values change without any event of ours. */
  readonly resources: readonly string[];
}

interface Walk {
  readonly perms: Permissions;
  readonly chain: string[];
  readonly deps: Set<string>;
  readonly resources: Set<string>;
}

export type Resolver = ReturnType<typeof createResolver>;

/**
 * Inheritance (SPEC §4): start from `{}`, deep-merge each `meta.inherits` entry in order, then
 * the file's own content. Internal sources resolve recursively (their newest live version) with
 * cycle and depth checks; the caller must be allowed to read every source, so a permitted config
 * never leaks a forbidden one.
 */
export function createResolver(deps: ResolverDeps) {
  const { repo, externals } = deps;
  const parse = deps.parse ?? parseDocument;

  function versionInfo(record: FileRecord) {
    return record.versions.map((v) => ({ version: v.version, constraint: v.constraint, deleted: isDeleted(v) }));
  }

  /** The stored version a selector picks (404 codes when there is none): `/data` and the file API share it. */
  async function load(fileKey: string, selector: VersionSelector): Promise<{ version: number; stored: StoredVersion; record: FileRecord }> {
    const record = await repo.file(fileKey);
    if (!record) throw new AppError('ERR_FILE_NOT_FOUND', `config "${describeKey(fileKey)}" does not exist`);
    const version = selectVersion(versionInfo(record), selector);
    const stored = version === undefined ? undefined : await repo.version(fileKey, version);
    if (version === undefined || !stored) throw new AppError('ERR_VERSION_NOT_FOUND', `no version of "${describeKey(fileKey)}" matches ${describeSelector(selector)}`);
    return { version, stored, record };
  }

  /** Resolves a saved config. The caller has already been checked for `fileKey` itself. */
  async function resolve(fileKey: string, selector: VersionSelector, perms: Permissions): Promise<Resolved> {
    const { version, stored } = await load(fileKey, selector);
    const walk = newWalk(fileKey, perms);
    const meta = stored.header.meta;
    if (meta.inherits.length === 0) return { fileKey, version, format: meta.format, raw: stored.body, doc: undefined, deps: [fileKey], resources: [] };
    const doc = await mergeWithInherits(meta, stored.body, walk);
    return { fileKey, version, format: meta.format, raw: undefined, doc, deps: [...walk.deps], resources: [...walk.resources] };
  }

  /** Resolves unsaved content as if it were saved at `fileKey` (the render preview). */
  async function resolveDraft(fileKey: string, meta: FileMeta, body: Uint8Array, perms: Permissions): Promise<Resolved> {
    const walk = newWalk(fileKey, perms);
    if (meta.inherits.length === 0) return { fileKey, version: 0, format: meta.format, raw: body, doc: undefined, deps: [fileKey], resources: [] };
    const doc = await mergeWithInherits(meta, body, walk);
    return { fileKey, version: 0, format: meta.format, raw: undefined, doc, deps: [...walk.deps], resources: [...walk.resources] };
  }

  async function mergeWithInherits(meta: FileMeta, body: Uint8Array, walk: Walk): Promise<unknown> {
    if (meta.format === 'raw') throw new AppError('ERR_INHERIT_INVALID', 'a raw config cannot inherit; use json, yaml or toml');
    let base: unknown = {};
    for (const entry of meta.inherits) base = deepMerge(base, await loadEntry(entry, walk));
    const own = parse(new TextDecoder().decode(body), meta.format);
    return deepMerge(base, own ?? {});
  }

  async function loadEntry(entry: InheritEntry, walk: Walk): Promise<unknown> {
    let value = entry.source !== undefined ? await loadSource(entry.source, walk) : await loadExternal(entry, walk);
    const label = entry.source ?? `resource ${entry.resource ?? ''}`;
    if (typeof value === 'string') {
      if (entry.format !== undefined && entry.format !== 'raw') value = decodeString(value, { format: entry.format, label, parse });
      else if (entry.inject === undefined) value = { value };
    }
    if (entry.paths !== undefined) value = pickPaths(value, entry.paths);
    if (entry.inject !== undefined) value = injectAt(value, entry.inject);
    return value;
  }

  async function loadSource(sourceKey: string, walk: Walk): Promise<unknown> {
    if (!walk.perms.can('files.read', sourceKey, 'read'))
      throw new AppError('ERR_INHERIT_FORBIDDEN', `you may not read "${describeKey(sourceKey)}", which "${describeKey(walk.chain[0] ?? '')}" inherits`);
    if (walk.chain.includes(sourceKey)) throw new AppError('ERR_INHERIT_CYCLE', `inheritance cycle: ${[...walk.chain, sourceKey].map(describeKey).join(' → ')}`);
    // The chain holds the configs above this source, so its length is this source's level:
    // 16 levels of inheritance are allowed, the 17th is refused (the message says "deeper than").
    if (walk.chain.length > MAX_INHERIT_DEPTH) throw new AppError('ERR_INHERIT_DEPTH', `inheritance is nested deeper than ${MAX_INHERIT_DEPTH} levels at "${describeKey(sourceKey)}"`);
    walk.deps.add(sourceKey);
    let loaded: { stored: StoredVersion };
    try {
      loaded = await load(sourceKey, { kind: 'latest' });
    } catch (err) {
      if (isAppError(err) && (err.code === 'ERR_FILE_NOT_FOUND' || err.code === 'ERR_VERSION_NOT_FOUND'))
        throw new AppError('ERR_INHERIT_SOURCE_NOT_FOUND', `inherited config "${describeKey(sourceKey)}" does not exist`);
      throw err;
    }
    const { meta } = loaded.stored.header;
    const text = new TextDecoder().decode(loaded.stored.body);
    if (meta.format === 'raw') return text;
    walk.chain.push(sourceKey);
    try {
      if (meta.inherits.length === 0) return withSourceContext(sourceKey, () => parse(text, meta.format as Exclude<Format, 'raw'>));
      return await mergeWithInherits(meta, loaded.stored.body, walk);
    } finally {
      walk.chain.pop();
    }
  }

  async function loadExternal(entry: InheritEntry, walk: Walk): Promise<unknown> {
    const name = entry.resource ?? '';
    if (!walk.perms.can('external.read', name, 'read')) throw new AppError('ERR_INHERIT_FORBIDDEN', `you may not read external resource "${name}"`);
    walk.resources.add(name);
    try {
      return await externals.fetch(name, entry.path ?? '');
    } catch (err) {
      // A provider's own catalog errors pass through; anything else (network, parsing, a bug in
      // the provider) is the upstream's failure, which SPEC §5 answers with 502, not 500.
      if (isAppError(err)) throw err;
      throw new AppError('ERR_EXTERNAL_FAILED', `external resource "${name}" failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  return { resolve, resolveDraft, load };
}

function newWalk(fileKey: string, perms: Permissions): Walk {
  return { perms, chain: [fileKey], deps: new Set([fileKey]), resources: new Set() };
}

function decodeString(text: string, how: { format: Exclude<Format, 'raw'>; label: string; parse: DocumentParser }): unknown {
  return withSourceContext(how.label, () => how.parse(text, how.format));
}

function withSourceContext<T>(label: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isAppError(err) && err.code === 'ERR_SYNTAX') throw new AppError('ERR_SYNTAX', `${describeKey(label)}: ${err.message}`, err.details ? { details: err.details } : undefined);
    throw err;
  }
}

export function describeKey(fileKey: string): string {
  const { path, variant } = splitFileKey(fileKey);
  return variant === undefined ? path : `${path} (variant ${variant})`;
}

function describeSelector(selector: VersionSelector): string {
  if (selector.kind === 'latest') return 'the latest version';
  return selector.kind === 'exact' ? `version ${selector.version}` : `app version ${selector.version}`;
}
