import { api } from './client.ts';

/** A permission bundle: capabilities, with optional doublestar path patterns per path-scoped one. */
export interface Bundle {
  id: string;
  key: string;
  name: string;
  description: string;
  keys: string[];
  key_patterns: Record<string, string[]>;
  created_at: string;
  updated_at: string;
}

export interface BundleInput {
  key: string;
  name: string;
  description?: string;
  keys: string[];
  key_patterns?: Record<string, string[]>;
}

const one = (id: string) => `/api/v1/permissions/${encodeURIComponent(id)}`;

export const listBundles = () => api.get<Bundle[]>('/api/v1/permissions');
export const createBundle = (input: BundleInput) => api.post<Bundle>('/api/v1/permissions', input);
export const patchBundle = (id: string, patch: Partial<BundleInput>) => api.patch<Bundle>(one(id), patch);
export const deleteBundle = (id: string) => api.delete<{ ok: boolean }>(one(id));
