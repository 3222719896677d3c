import { AppError, isAppError } from '../../../shared/errors.ts';
import type { AuditService } from '../audit/audit-service.ts';
import type { BundleService } from '../identity/bundle-service.ts';
import type { AuthSettings, UserSyncSettings } from '../settings/auth-section.ts';
import type { SettingsService } from '../settings/settings-service.ts';
import { planGroupGrants } from './group-grants.ts';
import { type LdapTimeouts, withDirectory } from './ldap-client.ts';
import { type DirectorySettings, listUsers } from './ldap-directory.ts';
import { syncGrantSource, syncProvider } from './link-bridge.ts';
import { disableMissing, type EntryOutcome, type ReconcileDeps, reconcileEntry, type SourceRun } from './sync-reconcile.ts';
import type { SyncResult, SyncStatus } from './sync-status.ts';

export interface UserSyncDeps extends ReconcileDeps {
  readonly settings: Pick<SettingsService, 'auth'>;
  readonly bundles: Pick<BundleService, 'list'>;
  readonly status: SyncStatus;
  readonly audit: Pick<AuditService, 'record'>;
  readonly clock: () => number;
  readonly timeouts: LdapTimeouts;
}

/** Who asked for a run, for the result and the audit log. */
export interface SyncTrigger {
  readonly actor: string;
  readonly actorType: 'user' | 'token' | 'anonymous';
}

export const SCHEDULER: SyncTrigger = { actor: 'scheduler', actorType: 'anonymous' };

export type UserSync = ReturnType<typeof createUserSync>;

/**
 * LDAP user sync (seed 002 "User sync"): for one source, list the directory's people, create or
 * update a pika user for each, map groups to bundles, then apply `on_missing` to the source's
 * users the directory no longer lists. Runs of one source never overlap (a second request waits
 * for the first and then runs with the settings of that moment). Every run is audited and its
 * result stored, whether it succeeded or not.
 */
export function createUserSync(deps: UserSyncDeps) {
  const queues = new Map<string, Promise<unknown>>();

  /** Runs a source now; rejects with ERR_LDAP_UNAVAILABLE (result stored) when the directory fails. */
  async function run(sourceId: string, trigger: SyncTrigger): Promise<SyncResult> {
    const auth = await deps.settings.auth();
    const source = auth.user_sync.find((s) => s.id === sourceId);
    if (!source) throw new AppError('ERR_SYNC_SOURCE_NOT_FOUND', `no user-sync source "${sourceId}" in auth.user_sync`);
    if (!source.enabled) throw new AppError('ERR_SYNC_SOURCE_DISABLED', `user-sync source "${sourceId}" is disabled`);
    const previous = queues.get(sourceId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => runNow(sourceId, trigger));
    queues.set(sourceId, next);
    try {
      return await next;
    } finally {
      if (queues.get(sourceId) === next) queues.delete(sourceId);
    }
  }

  async function runNow(sourceId: string, trigger: SyncTrigger): Promise<SyncResult> {
    // Settings are read again: they may have changed while this run waited for the previous one.
    const auth = await deps.settings.auth();
    const source = auth.user_sync.find((s) => s.id === sourceId);
    if (!source?.enabled) throw new AppError(source ? 'ERR_SYNC_SOURCE_DISABLED' : 'ERR_SYNC_SOURCE_NOT_FOUND');
    const result = emptyResult(sourceId, trigger.actor, new Date(deps.clock()).toISOString());
    let failure: AppError | undefined;
    try {
      await reconcileSource(auth, source, result);
    } catch (err) {
      if (!isAppError(err)) throw err;
      failure = err;
      result.errors.push(err.message);
    }
    result.finished_at = new Date(deps.clock()).toISOString();
    capErrors(result);
    await deps.status.save(result);
    deps.audit.record({ action: 'user_sync.run', actor: trigger.actor, actor_type: trigger.actorType, target: sourceId, status: failure ? failure.status : 200, detail: summary(result) });
    // The stored result rides along, so the caller sees what happened before the failure.
    if (failure) throw new AppError(failure.code, failure.message, { details: { result } });
    return result;
  }

  async function reconcileSource(auth: AuthSettings, source: UserSyncSettings, result: SyncResult): Promise<void> {
    const plan = planGroupGrants(source.group_permissions, await deps.bundles.list());
    result.errors.push(...plan.unknown);
    const login = auth.ldap?.sync_source === source.id ? auth.ldap.name : undefined;
    const run: SourceRun = { sourceId: source.id, provider: syncProvider(source.id), grantSource: syncGrantSource(source.id), plan, bridge: login === undefined ? undefined : { login, sync: syncProvider(source.id) } };
    const seen = new Set<string>();
    const settings: DirectorySettings = source.ldap;
    await withDirectory(settings, deps.timeouts, async (session) => {
      await session.serviceBind();
      for await (const person of listUsers(session, settings, source.ldap.page_size)) {
        seen.add(person.subject);
        try {
          count(result, await reconcileEntry(deps, run, person));
        } catch (err) {
          if (!isAppError(err)) throw err;
          result.errors.push(`${person.dn}: ${err.message}`);
        }
      }
    });
    // Only after a complete listing: a search that failed half-way must not disable anybody.
    if (source.on_missing === 'disable') {
      const missing = await disableMissing(deps, run, seen);
      result.disabled += missing.disabled;
      result.errors.push(...missing.errors);
    }
  }

  /** The last stored result of each configured source (undefined: never ran). */
  async function lastResults(): Promise<{ source: UserSyncSettings; last: SyncResult | undefined; running: boolean }[]> {
    const sources = (await deps.settings.auth()).user_sync;
    return Promise.all(sources.map(async (source) => ({ source, last: await deps.status.last(source.id), running: queues.has(source.id) })));
  }

  return { run, lastResults };
}

function emptyResult(source: string, trigger: string, startedAt: string): SyncResult {
  return { source, started_at: startedAt, finished_at: startedAt, trigger, created: 0, updated: 0, disabled: 0, enabled: 0, unchanged: 0, errors: [] };
}

/** A directory full of broken entries must not make a huge status record. */
const MAX_ERRORS = 100;

function capErrors(result: SyncResult): void {
  const extra = result.errors.length - MAX_ERRORS;
  if (extra > 0) result.errors = [...result.errors.slice(0, MAX_ERRORS), `… and ${extra} more`];
}

function count(result: SyncResult, outcome: EntryOutcome): void {
  result[outcome]++;
}

function summary(r: SyncResult): string {
  return `created ${r.created}, updated ${r.updated}, disabled ${r.disabled}, enabled ${r.enabled}, unchanged ${r.unchanged}, errors ${r.errors.length}`;
}
