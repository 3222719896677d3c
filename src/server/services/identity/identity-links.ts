import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import type { Store } from '../../storage/store.ts';
import { isStoreConflict } from '../../storage/store.ts';
import { nowIso } from './identity-records.ts';

/**
 * Links between external identities (provider + subject) and pika users (seed 002): an OIDC
 * `sub`, an LDAP DN or a forward-auth user name. A pair links to exactly one user; a user may
 * have several. A per-user index lists and removes a user's links.
 */
export interface IdentityLink {
  user_id: string;
  provider: string;
  subject: string;
  email?: string | undefined;
  created_at: string;
  last_login_at?: string | undefined;
}

export type IdentityLinks = ReturnType<typeof createIdentityLinks>;

export function createIdentityLinks(deps: { readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>; readonly clock: () => number }) {
  const { store, clock } = deps;

  async function find(provider: string, subject: string): Promise<IdentityLink | undefined> {
    const entry = await store.get(identityKeys.identity(provider, subject));
    return entry ? decodeJson<IdentityLink>(entry.value) : undefined;
  }

  /** Links a pair to a user; false when the pair is already linked (to anyone). */
  async function link(userId: string, provider: string, subject: string, email?: string): Promise<boolean> {
    const record: IdentityLink = { user_id: userId, provider, subject, email, created_at: nowIso(clock), last_login_at: nowIso(clock) };
    try {
      await store.batch(
        [
          { type: 'put', key: identityKeys.identity(provider, subject), value: encodeJson(record) },
          { type: 'put', key: identityKeys.userIdentity(userId, provider, subject), value: new Uint8Array() },
        ],
        [{ key: identityKeys.identity(provider, subject), revision: 0 }],
      );
      return true;
    } catch (err) {
      if (isStoreConflict(err)) return false;
      throw err;
    }
  }

  async function touch(link: IdentityLink, email: string | undefined): Promise<void> {
    const next: IdentityLink = { ...link, last_login_at: nowIso(clock), ...(email === undefined ? {} : { email }) };
    await store.batch([{ type: 'put', key: identityKeys.identity(link.provider, link.subject), value: encodeJson(next) }]);
  }

  async function listForUser(userId: string): Promise<IdentityLink[]> {
    const links: IdentityLink[] = [];
    for await (const item of store.iterate(identityKeys.userIdentityPrefix(userId))) {
      const [provider = '', subject = ''] = item.key.slice(identityKeys.userIdentityPrefix(userId).length).split('\u0000');
      const found = await find(provider, subject);
      if (found?.user_id === userId) links.push(found);
    }
    return links;
  }

  /** Removes one link, if it belongs to the user. */
  async function unlink(userId: string, provider: string, subject: string): Promise<boolean> {
    const found = await find(provider, subject);
    if (found?.user_id !== userId) return false;
    await store.batch([
      { type: 'del', key: identityKeys.identity(provider, subject) },
      { type: 'del', key: identityKeys.userIdentity(userId, provider, subject) },
    ]);
    return true;
  }

  /** Removes every link of a user (the user is being deleted). */
  async function removeForUser(userId: string): Promise<number> {
    const links = await listForUser(userId);
    const ops = links.flatMap((l) => [
      { type: 'del' as const, key: identityKeys.identity(l.provider, l.subject) },
      { type: 'del' as const, key: identityKeys.userIdentity(userId, l.provider, l.subject) },
    ]);
    if (ops.length > 0) await store.batch(ops);
    return links.length;
  }

  return { find, link, unlink, touch, listForUser, removeForUser };
}
