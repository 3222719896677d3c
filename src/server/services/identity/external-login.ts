import { AppError } from '../../../shared/errors.ts';
import type { IdentityLinks } from './identity-links.ts';
import type { UserRecord } from './identity-records.ts';
import type { UserService } from './user-service.ts';

/** What an external strategy (OIDC, LDAP, forward-auth) learned about the person signing in. */
export interface ExternalIdentity {
  /** The strategy's name (`google`, `ldap`, …): identities are unique per provider. */
  readonly provider: string;
  readonly subject: string;
  readonly email?: string | undefined;
  readonly emailVerified?: boolean | undefined;
  readonly preferredUsername?: string | undefined;
  readonly displayName?: string | undefined;
  readonly groups: readonly string[];
}

export interface LinkPolicy {
  readonly autoCreate: boolean;
  readonly linkByVerifiedEmail: boolean;
}

export type ExternalLogin = ReturnType<typeof createExternalLogin>;

const USERNAME_CHARS = /[^A-Za-z0-9._@-]+/g;

/**
 * Maps an external identity to a pika user, fail-closed (seed 002): an existing link wins; else,
 * when the provider allows it, a local user with the same *verified* email is linked; else, when
 * the provider auto-creates, a new external user is made (username from preferred_username, then
 * the email's local part, then the subject). Otherwise the sign-in is refused.
 */
export function createExternalLogin(deps: { readonly users: Pick<UserService, 'get' | 'findByUsername' | 'findByEmail' | 'create'>; readonly links: IdentityLinks }) {
  const { users, links } = deps;

  async function resolveUser(identity: ExternalIdentity, policy: LinkPolicy): Promise<{ user: UserRecord; how: 'linked' | 'email' | 'created' }> {
    const existing = await links.find(identity.provider, identity.subject);
    if (existing) {
      const user = await users.get(existing.user_id);
      if (user) {
        await links.touch(existing, identity.email);
        return { user: usable(user), how: 'linked' };
      }
    }
    if (policy.linkByVerifiedEmail && identity.emailVerified === true && identity.email) {
      const matches = await users.findByEmail(identity.email);
      // Two local users sharing an email cannot tell us which one this is: refuse rather than guess.
      if (matches.length === 1 && matches[0]) {
        await links.link(matches[0].id, identity.provider, identity.subject, identity.email);
        return { user: usable(matches[0]), how: 'email' };
      }
    }
    if (policy.autoCreate) {
      const user = await users.create({
        username: await freeUsername(identity),
        email: identity.email,
        display_name: identity.displayName,
        external: true,
      });
      await links.link(user.id, identity.provider, identity.subject, identity.email);
      return { user, how: 'created' };
    }
    throw new AppError('ERR_EXTERNAL_NOT_LINKED', `no pika account is linked to this ${identity.provider} identity; ask an administrator to link or create one`);
  }

  async function freeUsername(identity: ExternalIdentity): Promise<string> {
    const candidates = [identity.preferredUsername, identity.email?.split('@')[0], identity.subject];
    const base = candidates.map(sanitize).find((c) => c !== '') ?? `user-${identity.subject.length}`;
    for (let n = 1; n < 1000; n++) {
      const name = n === 1 ? base : `${base.slice(0, 60)}-${n}`;
      if (!(await users.findByUsername(name))) return name;
    }
    throw new AppError('ERR_USERNAME_TAKEN', 'no free username for this identity');
  }

  return { resolveUser };
}

function usable(user: UserRecord): UserRecord {
  if (user.disabled) throw new AppError('ERR_ACCOUNT_DISABLED');
  return user;
}

/** A username our rules accept: allowed characters only, starting with a letter or digit, ≤ 64. */
export function sanitize(raw: string | undefined): string {
  if (!raw) return '';
  return raw.replace(USERNAME_CHARS, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
}
