import { api } from './client.ts';

export interface Strategy {
  name: string;
  kind: 'password' | 'oauth2';
  label: string;
  url: string;
  fields: string[];
  register?: { url: string; fields: string[] };
  collapsed?: boolean;
}

export interface LoginInfo {
  title: string;
  version: string;
  signup_first: boolean;
  strategies: Strategy[];
}

export type PasswordLoginResult = { phase?: undefined; user: { username: string } } | { phase: 'totp_required'; totp_session_id: string; strategy: string; expires_in: number };

export const getLoginInfo = () => api.get<LoginInfo>('/login/info');
export const passwordLogin = (strategy: string, username: string, password: string) => api.post<PasswordLoginResult>(`/login/pass/${strategy}`, { username, password }, { quiet: true });
export const totpLogin = (strategy: string, totpSessionId: string, code: string) => api.post<PasswordLoginResult>(`/login/pass/${strategy}`, { totp_session_id: totpSessionId, code }, { quiet: true });
export const registerFirstUser = (username: string, password: string) => api.post<{ user: { username: string } }>('/login/register/local', { username, password, password_confirm: password });
export const logout = () => api.post<{ ok: boolean }>('/logout');
