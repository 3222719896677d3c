import { describe, expect, it } from 'vitest';
import { sameConditions, setConditions } from './conditions.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:05:00Z');

describe('setConditions', () => {
  it('moves lastTransitionTime only when the status flips, and records the generation', () => {
    const first = setConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'Synced', message: 'ok' }], 1, t0);
    const again = setConditions(first, [{ type: 'Ready', status: 'True', reason: 'Synced', message: 'still ok' }], 2, t1);
    expect(again[0]).toMatchObject({ lastTransitionTime: t0.toISOString(), observedGeneration: 2, message: 'still ok' });
    const flipped = setConditions(again, [{ type: 'Ready', status: 'False', reason: 'ServerLocked', message: '' }], 2, t1);
    expect(flipped[0]).toMatchObject({ status: 'False', lastTransitionTime: t1.toISOString() });
  });

  it('keeps other conditions and appends new types', () => {
    const a = setConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'R', message: '' }], 1, t0);
    const b = setConditions(a, [{ type: 'Synced', status: 'False', reason: 'S', message: '' }], 1, t0);
    expect(b.map((c) => c.type)).toEqual(['Ready', 'Synced']);
    expect(sameConditions(a, b)).toBe(false);
    expect(sameConditions(b, setConditions(b, [], 1, t1))).toBe(true);
  });

  it('cuts messages to the CRD bound', () => {
    expect(setConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'R', message: 'x'.repeat(40_000) }], 1, t0)[0]?.message).toHaveLength(32_768);
  });
});
