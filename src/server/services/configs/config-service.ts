import { createHash } from 'node:crypto';
import { AppError } from '../../../shared/errors.ts';
import { baseName, fileKeyOf, parentFolder } from '../../domain/config-path.ts';
import { contentTypeOf, type Format, validateSyntax } from '../../domain/formats.ts';
import { effectiveConstraints, type VersionSelector } from '../../domain/semver-select.ts';
import type { Permissions } from '../access/permissions.ts';
import type { ConfigRepo } from './config-repo.ts';
import { type FileMeta, isDeleted } from './config-records.ts';
import type { ConfigWriter } from './config-writer.ts';
import type { CachedResponse, DataCache } from './data-cache.ts';
import { normalizeInherits } from './inherit-entries.ts';
import { renderOutput } from './output.ts';
import type { Resolver } from './resolver.ts';

export interface ConfigServiceDeps {
  readonly repo: ConfigRepo;
  readonly writer: ConfigWriter;
  readonly resolver: Resolver;
  readonly cache: DataCache;
}

/** A config address as the routes parse it: normalised path and optional variant. */
export interface ConfigRef {
  readonly path: string;
  readonly variant?: string | undefined;
}

export interface SaveRequest extends ConfigRef {
  meta: FileMeta;
  data: Uint8Array;
  expectedVersion?: number | undefined;
  constraint: string;
}

export type ConfigService = ReturnType<typeof createConfigService>;

/**
 * The config use cases behind `/api/v1` and `/data` (SPEC §4–§5). Every method takes the caller's
 * permissions and checks them against the exact file key (variants included) before touching data.
 */
export function createConfigService(deps: ConfigServiceDeps) {
  const { repo, writer, resolver, cache } = deps;

  function check(perms: Permissions, cap: 'files.read' | 'files.write', key: string, op: 'read' | 'write' | 'delete'): void {
    if (!perms.can(cap, key, op)) throw new AppError('ERR_FORBIDDEN', `requires ${cap} on "${key}"`);
  }

  async function getFile(perms: Permissions, ref: ConfigRef, selector: VersionSelector) {
    const key = fileKeyOf(ref.path, ref.variant);
    check(perms, 'files.read', key, 'read');
    const { version, stored, record } = await resolver.load(key, selector);
    const entry = record.versions.find((v) => v.version === version);
    return { path: ref.path, variant: ref.variant, version, constraint: entry?.constraint ?? '', meta: stored.header.meta, data: stored.body, author: stored.header.author, created_at: stored.header.created_at };
  }

  async function save(perms: Permissions, author: string, request: SaveRequest) {
    const key = fileKeyOf(request.path, request.variant);
    check(perms, 'files.write', key, 'write');
    const meta: FileMeta = { format: request.meta.format, description: request.meta.description, inherits: normalizeInherits(request.meta.inherits) };
    if (meta.format === 'raw' && meta.inherits.length > 0) throw new AppError('ERR_INHERIT_INVALID', 'a raw config cannot inherit; use json, yaml or toml');
    validateSyntax(new TextDecoder().decode(request.data), meta.format);
    const { version } = await writer.save({ ...request, meta, author });
    return { path: request.path, variant: request.variant, version, meta, data: request.data };
  }

  async function remove(perms: Permissions, author: string, ref: ConfigRef, version: number | undefined): Promise<void> {
    const key = fileKeyOf(ref.path, ref.variant);
    check(perms, 'files.write', key, 'delete');
    if (version === undefined) {
      if (ref.variant === undefined) for (const variantKey of await repo.variantKeys(ref.path)) check(perms, 'files.write', variantKey, 'delete');
      await writer.deleteFile(ref.path, ref.variant, author);
    } else await writer.deleteVersion(ref.path, ref.variant, version, author);
  }

  async function versions(perms: Permissions, ref: ConfigRef) {
    const key = fileKeyOf(ref.path, ref.variant);
    check(perms, 'files.read', key, 'read');
    const record = await repo.file(key);
    if (!record) throw new AppError('ERR_FILE_NOT_FOUND', `config "${key}" does not exist`);
    const effective = effectiveConstraints(record.versions.map((v) => ({ version: v.version, constraint: v.constraint, deleted: isDeleted(v) })));
    return record.versions.map((v) => ({ version: v.version, constraint: v.constraint, effective_constraint: effective.get(v.version) ?? '', deleted: isDeleted(v), status: v.status }));
  }

  async function setConstraint(perms: Permissions, author: string, change: ConfigRef & { version: number; constraint: string }): Promise<void> {
    const key = fileKeyOf(change.path, change.variant);
    check(perms, 'files.write', key, 'write');
    await writer.setConstraint({ ...change, author });
  }

  async function variants(perms: Permissions, path: string): Promise<string[]> {
    check(perms, 'files.read', path, 'read');
    const { row } = await repo.fileRow(parentFolder(path), baseName(path));
    if (!row) throw new AppError('ERR_FILE_NOT_FOUND', `config "${path}" does not exist`);
    return row.variants.filter((v) => perms.can('files.read', fileKeyOf(path, v), 'read'));
  }

  async function listFolder(perms: Permissions, folder: string) {
    if (!perms.can('files.read')) throw new AppError('ERR_FORBIDDEN', 'requires files.read');
    // Permission before existence: a 404 for missing folders next to a 403 for existing ones
    // would tell a caller which folders exist outside their patterns.
    if (!perms.canSeeFolder(folder)) throw new AppError('ERR_FORBIDDEN', `requires files.read under "${folder}"`);
    if (!(await repo.folderExists(folder, parentFolder(folder), baseName(folder)))) throw new AppError('ERR_FOLDER_NOT_FOUND', `folder "${folder}" does not exist`);
    const join = (name: string) => (folder === '' ? name : `${folder}/${name}`);
    const children = await repo.children(folder);
    const files = children.files.filter((f) => perms.can('files.read', join(f.name), 'read'));
    return {
      path: folder,
      folders: children.folders.filter((name) => perms.canSeeFolder(join(name)) || perms.can('files.read', join(name), 'read')),
      files: files.map((f) => f.name),
      variants: Object.fromEntries(files.map((f) => [f.name, f.variants.filter((v) => perms.can('files.read', fileKeyOf(join(f.name), v), 'read'))])),
    };
  }

  async function createFolder(perms: Permissions, path: string): Promise<void> {
    check(perms, 'files.write', path, 'write');
    await writer.createFolder(path);
  }

  async function deleteFolder(perms: Permissions, author: string, path: string): Promise<number> {
    check(perms, 'files.write', path, 'delete');
    for (const key of await repo.fileKeysUnder(path)) check(perms, 'files.write', key, 'delete');
    return writer.deleteFolder(path, author);
  }

  /** Resolves unsaved content; resolution problems are returned, not thrown (upstream §1.4). */
  async function render(perms: Permissions, ref: ConfigRef, draft: { meta: FileMeta; content: string }, format: Format | undefined) {
    const key = fileKeyOf(ref.path, ref.variant);
    check(perms, 'files.read', key, 'read');
    try {
      const meta: FileMeta = { ...draft.meta, inherits: normalizeInherits(draft.meta.inherits) };
      const body = new TextEncoder().encode(draft.content);
      if (meta.inherits.length === 0) validateSyntax(draft.content, meta.format);
      const resolved = await resolver.resolveDraft(key, meta, body, perms);
      const out = renderOutput(resolved, format);
      return { data: out.body.toString('base64'), content: out.body.toString('utf8'), format: out.format, sources: resolved.deps.slice(1) };
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      return { data: '', content: '', format: format ?? draft.meta.format, error: err.message, code: err.code, details: err.details };
    }
  }

  /** The `/data` read: cached per (config, version selector, format), re-checking every source. */
  async function read(perms: Permissions, ref: ConfigRef, selector: VersionSelector, format: Format | undefined): Promise<CachedResponse> {
    const key = fileKeyOf(ref.path, ref.variant);
    check(perms, 'files.read', key, 'read');
    const cacheKey = `${key}\u0000${selector.kind === 'latest' ? '' : String(selector.version)}\u0000${format ?? ''}`;
    const hit = cache.get(cacheKey);
    if (hit) {
      for (const dep of hit.deps.slice(1)) if (!perms.can('files.read', dep, 'read')) throw new AppError('ERR_INHERIT_FORBIDDEN', `you may not read "${dep}", which "${key}" inherits`);
      return hit;
    }
    const startedAt = cache.mark();
    const resolved = await resolver.resolve(key, selector, perms);
    const out = renderOutput(resolved, format);
    const response: CachedResponse = {
      body: out.body,
      contentType: contentTypeOf(out.format),
      etag: `"${createHash('sha256').update(out.body).digest('base64url').slice(0, 32)}"`,
      version: resolved.version,
      deps: resolved.deps,
    };
    // Responses built from external resources are not cached: their values change without an
    // event to invalidate on, and the cache-hit path only re-checks internal sources.
    if (resolved.resources.length === 0) cache.set(cacheKey, response, startedAt);
    return response;
  }

  return { getFile, save, remove, versions, setConstraint, variants, listFolder, createFolder, deleteFolder, render, read, isLive: cache.isLive };
}
