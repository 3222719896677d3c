import { AppError } from '../../../shared/errors.ts';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import { isStoreConflict, type Store } from '../../storage/store.ts';
import { nowIso, type UserRecord } from './identity-records.ts';
import { matchTotp, newTotpSecret, otpauthUrl, TOTP_DIGITS, TOTP_PERIOD_SECONDS } from './totp.ts';
import { findRecoveryCode, hashRecoveryCode, newRecoveryCodes } from './totp-recovery.ts';

/**
 * The stored TOTP state of one user (`id/totp/<userId>`). The secret is kept in plaintext on
 * purpose: sign-in must work while the server is locked (SPEC §7.3), when nothing sealed with the
 * server key can be read. Recovery codes are hashes (totp-recovery.ts).
 */
export interface TotpRecord {
  /** Base32 secret of the active enrollment; '' while only an enrollment is pending. */
  secret: string;
  enabled: boolean;
  /** Secret shown by `begin`, waiting for a first valid code (`finish`). */
  pending_secret?: string | undefined;
  recovery_codes: string[];
  created_at?: string | undefined;
  last_used_at?: string | undefined;
  /** Replay guard: the last time step accepted; codes for this step or older are refused. */
  last_step: number;
}

export interface TotpStatus {
  enabled: boolean;
  created_at?: string | undefined;
  last_used_at?: string | undefined;
  recovery_codes_left: number;
  pending_enrollment: boolean;
}

export interface TotpEnrollment {
  secret_base32: string;
  otpauth_url: string;
  period: number;
  digits: number;
  algorithm: 'SHA1';
}

export type CodeMethod = 'totp' | 'recovery_code';

/** An accepted second factor: which kind matched and how many recovery codes remain. */
export interface AcceptedCode {
  readonly method: CodeMethod;
  readonly recoveryCodesLeft: number;
}

export type TotpService = ReturnType<typeof createTotpService>;

/** Apps show codes as `123 456`; spaces never matter. Six digits is a TOTP code, anything else a recovery code. */
const compact = (code: string) => code.replace(/\s/g, '');
export const codeMethod = (code: string): CodeMethod => (/^\d{6}$/.test(compact(code)) ? 'totp' : 'recovery_code');

/**
 * Checks a code against an enabled record and returns the record as it must be stored if the
 * code is accepted (replay guard moved on, or the recovery code struck out); undefined if not.
 * Pure, so a caller can write the result together with other changes in one conditional batch.
 */
export function acceptCode(userId: string, record: TotpRecord, code: string, now: number): { next: TotpRecord; accepted: AcceptedCode } | undefined {
  const method = codeMethod(code);
  if (!record.enabled) return undefined;
  const usedAt = new Date(now).toISOString();
  if (method === 'totp') {
    const step = matchTotp(record.secret, compact(code), now, record.last_step);
    if (step === undefined) return undefined;
    return { next: { ...record, last_step: step, last_used_at: usedAt }, accepted: { method, recoveryCodesLeft: record.recovery_codes.length } };
  }
  const index = findRecoveryCode(userId, record.recovery_codes, code);
  if (index < 0) return undefined;
  const recovery_codes = record.recovery_codes.filter((_, i) => i !== index);
  return { next: { ...record, recovery_codes, last_used_at: usedAt }, accepted: { method, recoveryCodesLeft: recovery_codes.length } };
}

/** TOTP enrollment and management (upstream-pika.md §1.15, §8.7); the login side is totp-challenges.ts. */
export function createTotpService(deps: { readonly store: Pick<Store, 'get' | 'batch'>; readonly clock: () => number }) {
  const { store, clock } = deps;

  async function read(userId: string): Promise<{ record: TotpRecord | undefined; revision: number }> {
    const entry = await store.get(identityKeys.totp(userId));
    return { record: entry ? decodeJson<TotpRecord>(entry.value) : undefined, revision: entry?.revision ?? 0 };
  }

  /**
   * Read-modify-write with compare-on-revision, so two replicas (or two tabs) cannot both spend
   * the same recovery code or finish two enrollments; a lost race re-reads and re-decides.
   */
  async function update<T>(userId: string, change: (record: TotpRecord | undefined) => { next: TotpRecord | null; result: T }): Promise<T> {
    for (let tries = 0; ; tries++) {
      const { record, revision } = await read(userId);
      const { next, result } = change(record);
      const key = identityKeys.totp(userId);
      try {
        await store.batch([next === null ? { type: 'del', key } : { type: 'put', key, value: encodeJson(next) }], [{ key, revision }]);
        return result;
      } catch (err) {
        if (!isStoreConflict(err) || tries >= 5) throw err;
      }
    }
  }

  async function status(userId: string): Promise<TotpStatus> {
    const { record } = await read(userId);
    if (!record) return { enabled: false, recovery_codes_left: 0, pending_enrollment: false };
    return {
      enabled: record.enabled,
      created_at: record.enabled ? record.created_at : undefined,
      last_used_at: record.enabled ? record.last_used_at : undefined,
      recovery_codes_left: record.enabled ? record.recovery_codes.length : 0,
      pending_enrollment: record.pending_secret !== undefined,
    };
  }

  async function isEnabled(userId: string): Promise<boolean> {
    return (await read(userId)).record?.enabled === true;
  }

  /** Starts (or restarts) an enrollment: a new secret that becomes active once `finish` sees a code from it. */
  async function begin(user: Pick<UserRecord, 'id' | 'username'>): Promise<TotpEnrollment> {
    const secret = newTotpSecret();
    await update(user.id, (record) => {
      if (record?.enabled) throw new AppError('ERR_TOTP_ENROLLED');
      return { next: { secret: '', enabled: false, recovery_codes: [], last_step: 0, pending_secret: secret }, result: undefined };
    });
    return { secret_base32: secret, otpauth_url: otpauthUrl(user.username, secret), period: TOTP_PERIOD_SECONDS, digits: TOTP_DIGITS, algorithm: 'SHA1' };
  }

  /** Activates the pending secret when `code` is valid for it; returns the recovery codes (shown once). */
  async function finish(userId: string, code: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    const now = clock();
    return update(userId, (record) => {
      if (record?.enabled) throw new AppError('ERR_TOTP_ENROLLED');
      if (record?.pending_secret === undefined) throw new AppError('ERR_TOTP_NOT_ENROLLED', 'no enrollment in progress; start one with POST /api/v1/me/totp/begin');
      // The enrolling code already counts as used: it cannot be replayed to sign in.
      const step = matchTotp(record.pending_secret, compact(code), now, 0);
      if (step === undefined) throw new AppError('ERR_TOTP_INVALID', 'the code does not match; check the time on your device and enter the current code');
      const next: TotpRecord = { secret: record.pending_secret, enabled: true, recovery_codes: codes.map((c) => hashRecoveryCode(userId, c)), created_at: nowIso(clock), last_step: step };
      return { next, result: codes };
    });
  }

  /** Removes the enrollment (self-service disable, admin reset); refuses when there is nothing to remove. */
  async function remove(userId: string): Promise<void> {
    await update(userId, (record) => {
      if (!record) throw new AppError('ERR_TOTP_NOT_ENROLLED');
      return { next: null, result: undefined };
    });
  }

  /** New recovery codes; the old ones stop working. */
  async function regenerateRecoveryCodes(userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    return update(userId, (record) => {
      if (!record?.enabled) throw new AppError('ERR_TOTP_NOT_ENROLLED');
      return { next: { ...record, recovery_codes: codes.map((c) => hashRecoveryCode(userId, c)) }, result: codes };
    });
  }

  return { read, status, isEnabled, begin, finish, remove, regenerateRecoveryCodes };
}
