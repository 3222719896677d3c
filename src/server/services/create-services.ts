import { createKeyManager, type KeyState } from '../barrier/key-manager.ts';
import type { PikaConfig } from '../config/config-schema.ts';
import { fileKeyOf } from '../domain/config-path.ts';
import { parseDocumentExact } from '../domain/exact-numbers.ts';
import type { Store } from '../storage/store.ts';
import { createAuditService } from './audit/audit-service.ts';
import { createBackupService, type RestoreOutcome } from './backup/backup-service.ts';
import { createChangeFeed } from './configs/change-feed.ts';
import { createConfigRepo } from './configs/config-repo.ts';
import { createConfigService } from './configs/config-service.ts';
import { createConfigWriter } from './configs/config-writer.ts';
import { createDataCache } from './configs/data-cache.ts';
import { createResolver } from './configs/resolver.ts';
import { createEsoService } from './eso/eso-service.ts';
import { createServerIdService } from './system/server-id.ts';
import { type ExternalSources, NO_EXTERNAL_SOURCES } from './externals/external-sources.ts';
import { createBundleService } from './identity/bundle-service.ts';
import { createPasswordHasher } from './identity/password.ts';
import { createPermissionResolver } from './identity/permission-resolver.ts';
import { createSessionService } from './identity/session-service.ts';
import { createTokenService } from './identity/token-service.ts';
import { createTotpChallenges } from './identity/totp-challenges.ts';
import { createTotpService } from './identity/totp-service.ts';
import { createUserService } from './identity/user-service.ts';
import { createAttemptLimiter } from './security/attempt-limiter.ts';
import { createLoginGuard } from './security/login-guard.ts';
import { createSettingsService } from './settings/settings-service.ts';
import { createExternalLogin } from './identity/external-login.ts';
import { createIdentityLinks } from './identity/identity-links.ts';
import { createOAuthService } from './oauth/oauth-service.ts';
import { createLdapServices } from './ldap/ldap-services.ts';

export interface ServiceDeps {
  readonly store: Store;
  readonly clock: () => number;
  /** bcrypt cost; tests lower it. */
  readonly passwordCost?: number;
  readonly externals?: ExternalSources;
  readonly onError: (err: unknown, context: string) => void;
  /** scrypt cost of the server key (default: 2^17, 8, 1); tests lower it. */
  readonly kdfCost?: { N: number; r: number; p: number };
  readonly onKeyState?: (state: KeyState) => void;
}

/**
 * The composition root of the services: each factory gets only the narrow dependencies it needs.
 * Route plugins receive these objects; nothing here knows about HTTP.
 */
export function createServices(config: PikaConfig, deps: ServiceDeps) {
  const { store, clock } = deps;
  const hasher = createPasswordHasher(deps.passwordCost);

  // The resolver is created before the services that invalidate it, so forward through a ref.
  const invalidate = () => { permissions.invalidate(); };
  const users = createUserService({ store, hasher, clock, onChange: invalidate });
  const bundles = createBundleService({ store, clock, onChange: invalidate });
  const tokens = createTokenService({ store, clock, onChange: invalidate });
  const permissions = createPermissionResolver({ users, bundles, tokens, clock });
  const sessions = createSessionService({ store, clock, ttlMs: config.server.sessionTtlMs });
  const audit = createAuditService({ store, clock, retentionMs: config.audit.retentionMs, onError: (err) => { deps.onError(err, 'audit write'); } });

  // The key manager re-seals what the settings service stores; the settings service seals
  // through the key manager. The resealer list is read late to close that loop.
  const keys = createKeyManager({
    store,
    clock,
    kdfCost: deps.kdfCost,
    resealers: () => [settings.resealer],
    onStateChange: (state) => {
      settings.clearCache(); // sealed secrets became readable, or stopped being
      deps.onKeyState?.(state);
    },
  });
  // Permission mapping and strategies live in the settings: a change re-resolves everyone.
  const settings = createSettingsService({ store, keys, onChange: () => {
      permissions.invalidate();
    },
  });
  const links = createIdentityLinks({ store, clock });
  const externalLogin = createExternalLogin({ users, links });
  const oauth = createOAuthService({ store, clock, settings, externalLogin });
  const ldap = createLdapServices({ store, clock, settings, users, links, externalLogin, bundles, sessions, audit, onError: deps.onError });
  // Unlock guesses: 5 free per client per 15 minutes, then backoff; 30 blocks the window.
  const unlockLimiter = createAttemptLimiter({ clock, windowMs: 15 * 60_000, soft: 5, hard: 30, backoffBaseMs: 1_000, backoffMaxMs: 60_000 });
  // Sign-in limits come from the auth settings at request time (hot-swapped, upstream §8.6).
  const loginGuard = createLoginGuard({ clock, settings });
  const totp = createTotpService({ store, clock });
  const totpChallenges = createTotpChallenges({ store, clock, totp });

  const feed = createChangeFeed({ store, clock, retain: 100_000 });
  const repo = createConfigRepo(store);
  const writer = createConfigWriter({ store, repo, feed, clock });
  const resolver = createResolver({ repo, externals: deps.externals ?? NO_EXTERNAL_SOURCES });
  const cache = createDataCache({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 });
  feed.subscribe((event) => {
    cache.invalidate(fileKeyOf(event.path, event.variant));
  });
  const configs = createConfigService({ repo, writer, resolver, cache });
  // The ESO provider resolves with the same rules but keeps number text (SPEC §13.2).
  const eso = createEsoService({ resolver: createResolver({ repo, externals: deps.externals ?? NO_EXTERNAL_SOURCES, parse: parseDocumentExact }), configs });
  const serverId = createServerIdService({ store, clock });

  /**
   * A restore rewrote the store underneath every service: reload the key record (a different
   * one means the key in memory is stale, so lock and let an admin unlock with the key that was
   * active at backup time), drop every cache, and tell watchers to re-read.
   */
  async function afterRestore(outcome: RestoreOutcome): Promise<void> {
    if (outcome.keyRecordChanged) await keys.lock();
    await keys.load();
    await serverId.load(); // the archive's id, if it had one
    settings.clearCache();
    permissions.invalidate();
    tokens.clearCache();
    cache.clear();
    await feed.restart(outcome.feedSequence);
  }
  const backup = createBackupService({ store, clock, kdfCost: deps.kdfCost, flushAudit: () => audit.flush(), afterRestore });

  return { hasher, users, bundles, tokens, permissions, sessions, audit, feed, configs, keys, settings, unlockLimiter, loginGuard, totp, totpChallenges, backup, links, externalLogin, oauth, eso, serverId, ...ldap };
}

export type Services = ReturnType<typeof createServices>;

/** Periodic housekeeping. Returns a stop function that also flushes pending writes. */
export function startBackgroundJobs(services: Services, onError: (err: unknown, context: string) => void): () => Promise<void> {
  const run = (context: string, job: () => Promise<unknown>) => () => {
    job().catch((err: unknown) => { onError(err, context); });
  };
  const timers = [
    setInterval(run('token usage flush', () => services.tokens.flushUsage()), services.tokens.usageFlushMs),
    setInterval(run('session prune', () => services.sessions.prune()), 15 * 60_000),
    setInterval(run('two-factor challenge prune', () => services.totpChallenges.prune()), 15 * 60_000),
    setInterval(run('audit prune', () => services.audit.prune()), 60 * 60_000),
    setInterval(run('feed prune', () => services.feed.prune()), 60 * 60_000),
    setInterval(run('user sync schedule', () => services.syncScheduler.tick()), 60_000),
  ];
  for (const timer of timers) timer.unref();
  return async () => {
    for (const timer of timers) clearInterval(timer);
    await services.syncScheduler.idle(); // a scheduled user sync still writing must finish before the store closes
    await services.tokens.flushUsage().catch((err: unknown) => { onError(err, 'token usage flush'); });
    await services.audit.flush();
  };
}
