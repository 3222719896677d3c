import { describe, expect, it } from 'vitest';
import { createWorkQueue, type Timers } from './work-queue.ts';

/** Deterministic timers: time moves only when the test says so. */
function manualTimers() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++seq;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (h) => {
      pending.delete(h as number);
    },
  };
  return {
    timers,
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at > now) continue;
        pending.delete(id);
        t.fn();
      }
    },
    pendingCount: () => pending.size,
  };
}

describe('work queue', () => {
  it('serves changes before background re-checks, and a change promotes a waiting re-check', async () => {
    const q = createWorkQueue();
    for (const k of ['r1', 'r2', 'r3']) q.add(k, 'low');
    q.add('change');
    q.add('r3');
    q.add('r3', 'low');
    expect(q.len()).toBe(4);
    const order: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const key = await q.get();
      order.push(key);
      if (key !== undefined) q.done(key);
    }
    expect(order).toEqual(['change', 'r3', 'r1', 'r2']);
  });

  it('a key re-added while processing comes back in the lane it was added with', async () => {
    const q = createWorkQueue();
    q.add('a');
    q.add('b', 'low');
    const a = await q.get();
    q.add('a', 'low');
    q.add('c');
    q.done(a ?? '');
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['c', 'b', 'a']);
  });

  it('deduplicates keys that are waiting', async () => {
    const q = createWorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never hands a key in flight to another worker, and requeues it once when it changed meanwhile', async () => {
    const q = createWorkQueue();
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0); // held back while processing
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('wakes a waiting worker', async () => {
    const q = createWorkQueue();
    const next = q.get();
    q.add('x');
    expect(await next).toBe('x');
  });

  it('keeps only the earliest delayed add per key', () => {
    const t = manualTimers();
    const q = createWorkQueue({ timers: t.timers });
    q.addAfter('a', 1000);
    q.addAfter('a', 5000);
    q.addAfter('a', 300);
    expect(t.pendingCount()).toBe(1);
    t.advance(299);
    expect(q.len()).toBe(0);
    t.advance(1);
    expect(q.len()).toBe(1);
  });

  it('backs off exponentially per key, capped, and resets on forget', () => {
    const t = manualTimers();
    const q = createWorkQueue({ timers: t.timers, backoff: { baseMs: 100, maxMs: 1000, jitter: 0 } });
    expect([1, 2, 3, 4, 5, 6].map(() => q.addRateLimited('a'))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(q.addRateLimited('b')).toBe(100);
    q.forget('a');
    expect(q.addRateLimited('a')).toBe(100);
  });

  it('spreads retries with jitter', () => {
    const q1 = createWorkQueue({ backoff: { baseMs: 1000, maxMs: 10_000, jitter: 0.5 }, random: () => 0 });
    const q2 = createWorkQueue({ backoff: { baseMs: 1000, maxMs: 10_000, jitter: 0.5 }, random: () => 1 });
    expect(q1.addRateLimited('k')).toBe(500);
    expect(q2.addRateLimited('k')).toBe(1500);
    q1.shutDown();
    q2.shutDown();
  });

  it('shuts down: waiters get undefined, timers are cancelled, adds are ignored', async () => {
    const t = manualTimers();
    const q = createWorkQueue({ timers: t.timers });
    const waiting = q.get();
    q.addAfter('later', 1000);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    expect(t.pendingCount()).toBe(0);
    q.add('x');
    expect(await q.get()).toBeUndefined();
  });
});
