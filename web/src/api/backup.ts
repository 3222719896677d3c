import { api } from './client.ts';

export interface RestoreResult {
  ok: boolean;
  mode: 'merge' | 'wipe';
  entries: number;
}

/**
 * The archive password travels in `X-Encryption-Password` (kept out of access logs), as UTF-8
 * bytes: header values are byte strings, and the server reads valid UTF-8 as UTF-8.
 */
function passwordHeader(password: string): Record<string, string> {
  if (password === '') return {};
  const bytes = new TextEncoder().encode(password.normalize('NFC'));
  return { 'x-encryption-password': Array.from(bytes, (b) => String.fromCharCode(b)).join('') };
}

/** `GET /api/v1/backup`: the raw response, so the caller can stream it and show progress. */
export const downloadBackup = (password: string) => api.get<Response>('/api/v1/backup', { raw: true, headers: { accept: 'application/octet-stream', ...passwordHeader(password) } });

/** `POST /api/v1/backup`: merge (default) or wipe. */
export const restoreBackup = (archive: Blob, options: { password: string; wipe: boolean }) =>
  api.post<RestoreResult>('/api/v1/backup', archive, {
    headers: { 'content-type': 'application/octet-stream', ...passwordHeader(options.password), ...(options.wipe ? { 'x-pika-wipe': 'true' } : {}) },
  });
