import { api } from './client.ts';

export interface Capability {
  key: string;
  description: string;
  path_scoped: boolean;
}

/** `GET /api/v1/info`: the boot document (who am I, what may I do, first run?). */
export interface Info {
  name: string;
  version: string;
  base_path: string;
  user?: string;
  user_id?: string;
  actor_type?: 'user' | 'token' | 'external';
  is_superadmin: boolean;
  permissions: string[];
  patterns: Record<string, string[]>;
  capabilities: Capability[];
  setup_required?: boolean;
  encryption_config_invalid?: boolean;
}

export interface KeyStatus {
  initialized: boolean;
  unlocked: boolean;
}

export const getInfo = () => api.get<Info>('/api/v1/info');
export const getKeyStatus = () => api.get<KeyStatus>('/api/v1/key/status');
export const unlockKey = (key: string) => api.post<KeyStatus>('/api/v1/key/unlock', { key });
export const initializeKey = (key: string) => api.post<KeyStatus>('/api/v1/key/initialize', { key });
export const lockKey = () => api.post<KeyStatus>('/api/v1/key/lock');
export const rotateKey = (currentKey: string, newKey: string) => api.post<KeyStatus>('/api/v1/key/rotate', { current_key: currentKey, new_key: newKey });
