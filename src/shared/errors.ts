/**
 * The one error catalog (SPEC §2). Every error the server sends is one of these codes with a fixed
 * HTTP status; clients (the UI, the operator, scripts) branch on `code`, never on message text.
 * Codes are never reused or renamed once shipped. `server_locked` keeps its lower-case spelling
 * because the seeds and ESO-facing clients already depend on it.
 */
export const ERRORS = {
  ERR_INTERNAL: { status: 500, message: 'internal server error' },
  ERR_STORE_UNAVAILABLE: { status: 503, message: 'the store is not available' },
  server_locked: { status: 503, message: 'the server is locked; unlock it with the server key' },

  ERR_ROUTE_NOT_FOUND: { status: 404, message: 'no such route' },
  ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  ERR_VALIDATION: { status: 400, message: 'the request does not match the schema' },
  ERR_MALFORMED_BODY: { status: 400, message: 'the request body is not valid JSON' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported content type' },
  ERR_BODY_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  ERR_BAD_REQUEST: { status: 400, message: 'bad request' },
  ERR_PATH_INVALID: { status: 400, message: 'invalid path' },
  ERR_RATE_LIMITED: { status: 429, message: 'too many requests; retry later' },

  ERR_UNAUTHENTICATED: { status: 401, message: 'authentication required' },
  ERR_INVALID_CREDENTIALS: { status: 401, message: 'invalid username or password' },
  ERR_TOKEN_INVALID: { status: 401, message: 'unknown or malformed API token' },
  ERR_TOKEN_DISABLED: { status: 403, message: 'the API token is disabled' },
  ERR_TOKEN_EXPIRED: { status: 403, message: 'the API token has expired' },
  ERR_TOKEN_CREATOR_INACTIVE: { status: 403, message: 'the user who created this token is disabled or deleted' },
  ERR_FORBIDDEN: { status: 403, message: 'you do not have permission for this action' },
  ERR_EXTERNAL_NOT_LINKED: { status: 403, message: 'no pika account is linked to this identity' },
  ERR_ACCOUNT_DISABLED: { status: 403, message: 'this account is disabled' },
  ERR_IDENTITY_LINKED: { status: 409, message: 'this external identity is already linked to a user' },
  ERR_IDENTITY_NOT_FOUND: { status: 404, message: 'no such linked identity' },
  ERR_EXTERNAL_LOGIN_FAILED: { status: 401, message: 'the identity provider did not sign you in' },
  ERR_OAUTH_STATE: { status: 400, message: 'this sign-in is unknown, expired, already used or was started in another browser; start again' },
  ERR_OAUTH_PROVIDER: { status: 502, message: 'the identity provider is unreachable or misconfigured' },
  ERR_CSRF: { status: 403, message: 'cross-origin request refused' },
  ERR_SETUP_DONE: { status: 409, message: 'the first user already exists; sign in instead' },
  ERR_PASSWORD_MISMATCH: { status: 400, message: 'password and password_confirm differ' },
  ERR_PASSWORD_WEAK: { status: 400, message: 'the password is too short' },
  ERR_CAPABILITY_EXCEEDS_CREATOR: { status: 403, message: 'a token cannot hold a capability its creator lacks' },
  ERR_LAST_SUPERADMIN: { status: 409, message: 'this would leave the server without an active superadmin' },
  ERR_TOTP_ENROLLED: { status: 409, message: 'two-factor sign-in is already enabled; disable it first' },
  ERR_TOTP_NOT_ENROLLED: { status: 409, message: 'two-factor sign-in is not enabled for this account' },
  ERR_TOTP_INVALID: { status: 401, message: 'wrong or expired two-factor code' },
  ERR_TOTP_CHALLENGE: { status: 401, message: 'unknown or expired two-factor sign-in; sign in with your password again' },
  ERR_TOTP_SELF_RESET: { status: 403, message: 'turn off your own two-factor sign-in with DELETE /api/v1/me/totp and your password' },

  ERR_USER_NOT_FOUND: { status: 404, message: 'user not found' },
  ERR_USERNAME_TAKEN: { status: 409, message: 'the username is taken' },
  ERR_BUNDLE_NOT_FOUND: { status: 404, message: 'permission bundle not found' },
  ERR_BUNDLE_KEY_TAKEN: { status: 409, message: 'a permission bundle with this key exists' },
  ERR_TOKEN_NOT_FOUND: { status: 404, message: 'token not found' },
  ERR_SESSION_NOT_FOUND: { status: 404, message: 'session not found' },

  ERR_FILE_NOT_FOUND: { status: 404, message: 'config not found' },
  ERR_VERSION_NOT_FOUND: { status: 404, message: 'no matching version' },
  ERR_FOLDER_NOT_FOUND: { status: 404, message: 'folder not found' },
  ERR_VERSION_CONFLICT: { status: 409, message: 'the config changed since you loaded it' },
  ERR_VERSION_SELECTOR_INVALID: { status: 400, message: 'version must be an integer or a semver version' },
  ERR_CONSTRAINT_INVALID: { status: 400, message: 'invalid semver constraint' },
  ERR_FORMAT_INVALID: { status: 400, message: 'unknown format' },
  ERR_SYNTAX: { status: 400, message: 'the content does not parse' },
  ERR_CONVERT: { status: 400, message: 'the content cannot be converted to that format' },
  ERR_INHERIT_INVALID: { status: 400, message: 'invalid inheritance entry' },
  ERR_INHERIT_CYCLE: { status: 400, message: 'inheritance cycle detected' },
  ERR_INHERIT_DEPTH: { status: 400, message: 'inheritance is nested too deeply' },
  ERR_INHERIT_SOURCE_NOT_FOUND: { status: 400, message: 'an inherited source does not exist' },
  ERR_INHERIT_FORBIDDEN: { status: 403, message: 'you may not read an inherited source' },
  ERR_RESOURCE_UNKNOWN: { status: 400, message: 'no external resource with this name is configured' },
  ERR_EXTERNAL_FAILED: { status: 502, message: 'an external source failed' },
  ERR_LDAP_UNAVAILABLE: { status: 502, message: 'the LDAP directory is unavailable; try again later' },
  ERR_SYNC_SOURCE_NOT_FOUND: { status: 404, message: 'no user-sync source with this id' },
  ERR_SYNC_SOURCE_DISABLED: { status: 409, message: 'this user-sync source is disabled' },

  ERR_ESO_KEY_MISSING: { status: 400, message: 'the request names no config: send key= (or remoteKey=)' },
  ERR_ESO_PROPERTY_NOT_FOUND: { status: 404, message: 'the config has no such property' },
  ERR_ESO_ENDPOINT_UNKNOWN: { status: 400, message: 'no such ESO endpoint; use /eso/v1/secret or /eso/v1/push' },

  ERR_KEY_WRONG: { status: 403, message: 'wrong server key' },
  ERR_KEY_ALREADY_INITIALIZED: { status: 409, message: 'the server key is already initialized' },
  ERR_KEY_NOT_INITIALIZED: { status: 409, message: 'the server key has not been initialized' },
  ERR_KEY_ROTATION_FAILED: { status: 500, message: 'key rotation could not finish; unlock or rotate again to resume' },

  ERR_BACKUP_CORRUPT: { status: 400, message: 'the backup archive is damaged or not a pika backup' },
  ERR_BACKUP_PASSWORD: { status: 403, message: 'wrong backup password' },
  ERR_BACKUP_PASSWORD_REQUIRED: { status: 400, message: 'this backup is encrypted; send its password in X-Encryption-Password' },
  ERR_BACKUP_VERSION: { status: 400, message: 'this backup format version is not supported' },
  ERR_BACKUP_TOO_LARGE: { status: 413, message: 'the backup exceeds the archive size limit' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The JSON body of every error response. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  request_id?: string;
  details?: Record<string, unknown>;
}

/** An error with a catalog code; the server's error handler turns it into an {@link ErrorBody}. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message?: string, extra?: { details?: Record<string, unknown>; headers?: Record<string, string> }) {
    super(message ?? ERRORS[code].message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = extra?.details;
    this.headers = extra?.headers;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

export function appError(code: ErrorCode, message?: string, details?: Record<string, unknown>): AppError {
  return new AppError(code, message, details ? { details } : undefined);
}
