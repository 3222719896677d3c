import { api } from './client.ts';

export interface User {
  id: string;
  username: string;
  email?: string;
  display_name?: string;
  external: boolean;
  disabled: boolean;
  is_superadmin: boolean;
  permission_ids: string[];
  denied_capabilities: string[];
  created_at: string;
  updated_at: string;
}

export interface UserInput {
  username: string;
  password: string;
  email?: string;
  display_name?: string;
  is_superadmin?: boolean;
  permission_ids?: string[];
}

export interface UserPatch {
  username?: string;
  password?: string;
  email?: string;
  display_name?: string;
  disabled?: boolean;
  is_superadmin?: boolean;
}

export interface UserQuery {
  username?: string;
  disabled?: boolean;
  _limit?: number;
  _offset?: number;
}

export interface Session {
  handle: string;
  created_at: string;
  expires_at: string;
  provider: string;
  ip?: string;
  user_agent?: string;
}

export interface CapabilitySource {
  capability: string;
  kind: 'superadmin' | 'db_bundle' | 'role' | string;
  bundle?: string;
  role?: string;
}

/** `GET /api/v1/users-effective/<user>`: what a user may do and where each right comes from. */
export interface Effective {
  username: string;
  user_id: string;
  online: boolean;
  superadmin: boolean;
  superadmin_reason?: string;
  capabilities: string[];
  patterns: Record<string, string[]>;
  roles: string[];
  sources: CapabilitySource[];
  denied: string[];
}

export interface TotpStatus {
  enabled: boolean;
  created_at?: string;
  last_used_at?: string;
  recovery_codes_left: number;
  pending_enrollment: boolean;
}

export interface Identity {
  provider: string;
  subject: string;
  email?: string;
  created_at: string;
  last_login_at?: string;
}

const ref = encodeURIComponent;

export const listUsers = (query: UserQuery = {}) => api.get<{ users: User[]; total: number }>('/api/v1/users', { query: { ...query } });
export const getUser = (id: string) => api.get<User>(`/api/v1/users/${ref(id)}`);
export const createUser = (input: UserInput) => api.post<User>('/api/v1/users', input);
export const patchUser = (id: string, patch: UserPatch) => api.patch<User>(`/api/v1/users/${ref(id)}`, patch);
export const deleteUser = (id: string) => api.delete<{ ok: boolean }>(`/api/v1/users/${ref(id)}`);
export const kickUser = (id: string) => api.post<{ revoked: number }>(`/api/v1/users-kick/${ref(id)}`);

export const listSessions = (user: string) => api.get<{ sessions: Session[] }>(`/api/v1/users-sessions/${ref(user)}`);
export const endSession = (user: string, handle: string) => api.delete<{ ok: boolean }>(`/api/v1/users-sessions/${ref(user)}/${ref(handle)}`);

export const getEffective = (user: string) => api.get<Effective>(`/api/v1/users-effective/${ref(user)}`);
export const setUserBundles = (id: string, permissionIds: string[]) => api.put<{ permission_ids: string[] }>(`/api/v1/user-permissions/${ref(id)}`, { permission_ids: permissionIds });
export const setDenied = (user: string, capabilities: string[]) => api.put<{ capability_keys: string[] }>(`/api/v1/users-denied/${ref(user)}`, { capability_keys: capabilities });

export const getUserTotp = (id: string) => api.get<TotpStatus>(`/api/v1/users-totp/${ref(id)}`);
export const resetUserTotp = (id: string) => api.delete<undefined>(`/api/v1/users-totp/${ref(id)}`);

export const listIdentities = (user: string) => api.get<{ identities: Identity[] }>(`/api/v1/users-identities/${ref(user)}`);
export const linkIdentity = (user: string, provider: string, subject: string) => api.post<{ ok: boolean }>(`/api/v1/users-identities/${ref(user)}`, { provider, subject });
export const unlinkIdentity = (user: string, provider: string, subject: string) => api.delete<{ ok: boolean }>(`/api/v1/users-identities/${ref(user)}`, { query: { provider, subject } });
