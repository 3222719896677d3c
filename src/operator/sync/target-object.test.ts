import { describe, expect, it } from 'vitest';
import type { PikaConfig } from '../../shared/crds/index.ts';
import { appliedKeys, buildTarget, claimOf, entriesOf, holds, OWNER_ANNOTATION, type TargetObject } from './target-object.ts';

const config = (target: Partial<PikaConfig['spec']['target']> = {}): PikaConfig => ({
  apiVersion: 'pika.io/v1alpha1',
  kind: 'PikaConfig',
  metadata: { name: 'app', namespace: 'demo', uid: 'uid-1' },
  spec: { serverRef: { name: 'main' }, source: { path: 'a' }, target: { name: 'app-config', ...target } },
});
const entries = new Map([
  ['text', Buffer.from('hello')],
  ['bin', Buffer.from([0xff, 0x00, 0xfe])],
]);

describe('buildTarget', () => {
  it('a Secret with base64 data, our label and owner annotation, the template, and a controller reference (Owner)', () => {
    const secret = buildTarget(config({ template: { type: 'kubernetes.io/tls', metadata: { labels: { team: 'a' }, annotations: { n: 'x' } } } }), 'app-config', entries);
    expect(secret).toMatchObject({
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      data: { text: 'aGVsbG8=', bin: '/wD+' },
      metadata: { name: 'app-config', namespace: 'demo', labels: { team: 'a', 'app.kubernetes.io/managed-by': 'pika-operator' }, annotations: { n: 'x', [OWNER_ANNOTATION]: 'app' } },
    });
    expect(secret.metadata?.ownerReferences).toEqual([{ apiVersion: 'pika.io/v1alpha1', kind: 'PikaConfig', name: 'app', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
  });

  it('Orphan has no owner reference; Merge does not set the Secret type', () => {
    expect(buildTarget(config({ creationPolicy: 'Orphan' }), 'x', entries).metadata?.ownerReferences).toBeUndefined();
    expect('type' in buildTarget(config({ creationPolicy: 'Merge' }), 'x', entries)).toBe(false);
  });

  it('a ConfigMap keeps text in data and the rest in binaryData; entries read back equal', () => {
    const cm = buildTarget(config({ kind: 'ConfigMap' }), 'x', entries);
    expect(cm).toMatchObject({ kind: 'ConfigMap', data: { text: 'hello' }, binaryData: { bin: '/wD+' } });
    expect(entriesOf(cm, 'ConfigMap')).toEqual(entries);
    expect(entriesOf(buildTarget(config(), 'x', entries), 'Secret')).toEqual(entries);
  });
});

/** A plain JSON copy of an object as the API server would return it, open for edits. */
interface Plain {
  metadata: Record<string, unknown>;
  data: Record<string, string>;
  type?: string;
}
const plain = (obj: TargetObject): Plain => JSON.parse(JSON.stringify(obj)) as Plain;
const back = (p: Plain): TargetObject => p;

describe('holds and claimOf', () => {
  const desired = buildTarget(config(), 'app-config', entries);
  const tls = buildTarget(config({ template: { type: 'kubernetes.io/tls' } }), 'app-config', entries);

  it('holds when everything we set is there, even with keys someone else added', () => {
    expect(holds(back(plain(desired)), desired, 'Secret', entries)).toBe(true);
    const extra = plain(desired);
    extra.data.other = 'eA==';
    expect(holds(back(extra), desired, 'Secret', entries)).toBe(true);
  });

  it('does not hold after an edit, a lost label, a wrong type, a missing owner, or a key we wrote and no longer want', () => {
    const edited = plain(desired);
    edited.data.text = 'eA==';
    expect(holds(back(edited), desired, 'Secret', entries)).toBe(false);
    const unlabelled = plain(desired);
    unlabelled.metadata.labels = {};
    expect(holds(back(unlabelled), desired, 'Secret', entries)).toBe(false);
    expect(holds(back(plain(desired)), tls, 'Secret', entries)).toBe(false);
    const orphaned = plain(desired);
    orphaned.metadata.ownerReferences = [];
    expect(holds(back(orphaned), desired, 'Secret', entries)).toBe(false);
    const stale = plain(desired);
    stale.metadata.managedFields = [{ manager: 'pika-operator', operation: 'Apply', fieldsV1: { 'f:data': { 'f:text': {}, 'f:old': {} } } }];
    expect(appliedKeys(back(stale))).toEqual(['text', 'old']);
    expect(holds(back(stale), desired, 'Secret', entries)).toBe(false);
    expect(holds(undefined, desired, 'Secret', entries)).toBe(false);
  });

  it('claims: absent, ours, another PikaConfig, unmanaged', () => {
    expect(claimOf(undefined, config())).toBe('absent');
    expect(claimOf(desired, config())).toBe('ours');
    expect(claimOf({ metadata: { annotations: { [OWNER_ANNOTATION]: 'other' } } }, config())).toBe('other-config');
    expect(claimOf({ metadata: { name: 'app-config' } }, config())).toBe('unmanaged');
  });
});
