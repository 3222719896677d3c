import type { Condition } from '../../shared/crds/index.ts';

export interface ConditionInput {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/**
 * metav1.Condition bookkeeping: `lastTransitionTime` moves only when the status flips, so
 * `kubectl wait` and dashboards see real transitions, not every reconcile. Messages are cut to
 * the CRD's bound.
 */
export function setConditions(current: readonly Condition[] | undefined, inputs: readonly ConditionInput[], generation: number | undefined, now: Date): Condition[] {
  const out = [...(current ?? [])];
  for (const input of inputs) {
    const index = out.findIndex((c) => c.type === input.type);
    const previous = index >= 0 ? out[index] : undefined;
    const next: Condition = {
      type: input.type,
      status: input.status,
      reason: input.reason,
      message: input.message.slice(0, 32_768),
      lastTransitionTime: previous && previous.status === input.status ? previous.lastTransitionTime : now.toISOString(),
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    };
    if (index >= 0) out[index] = next;
    else out.push(next);
  }
  return out;
}

export function conditionOf(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when two condition lists say the same thing (ignoring transition times). */
export function sameConditions(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const key = (list: readonly Condition[] | undefined) => JSON.stringify((list ?? []).map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration]).sort());
  return key(a) === key(b);
}
