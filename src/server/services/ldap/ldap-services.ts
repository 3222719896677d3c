import type { AuditService } from '../audit/audit-service.ts';
import type { BundleService } from '../identity/bundle-service.ts';
import type { ExternalLogin } from '../identity/external-login.ts';
import type { IdentityLinks } from '../identity/identity-links.ts';
import type { SessionService } from '../identity/session-service.ts';
import type { UserService } from '../identity/user-service.ts';
import type { SettingsService } from '../settings/settings-service.ts';
import type { Store } from '../../storage/store.ts';
import { DEFAULT_LDAP_TIMEOUTS, type LdapTimeouts } from './ldap-client.ts';
import { createLdapLogin } from './ldap-login.ts';
import { createSyncScheduler } from './sync-scheduler.ts';
import { createSyncStatus } from './sync-status.ts';
import { createUserSync } from './user-sync.ts';

export interface LdapServicesDeps {
  readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>;
  readonly clock: () => number;
  readonly settings: Pick<SettingsService, 'auth'>;
  readonly users: Pick<UserService, 'get' | 'update' | 'setGrants'>;
  readonly links: Pick<IdentityLinks, 'find' | 'link' | 'unlink'>;
  readonly externalLogin: Pick<ExternalLogin, 'resolveUser'>;
  readonly bundles: Pick<BundleService, 'list'>;
  readonly sessions: Pick<SessionService, 'revokeAllForUser'>;
  readonly audit: Pick<AuditService, 'record'>;
  readonly onError: (err: unknown, context: string) => void;
  readonly timeouts?: LdapTimeouts | undefined;
}

/** The LDAP strategy and the user sync, wired once (create-services.ts adds them to the services). */
export function createLdapServices(deps: LdapServicesDeps) {
  const timeouts = deps.timeouts ?? DEFAULT_LDAP_TIMEOUTS;
  const syncStatus = createSyncStatus(deps.store);
  const ldapLogin = createLdapLogin({ ...deps, timeouts });
  const userSync = createUserSync({ ...deps, status: syncStatus, timeouts });
  const syncScheduler = createSyncScheduler({ settings: deps.settings, sync: userSync, status: syncStatus, clock: deps.clock, onError: deps.onError });
  return { ldapLogin, userSync, syncScheduler };
}
