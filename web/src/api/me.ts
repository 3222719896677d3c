import { api } from './client.ts';
import type { TotpStatus, User } from './users.ts';

export interface TotpEnrollment {
  secret_base32: string;
  otpauth_url: string;
  period: number;
  digits: number;
  algorithm: 'SHA1';
}

/**
 * Wrong passwords and codes answer 401 (`ERR_INVALID_CREDENTIALS`, `ERR_TOTP_INVALID`) while the
 * session is fine: those calls are `quiet` so the app does not take them for a lost session.
 */
const QUIET = { quiet: true } as const;

export const getMe = () => api.get<{ user: User; permissions: string[] }>('/api/v1/me');
/** Other sessions end; this one stays signed in. */
export const changePassword = (currentPassword: string, newPassword: string) =>
  api.post<{ ok: boolean; sessions_revoked: number }>('/api/v1/me/password', { current_password: currentPassword, new_password: newPassword }, QUIET);

export const getTotp = () => api.get<TotpStatus>('/api/v1/me/totp');
export const beginTotp = () => api.post<TotpEnrollment>('/api/v1/me/totp/begin');
/** Confirms enrollment; the recovery codes are in this response only. */
export const finishTotp = (code: string) => api.post<{ recovery_codes: string[] }>('/api/v1/me/totp/finish', { code }, QUIET);
export const disableTotp = (password: string) => api.delete<undefined>('/api/v1/me/totp', { ...QUIET, body: { password } });
export const newRecoveryCodes = (password: string) => api.post<{ recovery_codes: string[] }>('/api/v1/me/totp/recovery-codes', { password }, QUIET);
