import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.ts';
import { manualClock } from '../../test-support/identity-fixtures.ts';
import type { AuthSettings, UserSyncSettings } from '../settings/auth-section.ts';
import { createSyncScheduler } from './sync-scheduler.ts';
import type { SyncResult } from './sync-status.ts';

const MINUTE = 60_000;

function source(id: string, schedule: Partial<UserSyncSettings['schedule']>, enabled = true): UserSyncSettings {
  return { id, name: id, enabled, type: 'ldap', ldap: {} as UserSyncSettings['ldap'], schedule: { mode: 'interval', interval_minutes: 10, ...schedule }, on_missing: 'disable', group_permissions: {} };
}

/** A scheduler over in-memory settings and results; `runs` lists the ids it started, in order. */
function harness(initial: UserSyncSettings[]) {
  const clock = manualClock();
  let sources = initial;
  const results = new Map<string, SyncResult>();
  const runs: string[] = [];
  const errors: string[] = [];
  let failing = new Set<string>();
  const scheduler = createSyncScheduler({
    clock: clock.now,
    settings: { auth: async () => ({ user_sync: sources }) as AuthSettings },
    status: { last: async (id) => results.get(id) },
    onError: (_err, context) => errors.push(context),
    sync: {
      run: async (id) => {
        runs.push(id);
        const at = new Date(clock.now()).toISOString();
        const result = { source: id, started_at: at, finished_at: at, trigger: 'scheduler', created: 0, updated: 0, disabled: 0, enabled: 0, unchanged: 0, errors: [] };
        results.set(id, result); // a failed run is stored too (user-sync.ts)
        if (failing.has(id)) throw new AppError('ERR_LDAP_UNAVAILABLE');
        return result;
      },
    },
  });
  return {
    clock,
    scheduler,
    runs,
    errors,
    setSources: (next: UserSyncSettings[]) => { sources = next; },
    fail: (ids: string[]) => { failing = new Set(ids); },
  };
}

describe('user-sync scheduler', () => {
  it('runs interval sources when due, measured from the last stored start', async () => {
    const h = harness([source('a', { interval_minutes: 10 }), source('b', { interval_minutes: 30 })]);
    expect(await h.scheduler.tick()).toEqual(['a', 'b']); // never ran: due at once
    expect(await h.scheduler.tick()).toEqual([]);
    h.clock.advance(10 * MINUTE - 1);
    expect(await h.scheduler.tick()).toEqual([]);
    h.clock.advance(1);
    expect(await h.scheduler.tick()).toEqual(['a']);
    h.clock.advance(20 * MINUTE);
    expect(await h.scheduler.tick()).toEqual(['a', 'b']);
    expect(h.runs).toEqual(['a', 'b', 'a', 'a', 'b']);
  });

  it('skips manual and disabled sources and applies setting changes on the next tick', async () => {
    const h = harness([source('a', { mode: 'manual' }), source('b', {}, false)]);
    expect(await h.scheduler.tick()).toEqual([]);
    h.setSources([source('a', { mode: 'interval', interval_minutes: 5 }), source('b', {}, true)]);
    expect(await h.scheduler.tick()).toEqual(['a', 'b']);
    h.clock.advance(5 * MINUTE);
    h.setSources([source('a', { interval_minutes: 60 }), source('b', { mode: 'manual' })]);
    expect(await h.scheduler.tick()).toEqual([]);
    h.clock.advance(55 * MINUTE);
    expect(await h.scheduler.tick()).toEqual(['a']);
  });

  it('keeps going after a failed source and retries it only after a full interval', async () => {
    const h = harness([source('down', { interval_minutes: 10 }), source('up', { interval_minutes: 10 })]);
    h.fail(['down']);
    expect(await h.scheduler.tick()).toEqual(['down', 'up']);
    expect(h.errors).toEqual(['user sync of "down"']);
    h.clock.advance(MINUTE);
    expect(await h.scheduler.tick()).toEqual([]);
    h.clock.advance(9 * MINUTE);
    expect(await h.scheduler.tick()).toEqual(['down', 'up']);
  });

  it('joins a tick that is still running instead of overlapping it', async () => {
    const h = harness([source('a', {})]);
    const [first, second] = await Promise.all([h.scheduler.tick(), h.scheduler.tick()]);
    expect(first).toEqual(['a']);
    expect(second).toBe(first);
    expect(h.runs).toEqual(['a']);
  });

  it('reports idle only once the running tick has finished', async () => {
    const h = harness([source('a', {})]);
    const order: string[] = [];
    const tick = h.scheduler.tick().then(() => order.push('tick'));
    await h.scheduler.idle().then(() => order.push('idle'));
    await tick;
    expect(order).toEqual(['tick', 'idle']);
    await h.scheduler.idle(); // nothing running: settles at once
  });
});
