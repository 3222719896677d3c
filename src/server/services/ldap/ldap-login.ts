import { AppError } from '../../../shared/errors.ts';
import type { BundleService } from '../identity/bundle-service.ts';
import type { ExternalIdentity, ExternalLogin } from '../identity/external-login.ts';
import type { IdentityLinks } from '../identity/identity-links.ts';
import type { UserRecord } from '../identity/identity-records.ts';
import type { UserService } from '../identity/user-service.ts';
import type { LdapSettings } from '../settings/auth-section.ts';
import type { SettingsService } from '../settings/settings-service.ts';
import { applyGrants, bundlesFor, planGroupGrants } from './group-grants.ts';
import type { LdapTimeouts } from './ldap-client.ts';
import { authenticate, type DirectoryUser, groupKeys } from './ldap-directory.ts';
import { bridgeLinks, syncGrantSource, syncProvider } from './link-bridge.ts';

export interface LdapLoginDeps {
  readonly settings: Pick<SettingsService, 'auth'>;
  readonly externalLogin: Pick<ExternalLogin, 'resolveUser'>;
  readonly links: Pick<IdentityLinks, 'find' | 'link'>;
  readonly users: Pick<UserService, 'setGrants'>;
  readonly bundles: Pick<BundleService, 'list'>;
  readonly timeouts: LdapTimeouts;
}

/** A verified LDAP sign-in: the pika user and what the session must carry for the permission mapping. */
export interface LdapSignIn {
  readonly user: UserRecord;
  /** `auth.ldap.name`: the session's provider and the identity namespace of the login links. */
  readonly provider: string;
  /** The user's DN, lower-cased. */
  readonly subject: string;
  /** Group names and DNs, so `auth.permissions.mapping` may name either. */
  readonly roles: string[];
}

export type LdapLogin = ReturnType<typeof createLdapLogin>;

/**
 * The LDAP login strategy (seed 002): bind as the person, then map the identity to a pika user
 * through the shared fail-closed policy (`externalLogin.resolveUser`: an existing link, else
 * auto-create when `auto_create_user`, else 403). Settings are read per call, so changes apply
 * to the next sign-in without a restart.
 */
export function createLdapLogin(deps: LdapLoginDeps) {
  /** The LDAP settings when the strategy is on and named `name`; undefined otherwise (the route 404s). */
  async function strategy(name: string): Promise<LdapSettings | undefined> {
    const ldap = (await deps.settings.auth()).ldap;
    return ldap?.enabled && ldap.name === name ? ldap : undefined;
  }

  /** Checks the password; undefined when the directory says no (unknown, wrong or empty password). */
  async function verify(name: string, username: string, password: string): Promise<LdapSignIn | undefined> {
    const auth = await deps.settings.auth();
    const ldap = auth.ldap;
    if (!ldap?.enabled || ldap.name !== name) throw new AppError('ERR_ROUTE_NOT_FOUND');
    const person = await authenticate(ldap, deps.timeouts, username, password);
    if (!person) return undefined;
    const identity: ExternalIdentity = { provider: ldap.name, subject: person.subject, email: person.email, preferredUsername: person.username, displayName: person.displayName, groups: groupKeys(person.groups) };
    const source = ldap.sync_source === undefined ? undefined : auth.user_sync.find((s) => s.id === ldap.sync_source);
    const bridged = source === undefined ? undefined : { login: ldap.name, sync: syncProvider(source.id) };
    if (bridged) await bridgeLinks(deps.links, bridged, person.subject, person.email);
    let { user } = await deps.externalLogin.resolveUser(identity, { autoCreate: ldap.auto_create_user, linkByVerifiedEmail: false });
    if (source && bridged) {
      // A user created just now joins the sync source too (its on_missing policy covers them).
      await bridgeLinks(deps.links, bridged, person.subject, person.email);
      if (ldap.auto_create_user) user = await justInTimeGrants(user, person, source.id, source.group_permissions);
    }
    return { user, provider: ldap.name, subject: person.subject, roles: [...identity.groups] };
  }

  /** The sync source's group → bundle mapping, applied at sign-in as a full sync would. */
  async function justInTimeGrants(user: UserRecord, person: DirectoryUser, sourceId: string, mapping: Record<string, string[]>): Promise<UserRecord> {
    const plan = planGroupGrants(mapping, await deps.bundles.list());
    const ids = bundlesFor(plan, person.groups);
    return (await applyGrants(deps.users, user, syncGrantSource(sourceId), ids)) ?? user;
  }

  return { strategy, verify };
}
