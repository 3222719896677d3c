import { type Capability, isPathScoped } from '../../../shared/capabilities.ts';
import { AppError } from '../../../shared/errors.ts';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import type { BatchOp, Condition, Store } from '../../storage/store.ts';
import { isStoreConflict } from '../../storage/store.ts';
import type { Grants } from '../access/permissions.ts';
import { type BundleRecord, newId, nowIso } from './identity-records.ts';

export interface BundleInput {
  key: string;
  name: string;
  description?: string | undefined;
  keys: Capability[];
  key_patterns?: Partial<Record<Capability, string[]>> | undefined;
}

export interface BundleServiceDeps {
  readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>;
  readonly clock: () => number;
  readonly onChange: () => void;
}

const BUNDLE_KEY = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export type BundleService = ReturnType<typeof createBundleService>;

/** Permission bundles: named sets of capabilities, optionally limited to path patterns (seed 002). */
export function createBundleService(deps: BundleServiceDeps) {
  const { store, clock, onChange } = deps;

  async function get(id: string): Promise<BundleRecord | undefined> {
    const entry = await store.get(identityKeys.bundle(id));
    return entry ? decodeJson<BundleRecord>(entry.value) : undefined;
  }

  async function list(): Promise<BundleRecord[]> {
    const out: BundleRecord[] = [];
    for await (const item of store.iterate(identityKeys.bundlePrefix)) out.push(decodeJson<BundleRecord>(item.value));
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async function write(record: BundleRecord, ops: BatchOp[], conditions: Condition[]): Promise<BundleRecord> {
    try {
      await store.batch([{ type: 'put', key: identityKeys.bundle(record.id), value: encodeJson(record) }, ...ops], conditions);
    } catch (err) {
      if (isStoreConflict(err) && err.key.startsWith('id/bundlekey/')) throw new AppError('ERR_BUNDLE_KEY_TAKEN', `a bundle with key "${record.key}" exists`);
      throw err;
    }
    onChange();
    return record;
  }

  async function create(input: BundleInput): Promise<BundleRecord> {
    const normalized = normalize(input);
    const now = nowIso(clock);
    const record: BundleRecord = { id: newId(), ...normalized, created_at: now, updated_at: now };
    return write(record, [{ type: 'put', key: identityKeys.bundleKey(record.key), value: new TextEncoder().encode(record.id) }], [
      { key: identityKeys.bundleKey(record.key), revision: 0 },
    ]);
  }

  async function update(id: string, patch: Partial<BundleInput>): Promise<BundleRecord> {
    const entry = await store.get(identityKeys.bundle(id));
    if (!entry) throw new AppError('ERR_BUNDLE_NOT_FOUND');
    const current = decodeJson<BundleRecord>(entry.value);
    const merged = { ...current, ...stripUndefined(patch) };
    // Narrowing `keys` alone drops the patterns of the capabilities it removed, rather than
    // rejecting the patch because the stored patterns now name a capability not in keys.
    if (patch.keys !== undefined && patch.key_patterns === undefined) merged.key_patterns = keepPatternsOf(current.key_patterns, patch.keys);
    const next = normalize(merged);
    const record: BundleRecord = { ...current, ...next, updated_at: nowIso(clock) };
    const ops: BatchOp[] = [];
    const conditions: Condition[] = [{ key: identityKeys.bundle(id), revision: entry.revision }];
    if (record.key !== current.key) {
      ops.push({ type: 'del', key: identityKeys.bundleKey(current.key) });
      ops.push({ type: 'put', key: identityKeys.bundleKey(record.key), value: new TextEncoder().encode(id) });
      conditions.push({ key: identityKeys.bundleKey(record.key), revision: 0 });
    }
    return write(record, ops, conditions);
  }

  async function remove(id: string): Promise<BundleRecord> {
    const current = await get(id);
    if (!current) throw new AppError('ERR_BUNDLE_NOT_FOUND');
    await store.batch([
      { type: 'del', key: identityKeys.bundle(id) },
      { type: 'del', key: identityKeys.bundleKey(current.key) },
    ]);
    onChange();
    return current;
  }

  return { get, list, create, update, remove };
}

/** A bundle's grants: a capability with no patterns is unrestricted. */
export function bundleGrants(bundle: BundleRecord): Grants {
  const grants = new Map<Capability, 'all' | string[]>();
  for (const cap of bundle.keys) {
    const patterns = bundle.key_patterns[cap];
    grants.set(cap, patterns && patterns.length > 0 && isPathScoped(cap) ? patterns : 'all');
  }
  return grants;
}

function normalize(input: BundleInput): Omit<BundleRecord, 'id' | 'created_at' | 'updated_at'> {
  if (!BUNDLE_KEY.test(input.key)) throw new AppError('ERR_VALIDATION', 'key: lower-case letters, digits, . _ -, up to 64 characters');
  const keys = [...new Set(input.keys)];
  const patterns: Partial<Record<Capability, string[]>> = {};
  for (const [cap, list] of Object.entries(input.key_patterns ?? {}) as [Capability, string[]][]) {
    if (!keys.includes(cap)) throw new AppError('ERR_VALIDATION', `key_patterns.${cap}: the capability is not in keys`);
    if (!isPathScoped(cap) && list.length > 0) throw new AppError('ERR_VALIDATION', `key_patterns.${cap}: this capability is not limited by paths`);
    const cleaned = list.map((p) => p.trim()).filter((p) => p !== '');
    if (cleaned.length > 0) patterns[cap] = [...new Set(cleaned)];
  }
  return { key: input.key, name: input.name, description: input.description ?? '', keys, key_patterns: patterns };
}

function keepPatternsOf(patterns: Partial<Record<Capability, string[]>>, keys: readonly Capability[]): Partial<Record<Capability, string[]>> {
  return Object.fromEntries(Object.entries(patterns).filter(([cap]) => keys.includes(cap as Capability)));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
