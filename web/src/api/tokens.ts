import { api } from './client.ts';

/** One scope of an API token: file operations on config paths matching `path` (SPEC §6). */
export type Operation = 'read' | 'write' | 'delete' | '*';
export interface TokenScope {
  resource?: string;
  path: string;
  operations: Operation[];
}

/** A token as listed: never its key or hash. */
export interface Token {
  id: string;
  name: string;
  scopes: TokenScope[];
  capabilities: string[];
  active: boolean;
  expires_at?: string;
  created_at: string;
  created_by: string;
  last_used_at?: string;
}

export interface TokenInput {
  name: string;
  scopes: TokenScope[];
  capabilities?: string[];
  expires_at?: string;
}

export interface TokenPatch {
  name?: string;
  scopes?: TokenScope[];
  capabilities?: string[];
  active?: boolean;
  /** `null` clears the expiry. */
  expires_at?: string | null;
}

export const listTokens = () => api.get<Token[]>('/api/v1/tokens');
/** `raw_key` is in this response only: show it once. */
export const createToken = (input: TokenInput) => api.post<Token & { raw_key: string }>('/api/v1/tokens', input);
export const patchToken = (id: string, patch: TokenPatch) => api.patch<Token>(`/api/v1/tokens/${encodeURIComponent(id)}`, patch);
export const revokeToken = (id: string) => api.delete<{ ok: boolean }>(`/api/v1/tokens/${encodeURIComponent(id)}`);
