import { api } from './client.ts';

export interface SyncResult {
  source: string;
  started_at: string;
  finished_at: string;
  trigger: string;
  created: number;
  updated: number;
  disabled: number;
  enabled: number;
  unchanged: number;
  errors: string[];
}

export interface SyncSourceStatus {
  id: string;
  name: string;
  enabled: boolean;
  mode: string;
  interval_minutes: number;
  running: boolean;
  last: SyncResult | null;
}

export const getUserSyncStatus = () => api.get<{ sources: SyncSourceStatus[] }>('/api/v1/user-sync/status');
export const runUserSync = (id: string) => api.post<SyncResult>(`/api/v1/user-sync/run/${encodeURIComponent(id)}`);
