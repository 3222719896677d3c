import type { Entry } from 'ldapts';
import type { LdapSettings } from '../settings/auth-section.ts';
import { type DirectorySession, type LdapConnection, type LdapTimeouts, withDirectory } from './ldap-client.ts';
import { fillFilter, firstRdnValue, normalizeDn } from './ldap-filter.ts';

/**
 * What pika reads from a directory: people (by login name, or all of them for the user sync)
 * with their attributes and groups. Shared by the login strategy and the user sync, which have
 * the same connection, attribute and group settings.
 */
export type DirectorySettings = LdapConnection & Pick<LdapSettings, 'user_base_dn' | 'user_filter' | 'attributes' | 'group_base_dn' | 'group_filter' | 'group_name_attribute'>;

export interface DirectoryGroup {
  /** The group's short name: the name attribute of a searched group, else the DN's first RDN value. */
  readonly name: string;
  readonly dn: string;
}

export interface DirectoryUser {
  readonly dn: string;
  /** The DN lower-cased: the identity subject (links, sessions). */
  readonly subject: string;
  readonly username?: string | undefined;
  readonly email?: string | undefined;
  readonly displayName?: string | undefined;
  readonly groups: readonly DirectoryGroup[];
}

/** A DN under the user base that no entry has: unknown users still cost one bind (timing). */
const ABSENT_RDN = 'cn=pika-timing-equaliser-absent';
const ABSENT_PASSWORD = 'pika timing equaliser, never a real password';

/**
 * Checks a login: finds the single entry matching `user_filter` (the name escaped), binds as it
 * with the password, then reads its groups with the service account's rights. Undefined for an
 * unknown name, an ambiguous one, a wrong password or an empty password — the caller cannot tell
 * which, and each costs a search and a bind, so timing tells little more.
 */
export function authenticate(settings: DirectorySettings, timeouts: LdapTimeouts, username: string, password: string): Promise<DirectoryUser | undefined> {
  return withDirectory(settings, timeouts, async (session) => {
    await session.serviceBind();
    const filter = fillFilter(settings.user_filter, { username });
    // Two are enough to know the name is ambiguous; a filter matching many must not list them.
    const found = await session.search(settings.user_base_dn, { filter, attributes: userAttributes(settings), sizeLimit: 2 });
    const entry = found.length === 1 ? found[0] : undefined;
    if (!entry) {
      await session.checkPassword(`${ABSENT_RDN},${settings.user_base_dn}`, ABSENT_PASSWORD);
      return undefined;
    }
    if (!(await session.checkPassword(entry.dn, password))) return undefined;
    // Back to the service account: the user may not be allowed to read group entries.
    await session.serviceBind();
    return readUser(session, settings, entry);
  });
}

/** Every entry under `user_base_dn` matching `user_filter` with `{username}` = `*`, page by page. */
export async function* listUsers(session: DirectorySession, settings: DirectorySettings, pageSize: number): AsyncGenerator<DirectoryUser> {
  const filter = fillFilter(settings.user_filter, { username: '*' }, ['username']);
  for await (const page of session.searchPages(settings.user_base_dn, { filter, attributes: userAttributes(settings), pageSize })) {
    for (const entry of page) yield readUser(session, settings, entry);
  }
}

export async function readUser(session: DirectorySession, settings: DirectorySettings, entry: Entry): Promise<DirectoryUser> {
  const { attributes } = settings;
  const username = firstValue(entry, attributes.username);
  return {
    dn: entry.dn,
    subject: normalizeDn(entry.dn),
    username,
    email: firstValue(entry, attributes.email),
    displayName: firstValue(entry, attributes.display_name),
    groups: attributes.groups === '' ? await searchGroups(session, settings, entry.dn, username ?? '') : values(entry, attributes.groups).map(groupOfDn),
  };
}

/** Groups whose entries name this user (`group_filter` with `{dn}` and `{username}`, both escaped). */
async function searchGroups(session: DirectorySession, settings: DirectorySettings, dn: string, username: string): Promise<DirectoryGroup[]> {
  if (!settings.group_base_dn) return [];
  const filter = fillFilter(settings.group_filter, { dn, username });
  const entries = await session.search(settings.group_base_dn, { filter, attributes: [settings.group_name_attribute] });
  return entries.map((group) => ({ dn: group.dn, name: firstValue(group, settings.group_name_attribute) ?? firstRdnValue(group.dn) ?? group.dn }));
}

function groupOfDn(dn: string): DirectoryGroup {
  return { dn, name: firstRdnValue(dn) ?? dn };
}

function userAttributes(settings: DirectorySettings): string[] {
  const { username, email, display_name, groups } = settings.attributes;
  return [...new Set([username, email, display_name, groups].filter((a) => a !== ''))];
}

/** An attribute's values as text, looked up case-insensitively (servers answer `memberOf` to `memberof`). */
function values(entry: Entry, attribute: string): string[] {
  if (attribute === '') return [];
  const wanted = attribute.toLowerCase();
  const key = Object.keys(entry).find((k) => k !== 'dn' && k.toLowerCase() === wanted);
  const raw: unknown = key === undefined ? undefined : entry[key];
  const list: unknown[] = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))).filter((v) => v !== '');
}

function firstValue(entry: Entry, attribute: string): string | undefined {
  return values(entry, attribute)[0];
}

/** Group names and DNs (a mapping may name either), for session roles and the grant mapping. */
export function groupKeys(groups: readonly DirectoryGroup[]): string[] {
  return [...new Set(groups.flatMap((g) => [g.name, g.dn]))];
}
