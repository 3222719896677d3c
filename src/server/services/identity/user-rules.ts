// The pure rules of user records: what a valid username and password are, and how a patch applies.
import { AppError } from '../../../shared/errors.ts';
import type { UserRecord } from './identity-records.ts';
import { MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH } from './password.ts';

/** A change to a user; undefined fields stay as they are. */
export interface UserPatch {
  username?: string | undefined;
  password?: string | undefined;
  email?: string | undefined;
  display_name?: string | undefined;
  disabled?: boolean | undefined;
  is_superadmin?: boolean | undefined;
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function validateUsername(username: string): void {
  if (!USERNAME.test(username)) throw new AppError('ERR_VALIDATION', 'username: 1-64 characters of letters, digits, . _ @ -, starting with a letter or digit');
}

export function validatePassword(password: string): void {
  if (Array.from(password).length < MIN_PASSWORD_LENGTH) throw new AppError('ERR_PASSWORD_WEAK', `the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new AppError('ERR_VALIDATION', 'password: too long');
}

/** Applies a patch in place; '' clears an optional text field. */
export function applyPatch(user: UserRecord, patch: UserPatch, passwordHash: string | undefined): void {
  if (patch.username !== undefined) user.username = patch.username;
  if (passwordHash !== undefined) user.password_hash = passwordHash;
  if (patch.email !== undefined) user.email = patch.email === '' ? undefined : patch.email;
  if (patch.display_name !== undefined) user.display_name = patch.display_name === '' ? undefined : patch.display_name;
  if (patch.disabled !== undefined) user.disabled = patch.disabled;
  if (patch.is_superadmin !== undefined) user.is_superadmin = patch.is_superadmin;
}
