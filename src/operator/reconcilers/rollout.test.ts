import { describe, expect, it } from 'vitest';
import type { PikaConfig } from '../../shared/crds/index.ts';
import type { ObjectRef } from '../kube/kube.ts';
import { createRolloutTracker, rolloutAnnotation } from './rollout.ts';

/** A fake of the two Kube calls the tracker makes, over an in-memory Deployment (unit tier: the real API server is in test/k8s). */
function fakeKube() {
  const annotations: Record<string, string> = {};
  const patches: unknown[] = [];
  return {
    patches,
    annotations,
    kube: {
      get: async <T>(_ref: ObjectRef) => ({ spec: { template: { metadata: { annotations: { ...annotations } } } } }) as T,
      mergePatch: async (_ref: ObjectRef, patch: Record<string, unknown>) => {
        patches.push(patch);
        Object.assign(annotations, (patch as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata.annotations);
      },
    },
  };
}

const config: PikaConfig = {
  apiVersion: 'pika.io/v1alpha1',
  kind: 'PikaConfig',
  metadata: { name: 'app', namespace: 'demo' },
  spec: { serverRef: { name: 'main' }, source: { path: 'a' }, target: { name: 't' }, rollout: { targets: [{ kind: 'Deployment', name: 'web' }], debounce: '10s' } },
};

describe('rollout tracker', () => {
  it('never restarts on the first sync, nor when the data did not change (an operator restart)', async () => {
    const fake = fakeKube();
    let now = 0;
    const tracker = createRolloutTracker({ kube: fake.kube, now: () => now });
    expect(await tracker.observe('demo/app', config, 'h1', undefined)).toBeUndefined();
    now += 60_000;
    expect(await tracker.observe('demo/app', config, 'h1', 'h1')).toBeUndefined();
    expect(fake.patches).toEqual([]);
  });

  it('debounces: changes within the window cause one restart with the last hash', async () => {
    const fake = fakeKube();
    let now = 0;
    let restarts = 0;
    const tracker = createRolloutTracker({ kube: fake.kube, now: () => now, onRestart: () => restarts++ });
    expect(await tracker.observe('demo/app', config, 'h2', 'h1')).toBe(10_000);
    now = 4_000;
    expect(await tracker.observe('demo/app', config, 'h3', 'h2')).toBe(6_000);
    now = 10_000;
    expect(await tracker.observe('demo/app', config, 'h3', 'h3')).toBeUndefined();
    expect(restarts).toBe(1);
    expect(fake.annotations[rolloutAnnotation('app')]).toBe('h3');
    now = 30_000;
    expect(await tracker.observe('demo/app', config, 'h3', 'h3')).toBeUndefined();
    expect(restarts).toBe(1);
  });

  it('recovers a window lost to an operator restart when the workload carries an older hash', async () => {
    const fake = fakeKube();
    fake.annotations[rolloutAnnotation('app')] = 'h1';
    let now = 0;
    const tracker = createRolloutTracker({ kube: fake.kube, now: () => now });
    expect(await tracker.observe('demo/app', config, 'h2', 'h2')).toBe(10_000);
    now = 10_000;
    await tracker.observe('demo/app', config, 'h2', 'h2');
    expect(fake.annotations[rolloutAnnotation('app')]).toBe('h2');
  });

  it('annotation names stay valid for long PikaConfig names', () => {
    expect(rolloutAnnotation('app')).toBe('checksum.pika.io/app');
    const long = rolloutAnnotation('a'.repeat(200)).split('/')[1] ?? '';
    expect(long.length).toBeLessThanOrEqual(63);
  });
});
