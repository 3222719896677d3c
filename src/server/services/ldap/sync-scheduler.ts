import type { SettingsService } from '../settings/settings-service.ts';
import type { SyncStatus } from './sync-status.ts';
import { SCHEDULER, type UserSync } from './user-sync.ts';

export interface SyncSchedulerDeps {
  readonly settings: Pick<SettingsService, 'auth'>;
  readonly sync: Pick<UserSync, 'run'>;
  readonly status: Pick<SyncStatus, 'last'>;
  readonly clock: () => number;
  readonly onError: (err: unknown, context: string) => void;
}

export type SyncScheduler = ReturnType<typeof createSyncScheduler>;

/**
 * Interval schedules of the user-sync sources. A background timer calls `tick()` every minute;
 * each tick reads the settings afresh (so enabling a source, switching it to `manual` or changing
 * `interval_minutes` applies without a restart) and runs every enabled interval source whose
 * last run *started* at least `interval_minutes` ago. "Last run" is the stored result, so a
 * restart does not run everything again, and a failed run waits a full interval before retrying
 * instead of hammering a directory that is down. Tests call `tick()` directly with their clock.
 *
 * One process runs the schedule; in a cluster this becomes the leader's job (SPEC §15).
 */
export function createSyncScheduler(deps: SyncSchedulerDeps) {
  let ticking: Promise<string[]> | undefined;

  /** Runs what is due; returns the ids it ran. A tick while one is running joins it instead of overlapping. */
  function tick(): Promise<string[]> {
    ticking ??= runDue().finally(() => {
      ticking = undefined;
    });
    return ticking;
  }

  async function runDue(): Promise<string[]> {
    const ran: string[] = [];
    for (const source of (await deps.settings.auth()).user_sync) {
      if (!source.enabled || source.schedule.mode !== 'interval') continue;
      const last = await deps.status.last(source.id);
      const dueAt = last === undefined ? -Infinity : Date.parse(last.started_at) + source.schedule.interval_minutes * 60_000;
      if (deps.clock() < dueAt) continue;
      ran.push(source.id);
      // A failed run is already stored and audited; one source's failure must not stop the others.
      await deps.sync.run(source.id, SCHEDULER).catch((err: unknown) => {
        deps.onError(err, `user sync of "${source.id}"`);
      });
    }
    return ran;
  }

  /** Settles when no tick is running (shutdown waits for it before the store closes). */
  async function idle(): Promise<void> {
    await ticking?.catch(() => undefined);
  }

  return { tick, idle };
}
