/**
 * The whole key layout, in one place (SPEC §2). Nothing else concatenates store keys.
 *
 * Separators: config paths never contain control characters (see domain/config-path.ts), so
 * `\x00` splits a path from what follows it and prefix scans never bleed into sibling paths
 * (`a/b\x00…` vs `a/bc\x00…`). Numbers are zero-padded so key order is numeric order.
 */

/** Keys the adapters keep for themselves; user keys may not start with this. */
export const RESERVED_PREFIX = '\x00';
export const REVISION_KEY = '\x00revision';

const SEP = '\x00';

export function pad(n: number, width = 12): string {
  return n.toString().padStart(width, '0');
}

export const configKeys = {
  /** File record: version list, constraints, status history. fileKey = path or path@variant. */
  file: (fileKey: string) => `cfg/file/${fileKey}`,
  filePrefix: 'cfg/file/',
  /** Variant records of a base path: `cfg/file/<path>@` (`@` is reserved in segments). */
  variantPrefix: (path: string) => `cfg/file/${path}@`,
  /** One stored version: meta + exact bytes. */
  version: (fileKey: string, version: number) => `cfg/ver/${fileKey}${SEP}${pad(version)}`,
  versionPrefix: (fileKey: string) => `cfg/ver/${fileKey}${SEP}`,
  /**
   * Children of a folder ('' = root). Folders and files live in separate rows (`d` / `f`) so one
   * name can be both a file and a folder (`a/b` and `a/b/c`). Folder rows are written with
   * idempotent puts; a file row's value lists the file's variants.
   */
  folderChild: (folder: string, name: string) => `cfg/tree/${folder}${SEP}d${SEP}${name}`,
  fileChild: (folder: string, name: string) => `cfg/tree/${folder}${SEP}f${SEP}${name}`,
  childPrefix: (folder: string) => `cfg/tree/${folder}${SEP}`,
  /** Rows of every folder strictly below `folder` (which must not be the root). */
  subtreePrefix: (folder: string) => `cfg/tree/${folder}/`,
  /** Parses a row key from `childPrefix(folder)` into its kind and name. */
  parseChild: (key: string): { kind: 'folder' | 'file'; name: string } => {
    const rest = key.slice(key.indexOf(SEP) + 1);
    return { kind: rest.startsWith(`d${SEP}`) ? 'folder' : 'file', name: rest.slice(2) };
  },
} as const;

export const feedKeys = {
  /** The change-feed sequence (the revision clients see in `/api/v1/watch`). */
  sequence: 'feed/seq',
  event: (seq: number) => `feed/event/${pad(seq, 16)}`,
  eventPrefix: 'feed/event/',
  seqOf: (key: string) => Number(key.slice('feed/event/'.length)),
} as const;

export const identityKeys = {
  user: (id: string) => `id/user/${id}`,
  userPrefix: 'id/user/',
  username: (name: string) => `id/username/${name.toLowerCase()}`,
  bundle: (id: string) => `id/bundle/${id}`,
  bundlePrefix: 'id/bundle/',
  bundleKey: (key: string) => `id/bundlekey/${key}`,
  token: (id: string) => `id/token/${id}`,
  tokenPrefix: 'id/token/',
  tokenHash: (hash: string) => `id/tokenhash/${hash}`,
  session: (hash: string) => `id/session/${hash}`,
  sessionPrefix: 'id/session/',
  userSession: (userId: string, hash: string) => `id/usersession/${userId}${SEP}${hash}`,
  userSessionPrefix: (userId: string) => `id/usersession/${userId}${SEP}`,
  userSessionHash: (key: string) => key.slice(key.lastIndexOf(SEP) + 1),
  /** An external identity (provider + subject) linked to a user (seed 002). */
  identity: (provider: string, subject: string) => `id/identity/${provider}${SEP}${subject}`,
  userIdentity: (userId: string, provider: string, subject: string) => `id/useridentity/${userId}${SEP}${provider}${SEP}${subject}`,
  userIdentityPrefix: (userId: string) => `id/useridentity/${userId}${SEP}`,
  /** A user's TOTP enrollment: secret, hashed recovery codes, replay guard (services/identity/totp-service.ts). */
  totp: (userId: string) => `id/totp/${userId}`,
  totpPrefix: 'id/totp/',
  /** A pending two-phase sign-in, named by the SHA-256 of the id the client holds. */
  totpChallenge: (hash: string) => `id/totpchallenge/${hash}`,
  totpChallengePrefix: 'id/totpchallenge/',
  /** A pending OAuth2/OIDC sign-in (services/oauth/flow-store.ts), named by the SHA-256 of its `state`. */
  oauthState: (hash: string) => `id/oauthstate/${hash}`,
  oauthStatePrefix: 'id/oauthstate/',
} as const;

/**
 * Sign-in sessions (`id/session/…` and their per-user index), half-finished two-factor
 * sign-ins and pending OAuth2 sign-ins: the only keys a backup leaves out, because they are live
 * credentials tied to one server's clients, not data.
 */
export const SESSION_PREFIXES = [identityKeys.sessionPrefix, 'id/usersession/', identityKeys.totpChallengePrefix, identityKeys.oauthStatePrefix] as const;

export const systemKeys = {
  /** The server key record: KDF parameters and the sealed keyring (barrier/key-record.ts). */
  key: 'sys/key',
  /** The server's stable id (services/system/server-id.ts); backed up and restored like data. */
  serverId: 'sys/server-id',
} as const;

export const settingsKeys = {
  /** One settings section (services/settings/settings-sections.ts), secrets sealed in place. */
  section: (name: string) => `settings/${name}`,
  prefix: 'settings/',
} as const;

export const syncKeys = {
  /** The last result of one user-sync source (services/ldap/sync-status.ts). */
  status: (sourceId: string) => `sync/status/${sourceId}`,
  /** A user this source disabled because it left the directory; only these are re-enabled on return. */
  disabled: (sourceId: string, userId: string) => `sync/disabled/${sourceId}${SEP}${userId}`,
} as const;

export const auditKeys = {
  entry: (id: string) => `audit/${id}`,
  prefix: 'audit/',
} as const;
