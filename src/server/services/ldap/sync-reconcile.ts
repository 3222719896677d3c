import { isAppError } from '../../../shared/errors.ts';
import { decodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import type { Store } from '../../storage/store.ts';
import type { ExternalLogin } from '../identity/external-login.ts';
import type { IdentityLink, IdentityLinks } from '../identity/identity-links.ts';
import type { UserRecord } from '../identity/identity-records.ts';
import type { SessionService } from '../identity/session-service.ts';
import type { UserPatch, UserService } from '../identity/user-service.ts';
import { applyGrants, bundlesFor, type GroupGrantPlan } from './group-grants.ts';
import type { DirectoryUser } from './ldap-directory.ts';
import { bridgeLinks, type BridgedProviders } from './link-bridge.ts';
import type { SyncStatus } from './sync-status.ts';

/**
 * Reconciles pika users with one sync source's directory entries, one entry at a time, writing
 * only what differs — so a run over an unchanged directory writes nothing (idempotent), and a
 * run interrupted half-way is simply finished by the next one.
 */
export interface ReconcileDeps {
  readonly store: Pick<Store, 'iterate'>;
  readonly users: Pick<UserService, 'get' | 'update' | 'setGrants'>;
  readonly links: Pick<IdentityLinks, 'find' | 'link' | 'unlink'>;
  readonly externalLogin: Pick<ExternalLogin, 'resolveUser'>;
  readonly sessions: Pick<SessionService, 'revokeAllForUser'>;
  readonly status: Pick<SyncStatus, 'disabledBySync' | 'markDisabled' | 'clearDisabled'>;
}

export interface SourceRun {
  readonly sourceId: string;
  /** `ldap:<id>`: the namespace of this source's links. */
  readonly provider: string;
  /** `sync:<id>`: the grant source this run owns. */
  readonly grantSource: string;
  readonly plan: GroupGrantPlan;
  /** Set when `auth.ldap.sync_source` names this source (link-bridge.ts). */
  readonly bridge?: BridgedProviders | undefined;
}

export type EntryOutcome = 'created' | 'updated' | 'enabled' | 'unchanged';

export async function reconcileEntry(deps: ReconcileDeps, run: SourceRun, person: DirectoryUser): Promise<EntryOutcome> {
  if (run.bridge) await bridgeLinks(deps.links, run.bridge, person.subject, person.email);
  const existing = await linkedUser(deps, run.provider, person.subject);
  let outcome: EntryOutcome;
  let user: UserRecord;
  if (existing) {
    ({ user, outcome } = await updateUser(deps, run, existing, person));
  } else {
    const identity = { provider: run.provider, subject: person.subject, email: person.email, preferredUsername: person.username, displayName: person.displayName, groups: [] };
    ({ user } = await deps.externalLogin.resolveUser(identity, { autoCreate: true, linkByVerifiedEmail: false }));
    if (run.bridge) await bridgeLinks(deps.links, run.bridge, person.subject, person.email);
    outcome = 'created';
  }
  const granted = await applyGrants(deps.users, user, run.grantSource, bundlesFor(run.plan, person.groups));
  return granted && outcome === 'unchanged' ? 'updated' : outcome;
}

/** The user a link points at; a link left behind by a deleted user is removed so the entry is recreated. */
async function linkedUser(deps: ReconcileDeps, provider: string, subject: string): Promise<UserRecord | undefined> {
  const link = await deps.links.find(provider, subject);
  if (!link) return undefined;
  const user = await deps.users.get(link.user_id);
  if (!user) await deps.links.unlink(link.user_id, provider, subject);
  return user;
}

/** Email and display name follow the directory; a user this source disabled comes back. */
async function updateUser(deps: ReconcileDeps, run: SourceRun, user: UserRecord, person: DirectoryUser): Promise<{ user: UserRecord; outcome: EntryOutcome }> {
  const patch: UserPatch = {};
  // '' clears the field (user-rules.ts), for an attribute removed in the directory.
  if (person.email !== user.email) patch.email = person.email ?? '';
  if (person.displayName !== user.display_name) patch.display_name = person.displayName ?? '';
  const reEnable = user.disabled && (await deps.status.disabledBySync(run.sourceId, user.id));
  if (reEnable) patch.disabled = false;
  if (Object.keys(patch).length === 0) return { user, outcome: 'unchanged' };
  const updated = (await deps.users.update(user.id, patch)).user;
  if (reEnable) await deps.status.clearDisabled(run.sourceId, user.id);
  return { user: updated, outcome: reEnable ? 'enabled' : 'updated' };
}

/**
 * `on_missing: disable`: users linked to this source whose DN the directory no longer lists are
 * disabled (and signed out), and marked so their return re-enables them. Returns how many were
 * disabled, and problems (the last active superadmin is never disabled).
 */
export async function disableMissing(deps: ReconcileDeps, run: SourceRun, seen: ReadonlySet<string>): Promise<{ disabled: number; errors: string[] }> {
  let disabled = 0;
  const errors: string[] = [];
  for (const link of await linksOf(deps.store, run.provider)) {
    if (seen.has(link.subject)) continue;
    const user = await deps.users.get(link.user_id);
    if (!user || user.disabled) continue;
    try {
      await deps.users.update(user.id, { disabled: true });
      await deps.status.markDisabled(run.sourceId, user.id);
      await deps.sessions.revokeAllForUser(user.id);
      disabled++;
    } catch (err) {
      if (!isAppError(err)) throw err;
      errors.push(`${link.subject}: not disabled: ${err.message}`);
    }
  }
  return { disabled, errors };
}

/**
 * Every link in one provider namespace. IdentityLinks lists by user only; the key layout keeps a
 * provider's links under one prefix, so a prefix scan lists a source's users without a full scan.
 */
async function linksOf(store: Pick<Store, 'iterate'>, provider: string): Promise<IdentityLink[]> {
  const links: IdentityLink[] = [];
  for await (const item of store.iterate(identityKeys.identity(provider, ''))) links.push(decodeJson<IdentityLink>(item.value));
  return links;
}
