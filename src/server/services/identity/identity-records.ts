import { randomBytes } from 'node:crypto';
import type { Capability } from '../../../shared/capabilities.ts';
import type { TokenScope } from '../access/token-permissions.ts';

/** Stored shapes of the identity entities (the store holds them as JSON). */
export interface UserRecord {
  id: string;
  username: string;
  /** bcrypt hash; '' for external users that cannot sign in with a password. */
  password_hash: string;
  email?: string | undefined;
  display_name?: string | undefined;
  external: boolean;
  disabled: boolean;
  is_superadmin: boolean;
  grants: { permission_id: string; source: string }[];
  denied_capabilities: Capability[];
  created_at: string;
  updated_at: string;
}

export interface BundleRecord {
  id: string;
  key: string;
  name: string;
  description: string;
  keys: Capability[];
  key_patterns: Partial<Record<Capability, string[]>>;
  created_at: string;
  updated_at: string;
}

export interface SessionRecord {
  user_id: string;
  created_at: string;
  expires_at: string;
  provider: string;
  /** Groups/roles the external strategy reported at sign-in (permission mapping); none for local. */
  roles?: string[] | undefined;
  /** The external subject, for the superadmin allowlist. */
  subject?: string | undefined;
  ip?: string | undefined;
  user_agent?: string | undefined;
}

export interface TokenRecord {
  id: string;
  name: string;
  hashed_key: string;
  scopes: TokenScope[];
  capabilities: Capability[];
  active: boolean;
  expires_at?: string | undefined;
  created_at: string;
  /** Display name of the creator (username, or `token:<name>`). */
  created_by: string;
  /** The user whose rights bound this token. */
  created_by_user_id: string;
  /** Set when another token minted this one; its rights bound this token too. */
  created_by_token_id?: string | undefined;
  last_used_at?: string | undefined;
}

export function newId(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

export function nowIso(clock: () => number): string {
  return new Date(clock()).toISOString();
}
