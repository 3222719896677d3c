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

export function buildTarget(config: PikaConfig, name: string, entries: ReadonlyMap<string, Buffer>): TargetObject {
  const kind = targetKind(config);
  const template = config.spec.target.template;
  const metadata = {
    name,
    namespace: config.metadata.namespace ?? 'default',
    labels: { ...(template?.metadata?.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY },
    annotations: { ...(template?.metadata?.annotations ?? {}), [OWNER_ANNOTATION]: config.metadata.name ?? '' },
    ...((config.spec.target.creationPolicy ?? 'Owner') === 'Owner'
      ? { ownerReferences: [{ apiVersion: config.apiVersion, kind: config.kind, name: config.metadata.name ?? '', uid: config.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }] }
      : {}),
  };
  if (kind === 'Secret') {
    const data: Record<string, string> = {};
    for (const [k, v] of entries) data[k] = v.toString('base64');
    return { apiVersion: 'v1', kind: 'Secret', metadata, ...(config.spec.target.creationPolicy === 'Merge' ? {} : { type: template?.type ?? 'Opaque' }), data };
  }
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (isUtf8(v)) data[k] = v.toString('utf8');
    else binaryData[k] = v.toString('base64');
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data, ...(Object.keys(binaryData).length > 0 ? { binaryData } : {}) };
}

/**
 * True when `current` already carries everything `desired` sets, so no write is needed. Keys
 * another writer added are tolerated (server-side apply could not remove fields it does not own,
 * and fighting another controller would flap); our keys edited or deleted are drift.
 */
export function holds(current: TargetObject | undefined, desired: TargetObject, kind: 'Secret' | 'ConfigMap', entries: ReadonlyMap<string, Buffer>): boolean {
  if (!current) return false;
  const have = entriesOf(current, kind);
  for (const [k, v] of entries) if (!have.get(k)?.equals(v)) return false;
  // A key we wrote before and no longer want: applying again is what removes it.
  for (const k of appliedKeys(current)) if (!entries.has(k)) return false;
  const sub = (want: Record<string, string> | undefined, got: Record<string, string> | undefined) => Object.entries(want ?? {}).every(([k, v]) => got?.[k] === v);
  if (!sub(desired.metadata?.labels, current.metadata?.labels) || !sub(desired.metadata?.annotations, current.metadata?.annotations)) return false;
  if (kind === 'Secret' && 'type' in desired && desired.type !== undefined && (current as V1Secret).type !== desired.type) return false;
  const wantOwner = desired.metadata?.ownerReferences?.[0];
  if (wantOwner && !current.metadata?.ownerReferences?.some((o) => o.uid === wantOwner.uid && o.controller === true)) return false;
  return true;
}

/** Data keys this operator owns in `obj`, from its server-side apply managedFields entry. */
export function appliedKeys(obj: KubernetesObject): string[] {
  const entry = obj.metadata?.managedFields?.find((m) => m.manager === FIELD_MANAGER && m.operation === 'Apply');
  const fields = entry?.fieldsV1 as Record<string, Record<string, unknown> | undefined> | undefined;
  return [...Object.keys(fields?.['f:data'] ?? {}), ...Object.keys(fields?.['f:binaryData'] ?? {})].filter((k) => k.startsWith('f:')).map((k) => k.slice(2));
}
