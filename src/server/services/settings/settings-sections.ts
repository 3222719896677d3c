import { type TSchema, Type } from 'typebox';

/**
 * The settings document (SPEC §7.2, upstream-pika.md §1.9/§2.3): runtime configuration edited
 * through `POST /api/v1/settings`, one stored record per section. A field made with `Secret()`
 * is sealed in place under the server key, never returned (reads show `<field>_set`), kept when
 * a write leaves it blank, and removed with `clear_<field>: true`. Array items that hold secrets
 * are matched between writes by their `name`, so reordering a list never mixes secrets up.
 *
 * Sections are listed in SECTIONS; later features (hooks, externals, more auth strategies) add
 * their own entries here.
 */
export function Secret(description: string): TSchema {
  return Type.String({ maxLength: 65_536, description, 'x-secret': true });
}

const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Url = Type.String({ maxLength: 2048, pattern: '^https?://' });

const OAuthProvider = Type.Object(
  {
    name: Name,
    display_name: Type.Optional(Type.String({ maxLength: 128 })),
    client_id: Type.String({ minLength: 1, maxLength: 512 }),
    client_secret: Type.Optional(Secret('OAuth2 client secret')),
    issuer_url: Type.Optional(Url),
    auth_url: Type.Optional(Url),
    token_url: Type.Optional(Url),
    userinfo_url: Type.Optional(Url),
    scopes: Type.Array(Type.String({ maxLength: 128 }), { default: ['openid', 'profile', 'email'], maxItems: 32 }),
    disable_pkce: Type.Boolean({ default: false }),
    auto_create_user: Type.Boolean({ default: false }),
    roles_claims: Type.Array(Type.String({ maxLength: 256 }), { default: [], maxItems: 32 }),
  },
  { additionalProperties: false },
);

const Ldap = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    name: Type.String({ default: 'ldap', maxLength: 64 }),
    address: Type.String({ maxLength: 2048, pattern: '^ldaps?://' }),
    start_tls: Type.Boolean({ default: false }),
    insecure_skip_verify: Type.Boolean({ default: false }),
    bind_dn: Type.String({ maxLength: 1024, default: '' }),
    bind_password: Type.Optional(Secret('password of the bind DN')),
    user_base_dn: Type.String({ maxLength: 1024 }),
    user_filter: Type.String({ maxLength: 1024, default: '(uid={username})' }),
    group_base_dn: Type.Optional(Type.String({ maxLength: 1024 })),
    group_filter: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const SECTIONS = {
  event_log: {
    schema: Type.Object({ disabled: Type.Boolean({ default: false }) }, { additionalProperties: false }),
    defaults: { disabled: false },
  },
  auth: {
    schema: Type.Object(
      {
        oauth2: Type.Array(OAuthProvider, { default: [], maxItems: 32 }),
        ldap: Type.Optional(Ldap),
      },
      { additionalProperties: false },
    ),
    defaults: { oauth2: [] },
  },
} as const satisfies Record<string, { schema: TSchema; defaults: unknown }>;

export type SectionName = keyof typeof SECTIONS;
export const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];

export function isSectionName(name: string): name is SectionName {
  return Object.hasOwn(SECTIONS, name);
}
