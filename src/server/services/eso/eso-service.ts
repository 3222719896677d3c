import { AppError, isAppError } from '../../../shared/errors.ts';
import { fileKeyOf } from '../../domain/config-path.ts';
import { lookupProperty, parseDocumentExact, valueAsText } from '../../domain/exact-numbers.ts';
import type { Format } from '../../domain/formats.ts';
import { parseVersionSelector } from '../../domain/semver-select.ts';
import type { Permissions } from '../access/permissions.ts';
import type { FileMeta } from '../configs/config-records.ts';
import type { StoredVersion } from '../configs/config-repo.ts';
import type { ConfigService } from '../configs/config-service.ts';
import { describeKey, type Resolved, type Resolver } from '../configs/resolver.ts';
import type { EsoTarget } from './eso-target.ts';

export interface EsoServiceDeps {
  /** A resolver built with exact-numbers.ts `parseDocumentExact`: inheritance as `/data`, numbers as written. */
  readonly resolver: Pick<Resolver, 'resolve' | 'load'>;
  readonly configs: Pick<ConfigService, 'save' | 'remove'>;
}

export interface PushRequest {
  readonly path: string;
  readonly variant: string | undefined;
  readonly content: Uint8Array;
  /** Format of a new config, or a change of format; default: the current one, else guessed. */
  readonly format: Format | undefined;
}

export type EsoService = ReturnType<typeof createEsoService>;

const PUSH_DESCRIPTION = 'pushed by External Secrets Operator';

/**
 * The External Secrets Operator provider (SPEC §13.2): reads one value of a resolved config as
 * text, and writes/deletes configs for PushSecret. Reads resolve exactly like `/data` (same
 * resolver, same permission checks on every inherited source); only the parser differs, so
 * numbers reach the Secret as written. "Does not exist" (404) is reserved for a config, version
 * or property that really is not there, because ESO deletes its target on a 404.
 */
export function createEsoService(deps: EsoServiceDeps) {
  const { resolver, configs } = deps;

  async function read(perms: Permissions, target: EsoTarget): Promise<{ value: string; version: number }> {
    const key = fileKeyOf(target.path, target.variant);
    if (!perms.can('files.read', key, 'read')) throw new AppError('ERR_FORBIDDEN', `requires files.read on "${key}"`);
    const resolved = await resolver.resolve(key, parseVersionSelector(target.version), perms);
    return { value: valueOf(resolved, target.property), version: resolved.version };
  }

  /** Saves the pushed value as a new version, unless it equals the latest one (ESO re-pushes every refresh). */
  async function push(perms: Permissions, author: string, request: PushRequest): Promise<{ key: string; version: number; changed: boolean }> {
    const key = fileKeyOf(request.path, request.variant);
    if (!perms.can('files.write', key, 'write')) throw new AppError('ERR_FORBIDDEN', `requires files.write on "${key}"`);
    const current = await latest(key);
    const meta = pushedMeta(current?.stored.header.meta, request);
    if (current && current.stored.header.meta.format === meta.format && sameBytes(current.stored.body, request.content)) return { key, version: current.version, changed: false };
    const saved = await configs.save(perms, author, {
      path: request.path,
      variant: request.variant,
      meta,
      data: request.content,
      // Two pushes racing: the later one gets a 409 and ESO retries it.
      expectedVersion: current?.version ?? 0,
      constraint: '',
    });
    return { key, version: saved.version, changed: true };
  }

  /** Deletes a config (a base path takes its variants along, as the file API does); a missing one is not an error. */
  async function remove(perms: Permissions, author: string, target: Pick<EsoTarget, 'path' | 'variant'>): Promise<{ deleted: boolean }> {
    try {
      await configs.remove(perms, author, { path: target.path, variant: target.variant }, undefined);
      return { deleted: true };
    } catch (err) {
      if (isAppError(err) && err.code === 'ERR_FILE_NOT_FOUND') return { deleted: false };
      throw err;
    }
  }

  async function latest(key: string): Promise<{ version: number; stored: StoredVersion } | undefined> {
    try {
      return await resolver.load(key, { kind: 'latest' });
    } catch (err) {
      if (isAppError(err) && (err.code === 'ERR_FILE_NOT_FOUND' || err.code === 'ERR_VERSION_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  return { read, push, remove };
}

/** The whole config (raw text as is, anything else as compact JSON), or one property as text. */
function valueOf(resolved: Resolved, property: string | undefined): string {
  const label = describeKey(resolved.fileKey);
  let doc: unknown = resolved.doc;
  if (resolved.raw !== undefined) {
    const text = new TextDecoder().decode(resolved.raw);
    if (resolved.format === 'raw') {
      if (property !== undefined) throw new AppError('ERR_ESO_PROPERTY_NOT_FOUND', `config "${label}" is raw text; it has no property "${property}"`);
      return text;
    }
    doc = parseDocumentExact(text, resolved.format);
  }
  if (property === undefined) return valueAsText(doc);
  const found = lookupProperty(doc, property);
  if (!found.found) throw new AppError('ERR_ESO_PROPERTY_NOT_FOUND', `config "${label}" has no property "${property}"`, { details: { property } });
  return valueAsText(found.value);
}

/** An existing config keeps its description and inheritance, and its format unless the push names one. */
function pushedMeta(current: FileMeta | undefined, request: PushRequest): FileMeta {
  if (current) return { ...current, format: request.format ?? current.format };
  return { format: request.format ?? guessFormat(request.content), description: PUSH_DESCRIPTION, inherits: [] };
}

/** A pushed JSON object is stored as a json config; anything else as raw text. */
function guessFormat(content: Uint8Array): Format {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? 'json' : 'raw';
  } catch {
    return 'raw';
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
