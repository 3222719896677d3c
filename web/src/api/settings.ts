import { api } from './client.ts';

/**
 * The settings document (`GET/POST /api/v1/settings`, `settings.manage`). Secrets are write-only:
 * a read carries `<field>_set`, a write leaves the field out (or blank) to keep the stored value,
 * sends a new value to replace it, or `clear_<field>: true` to remove it. The types below are the
 * read view plus those optional write-only fields, so one object serves as a form draft.
 */
export interface OAuthProvider {
  name: string;
  display_name?: string;
  client_id: string;
  client_secret_set?: boolean;
  client_secret?: string;
  clear_client_secret?: boolean;
  issuer_url?: string;
  auth_url?: string;
  token_url?: string;
  userinfo_url?: string;
  scopes: string[];
  disable_pkce: boolean;
  token_auth_method: 'basic' | 'post';
  auto_create_user: boolean;
  link_by_verified_email: boolean;
  roles_claims: string[];
}

export interface LdapAttributes {
  username: string;
  email: string;
  display_name: string;
  groups: string;
}

export interface LdapConnection {
  address: string;
  start_tls: boolean;
  ca_pem?: string;
  insecure_skip_verify: boolean;
  bind_dn: string;
  bind_password_set?: boolean;
  bind_password?: string;
  clear_bind_password?: boolean;
  user_base_dn: string;
  user_filter: string;
  attributes: LdapAttributes;
  group_base_dn?: string;
  group_filter: string;
  group_name_attribute: string;
}

export interface LdapSettings extends LdapConnection {
  enabled: boolean;
  name: string;
  label: string;
  auto_create_user: boolean;
  sync_source?: string;
}

export interface UserSyncSource {
  id: string;
  name: string;
  enabled: boolean;
  type: 'ldap';
  ldap: LdapConnection & { page_size: number };
  schedule: { mode: 'manual' | 'interval'; interval_minutes: number };
  on_missing: 'disable' | 'ignore';
  group_permissions: Record<string, string[]>;
}

export interface HeaderSettings {
  enabled: boolean;
  name: string;
  user_header: string;
  email_header: string;
  display_name_header: string;
  trusted_proxies: string[];
}

export interface PermissionSettings {
  enforce: boolean;
  groups_header: string;
  groups_separator: string;
  superadmins: string[];
  mapping: Record<string, string[]>;
}

export interface RateLimitSettings {
  enabled: boolean;
  window_minutes: number;
  ip_soft: number;
  ip_hard: number;
  user_soft: number;
  user_hard: number;
  backoff_min_ms: number;
  backoff_max_ms: number;
}

export interface AuthSettings {
  local: { login_form_collapsed: boolean };
  oauth2: OAuthProvider[];
  ldap?: LdapSettings;
  header?: HeaderSettings;
  permissions: PermissionSettings;
  user_sync: UserSyncSource[];
  rate_limit: RateLimitSettings;
}

export interface SettingsDocument {
  event_log: { disabled: boolean };
  auth: AuthSettings;
}

export const getSettings = () => api.get<SettingsDocument>('/api/v1/settings');
/** Replaces the named sections (each one whole); answers the new document. */
export const saveSettings = (sections: Partial<Record<keyof SettingsDocument, unknown>>) => api.post<SettingsDocument>('/api/v1/settings', sections);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A draft as the server takes it: `<field>_set` flags dropped, a blank secret left out (keep),
 * `clear_<field>` sent only when true. A field is a secret when its object has `<field>_set`.
 */
export function toSettingsInput(draft: unknown): unknown {
  if (Array.isArray(draft)) return draft.map(toSettingsInput);
  if (!isObject(draft)) return draft;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(draft)) {
    if (typeof value === 'boolean' && (key.endsWith('_set') || (key.startsWith('clear_') && !value))) continue;
    if (typeof draft[`${key}_set`] === 'boolean' && (value === '' || value === undefined)) continue;
    out[key] = toSettingsInput(value);
  }
  return out;
}

/** A copy without the given keys when they are blank (optional strings the schema would refuse empty). */
export function withoutBlank<T extends object>(value: T, keys: readonly (keyof T & string)[]): T {
  return Object.fromEntries(Object.entries(value).filter(([key, v]) => !((keys as readonly string[]).includes(key) && (v === '' || v === undefined)))) as T;
}

/** A deep copy of a settings value (plain JSON data). */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
