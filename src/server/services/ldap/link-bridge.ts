import type { IdentityLinks } from '../identity/identity-links.ts';

/**
 * One directory, two identity namespaces. The LDAP login links a person as
 * `(auth.ldap.name, DN)`; a user-sync source links them as `('ldap:' + source id, DN)`, so each
 * source knows exactly which users it created or adopted (its `on_missing` policy touches only
 * those, and two sources never fight over a user).
 *
 * When `auth.ldap.sync_source` names a source, the administrator has said the login and that
 * source read the same directory; then a link in either namespace implies the other, so a synced
 * user can sign in through LDAP and a user who signed in first is adopted by the sync (not
 * duplicated). Without `sync_source` the namespaces stay apart: a synced user needs an explicit
 * link (or `sync_source`) to sign in, which keeps sign-in fail-closed.
 */
export const syncProvider = (sourceId: string) => `ldap:${sourceId}`;

export const syncGrantSource = (sourceId: string) => `sync:${sourceId}`;

export interface BridgedProviders {
  readonly login: string;
  readonly sync: string;
}

/**
 * Copies a link that exists in one namespace into the other (nothing is written when both or
 * neither exist). Two links to *different* users are left alone: an administrator made them.
 */
export async function bridgeLinks(links: Pick<IdentityLinks, 'find' | 'link'>, providers: BridgedProviders, subject: string, email?: string): Promise<void> {
  const [login, sync] = await Promise.all([links.find(providers.login, subject), links.find(providers.sync, subject)]);
  if (login && !sync) await links.link(login.user_id, providers.sync, subject, email);
  else if (sync && !login) await links.link(sync.user_id, providers.login, subject, email);
}
