import { describe, expect, it } from 'vitest';
import { createController, type Outcome, TerminalError } from './controller.ts';
import { createWorkQueue } from './work-queue.ts';

function collect() {
  const outcomes: { key: string; outcome: Outcome; retryInMs?: number }[] = [];
  return { outcomes, onOutcome: (e: { key: string; outcome: Outcome; retryInMs?: number }) => outcomes.push({ key: e.key, outcome: e.outcome, ...(e.retryInMs === undefined ? {} : { retryInMs: e.retryInMs }) }) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('controller', () => {
  it('reconciles by key, collapsing bursts of adds into one pass', async () => {
    const queue = createWorkQueue();
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const c = createController({
      name: 't',
      queue,
      workers: 1,
      reconcile: async (key) => {
        seen.push(key);
        if (seen.length === 1) await gate;
        return undefined;
      },
    });
    c.start();
    queue.add('ns/a');
    await settle();
    for (let i = 0; i < 10; i++) queue.add('ns/a'); // a burst while the first pass runs
    release();
    await settle();
    await settle();
    await c.stop();
    expect(seen).toEqual(['ns/a', 'ns/a']); // the running pass, then exactly one more
  });

  it('retries errors with growing backoff and gives up on terminal errors', async () => {
    const queue = createWorkQueue({ backoff: { baseMs: 10_000, maxMs: 60_000, jitter: 0 } });
    const { outcomes, onOutcome } = collect();
    const c = createController({
      name: 't',
      queue,
      workers: 1,
      onOutcome,
      reconcile: async (key) => {
        if (key === 'bad') throw new TerminalError('InvalidSpec', 'target.kind must be Secret or ConfigMap');
        throw new Error('pika unreachable');
      },
    });
    c.start();
    queue.add('flaky');
    queue.add('bad');
    await settle();
    await settle();
    expect(outcomes).toEqual([
      { key: 'flaky', outcome: 'error', retryInMs: 10_000 },
      { key: 'bad', outcome: 'terminal' },
    ]);
    expect(queue.failures('flaky')).toBe(1);
    expect(queue.failures('bad')).toBe(0);
    await c.stop();
  });

  it('requeues after the requested interval with jitter and forgets past failures on success', async () => {
    const delays: number[] = [];
    const queue = createWorkQueue();
    const addAfter = queue.addAfter;
    queue.addAfter = (key, ms) => {
      delays.push(ms);
      addAfter(key, ms);
    };
    queue.addRateLimited('k');
    const c = createController({ name: 't', queue, workers: 1, jitter: 0.1, random: () => 1, reconcile: async () => ({ requeueAfterMs: 60_000 }) });
    c.start();
    queue.add('k');
    await settle();
    expect(delays.at(-1)).toBe(66_000);
    expect(queue.failures('k')).toBe(0);
    await c.stop();
  });

  it('stops after the work in flight finishes', async () => {
    const queue = createWorkQueue();
    let finished = false;
    const c = createController({
      name: 't',
      queue,
      reconcile: async () => {
        await new Promise((r) => setTimeout(r, 20));
        finished = true;
        return undefined;
      },
    });
    c.start();
    queue.add('k');
    await settle();
    await c.stop();
    expect(finished).toBe(true);
  });
});
