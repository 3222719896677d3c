import { AppError, type ErrorCode } from '../../../shared/errors.ts';

/**
 * A refused OAuth2 sign-in: a catalog code (what the UI shows, `?login_error=`) plus a short
 * machine reason (what the audit log records: `state_expired`, `browser_mismatch`,
 * `idp_error:access_denied`, …). Neither ever contains a code, token or state.
 */
export function loginFailure(code: ErrorCode, reason: string, message?: string, extra: Record<string, string> = {}): AppError {
  return new AppError(code, message, { details: { reason, ...extra } });
}

/** The audit reason of any error thrown during a sign-in. */
export function failureReason(err: unknown): string {
  if (!(err instanceof AppError)) return 'internal_error';
  const reason = err.details?.reason;
  return typeof reason === 'string' ? reason : err.code;
}

/** A value from the IdP that may go into an audit reason: a bare OAuth2 error code, nothing else. */
export function errorToken(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 64);
  return cleaned === '' ? 'unknown' : cleaned;
}
