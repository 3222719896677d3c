import { type Static, Type } from 'typebox';
import { CAPABILITY_KEYS } from '../../../shared/capabilities.ts';
import { Secret } from './secret.ts';

/**
 * The `auth` settings section (seed 002, upstream-pika.md §8.4–§8.6): every external strategy,
 * the mapping of external groups to capabilities, LDAP user sync and login rate limits. All of it
 * is read at request time, so a change takes effect without a restart.
 */
const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Url = Type.String({ maxLength: 2048, pattern: '^https?://' });
const Capability = Type.Enum([...CAPABILITY_KEYS]);

const OAuthProvider = Type.Object(
  {
    name: Name,
    display_name: Type.Optional(Type.String({ maxLength: 128 })),
    client_id: Type.String({ minLength: 1, maxLength: 512 }),
    client_secret: Type.Optional(Secret('OAuth2 client secret')),
    /** OIDC discovery; alternatively give the three endpoint URLs. */
    issuer_url: Type.Optional(Url),
    auth_url: Type.Optional(Url),
    token_url: Type.Optional(Url),
    userinfo_url: Type.Optional(Url),
    scopes: Type.Array(Type.String({ maxLength: 128 }), { default: ['openid', 'profile', 'email'], maxItems: 32 }),
    disable_pkce: Type.Boolean({ default: false }),
    token_auth_method: Type.Enum(['basic', 'post'], { default: 'basic' }),
    auto_create_user: Type.Boolean({ default: false }),
    link_by_verified_email: Type.Boolean({ default: false }),
    /** Dot paths into the ID token / userinfo claims; `*` fans out over object keys. */
    roles_claims: Type.Array(Type.String({ maxLength: 256 }), { default: [], maxItems: 32 }),
  },
  { additionalProperties: false },
);

const LdapConnection = {
  address: Type.String({ maxLength: 2048, pattern: '^ldaps?://' }),
  start_tls: Type.Boolean({ default: false }),
  /** PEM of a CA to trust for ldaps/StartTLS (besides the system store). */
  ca_pem: Type.Optional(Type.String({ maxLength: 65_536 })),
  insecure_skip_verify: Type.Boolean({ default: false }),
  bind_dn: Type.String({ maxLength: 1024, default: '' }),
  bind_password: Type.Optional(Secret('password of the bind DN')),
  user_base_dn: Type.String({ maxLength: 1024 }),
  /** `{username}` is replaced by the escaped login name. */
  user_filter: Type.String({ maxLength: 1024, default: '(uid={username})' }),
  attributes: Type.Object(
    {
      username: Type.String({ default: 'uid', maxLength: 64 }),
      email: Type.String({ default: 'mail', maxLength: 64 }),
      display_name: Type.String({ default: 'cn', maxLength: 64 }),
      /** Attribute listing group DNs on the user entry (OpenLDAP memberOf overlay, AD). Empty: search groups. */
      groups: Type.String({ default: 'memberOf', maxLength: 64 }),
    },
    { additionalProperties: false, default: {} },
  ),
  /** Group search, used when `attributes.groups` is empty: `{dn}` and `{username}` are replaced. */
  group_base_dn: Type.Optional(Type.String({ maxLength: 1024 })),
  group_filter: Type.String({ maxLength: 1024, default: '(member={dn})' }),
  group_name_attribute: Type.String({ maxLength: 64, default: 'cn' }),
};

const Ldap = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    name: Type.String({ default: 'ldap', maxLength: 64, pattern: '^[a-z0-9][a-z0-9._-]*$' }),
    label: Type.String({ default: 'LDAP', maxLength: 128 }),
    ...LdapConnection,
    auto_create_user: Type.Boolean({ default: false }),
    /** A user-sync source whose group → bundle mapping applies to just-in-time users. */
    sync_source: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

const UserSyncSource = Type.Object(
  {
    id: Name,
    name: Type.String({ maxLength: 128, default: '' }),
    enabled: Type.Boolean({ default: true }),
    type: Type.Enum(['ldap'], { default: 'ldap' }),
    ldap: Type.Object({ ...LdapConnection, page_size: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }) }, { additionalProperties: false }),
    schedule: Type.Object(
      { mode: Type.Enum(['manual', 'interval'], { default: 'manual' }), interval_minutes: Type.Integer({ minimum: 1, maximum: 10_080, default: 60 }) },
      { additionalProperties: false, default: {} },
    ),
    on_missing: Type.Enum(['disable', 'ignore'], { default: 'disable' }),
    /** LDAP group name (or DN) → permission bundle ids granted to its members. */
    group_permissions: Type.Record(Type.String({ maxLength: 1024 }), Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }), { default: {} }),
  },
  { additionalProperties: false },
);

const Header = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    name: Type.String({ default: 'header', maxLength: 64 }),
    user_header: Type.String({ default: 'X-User', maxLength: 128 }),
    email_header: Type.String({ default: 'X-Email', maxLength: 128 }),
    display_name_header: Type.String({ default: 'X-Display-Name', maxLength: 128 }),
    /** Addresses or CIDRs of the proxies allowed to set these headers; nobody else is believed. */
    trusted_proxies: Type.Array(Type.String({ maxLength: 64 }), { default: [], maxItems: 64 }),
  },
  { additionalProperties: false },
);

const Permissions = Type.Object(
  {
    /** Off (the seed's default): externally authenticated users are trusted completely. */
    enforce: Type.Boolean({ default: false }),
    groups_header: Type.String({ default: 'X-Groups', maxLength: 128 }),
    groups_separator: Type.String({ default: ',', minLength: 1, maxLength: 8 }),
    /** Subjects (`provider:subject` or a username) that always get every capability. */
    superadmins: Type.Array(Type.String({ maxLength: 256 }), { default: [], maxItems: 256 }),
    /** External group, role or scope → capabilities; a user gets the union of all matches. */
    mapping: Type.Record(Type.String({ maxLength: 256 }), Type.Array(Capability, { maxItems: 16 }), { default: {} }),
  },
  { additionalProperties: false, default: {} },
);

const RateLimit = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    window_minutes: Type.Integer({ minimum: 1, maximum: 1440, default: 15 }),
    ip_soft: Type.Integer({ minimum: 1, maximum: 10_000, default: 3 }),
    ip_hard: Type.Integer({ minimum: 1, maximum: 10_000, default: 30 }),
    user_soft: Type.Integer({ minimum: 1, maximum: 10_000, default: 3 }),
    user_hard: Type.Integer({ minimum: 1, maximum: 10_000, default: 15 }),
    backoff_min_ms: Type.Integer({ minimum: 0, maximum: 600_000, default: 1_000 }),
    backoff_max_ms: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 15_000 }),
  },
  { additionalProperties: false, default: {} },
);

export const AuthSection = Type.Object(
  {
    local: Type.Object({ login_form_collapsed: Type.Boolean({ default: false }) }, { additionalProperties: false, default: {} }),
    oauth2: Type.Array(OAuthProvider, { default: [], maxItems: 32 }),
    ldap: Type.Optional(Ldap),
    header: Type.Optional(Header),
    permissions: Permissions,
    user_sync: Type.Array(UserSyncSource, { default: [], maxItems: 32 }),
    rate_limit: RateLimit,
  },
  { additionalProperties: false },
);

export const AUTH_DEFAULTS = {
  local: { login_form_collapsed: false },
  oauth2: [],
  permissions: { enforce: false, groups_header: 'X-Groups', groups_separator: ',', superadmins: [], mapping: {} },
  user_sync: [],
  rate_limit: { enabled: true, window_minutes: 15, ip_soft: 3, ip_hard: 30, user_soft: 3, user_hard: 15, backoff_min_ms: 1_000, backoff_max_ms: 15_000 },
};

export type AuthSettings = Static<typeof AuthSection>;
export type OAuthProviderSettings = AuthSettings['oauth2'][number];
export type LdapSettings = NonNullable<AuthSettings['ldap']>;
export type HeaderSettings = NonNullable<AuthSettings['header']>;
export type UserSyncSettings = AuthSettings['user_sync'][number];
