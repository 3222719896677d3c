import type { KubernetesObject, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { PikaConfig } from '../../shared/crds/index.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../kube/informers.ts';
import { FIELD_MANAGER } from '../kube/kube.ts';

/**
 * The Secret or ConfigMap a PikaConfig writes, as the exact field set the operator owns under
 * server-side apply: data keys, our label and owner annotation, template labels/annotations/type,
 * and (creationPolicy Owner) the controller ownerReference. Keys dropped from the source vanish
 * from the target because SSA removes fields a manager stops applying; with creationPolicy Merge
 * the keys other writers own are untouched.
 */

/** Names the PikaConfig a target belongs to (a label value could not hold a 253-character name). */
export const OWNER_ANNOTATION = 'pika.io/pikaconfig';

export type TargetObject = V1Secret | V1ConfigMap;

export function targetKind(config: PikaConfig): 'Secret' | 'ConfigMap' {
  return config.spec.target.kind ?? 'Secret';
}

/** The entries a target holds now (ConfigMap `data` and `binaryData` together). */
export function entriesOf(obj: TargetObject | undefined, kind: 'Secret' | 'ConfigMap'): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!obj) return out;
  if (kind === 'Secret') {
    for (const [k, v] of Object.entries((obj as V1Secret).data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  } else {
    const cm = obj as V1ConfigMap;
    for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  }
  return out;
}

/** Who may write into an existing object: nobody else's object is ever taken over. */
export function claimOf(obj: KubernetesObject | undefined, config: PikaConfig): 'absent' | 'ours' | 'other-config' | 'unmanaged' {
  if (!obj) return 'absent';
  const owner = obj.metadata?.annotations?.[OWNER_ANNOTATION];
  if (owner === config.metadata.name) return 'ours';
  if (owner !== undefined) return 'other-config';
  return 'unmanaged';
}

const isUtf8 = (b: Buffer): boolean => Buffer.from(b.toString('utf8'), 'utf8').equals(b);

function metadataOf(config: PikaConfig, name: string) {
  const template = config.spec.target.template;
  const owned = (config.spec.target.creationPolicy ?? 'Owner') === 'Owner';
  return {
    name,
    namespace: config.metadata.namespace ?? 'default',
    labels: { ...(template?.metadata?.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY },
    annotations: { ...(template?.metadata?.annotations ?? {}), [OWNER_ANNOTATION]: config.metadata.name ?? '' },
    ...(owned ? { ownerReferences: [{ apiVersion: config.apiVersion, kind: config.kind, name: config.metadata.name ?? '', uid: config.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }] } : {}),
  };
}

function secretOf(config: PikaConfig, name: string, entries: ReadonlyMap<string, Buffer>): V1Secret {
  const data: Record<string, string> = {};
  for (const [k, v] of entries) data[k] = v.toString('base64');
  // With Merge the object's type is someone else's to set.
  const type = config.spec.target.creationPolicy === 'Merge' ? {} : { type: config.spec.target.template?.type ?? 'Opaque' };
  return { apiVersion: 'v1', kind: 'Secret', metadata: metadataOf(config, name), ...type, data };
}

function configMapOf(config: PikaConfig, name: string, entries: ReadonlyMap<string, Buffer>): V1ConfigMap {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (isUtf8(v)) data[k] = v.toString('utf8');
    else binaryData[k] = v.toString('base64');
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadataOf(config, name), data, ...(Object.keys(binaryData).length > 0 ? { binaryData } : {}) };
}

export function buildTarget(config: PikaConfig, name: string, entries: ReadonlyMap<string, Buffer>): TargetObject {
  return targetKind(config) === 'Secret' ? secretOf(config, name, entries) : configMapOf(config, name, entries);
}

const includes = (want: Record<string, string> | undefined, got: Record<string, string> | undefined) => Object.entries(want ?? {}).every(([k, v]) => got?.[k] === v);

function sameEntries(current: TargetObject, kind: 'Secret' | 'ConfigMap', entries: ReadonlyMap<string, Buffer>): boolean {
  const have = entriesOf(current, kind);
  for (const [k, v] of entries) if (!have.get(k)?.equals(v)) return false;
  // A key we wrote before and no longer want: applying again is what removes it.
  return appliedKeys(current).every((k) => entries.has(k));
}

function sameShape(current: TargetObject, desired: TargetObject): boolean {
  if (!includes(desired.metadata?.labels, current.metadata?.labels) || !includes(desired.metadata?.annotations, current.metadata?.annotations)) return false;
  const wantType = (desired as V1Secret).type;
  if (wantType !== undefined && (current as V1Secret).type !== wantType) return false;
  const wantOwner = desired.metadata?.ownerReferences?.[0];
  return !wantOwner || (current.metadata?.ownerReferences ?? []).some((o) => o.uid === wantOwner.uid && o.controller === true);
}

/**
 * True when `current` already carries everything `desired` sets, so no write is needed. Keys
 * another writer added are tolerated (server-side apply could not remove fields it does not own,
 * and fighting another controller would flap); our keys edited or deleted are drift.
 */
export function holds(current: TargetObject | undefined, desired: TargetObject, kind: 'Secret' | 'ConfigMap', entries: ReadonlyMap<string, Buffer>): boolean {
  return current !== undefined && sameEntries(current, kind, entries) && sameShape(current, desired);
}

/** Data keys this operator owns in `obj`, from its server-side apply managedFields entry. */
export function appliedKeys(obj: KubernetesObject): string[] {
  const entry = obj.metadata?.managedFields?.find((m) => m.manager === FIELD_MANAGER && m.operation === 'Apply');
  const fields = entry?.fieldsV1 as Record<string, Record<string, unknown> | undefined> | undefined;
  return [...Object.keys(fields?.['f:data'] ?? {}), ...Object.keys(fields?.['f:binaryData'] ?? {})].filter((k) => k.startsWith('f:')).map((k) => k.slice(2));
}
