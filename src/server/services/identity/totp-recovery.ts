import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Recovery codes for two-factor sign-in (upstream-pika.md §8.7): ten single-use codes shaped
 * `xxxx-xxxx-xxxx`, shown once, stored only as hashes.
 *
 * Why SHA-256 and not bcrypt: a slow hash exists to protect secrets people choose, which are
 * guessable. These are 12 characters from a 32-letter alphabet drawn from the CSPRNG — 60 random
 * bits — so a stolen database still leaves ~2^56 SHA-256 evaluations per code on average, and a
 * code is worthless without the account's password anyway. The user id is mixed in so equal
 * codes of two users hash differently and no table is shared between accounts. A fast hash also
 * lets a sign-in compare against all ten without ten bcrypt runs.
 */
export const RECOVERY_CODE_COUNT = 10;

// Lower-case RFC 4648 base32 letters: no 0/1/8/9, so nothing reads as o/l/b/g.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const GROUPS = 3;
const GROUP_LENGTH = 4;

export function newRecoveryCode(): string {
  // 256 is a multiple of 32, so masking a random byte picks every letter with equal probability.
  const letters = Array.from(randomBytes(GROUPS * GROUP_LENGTH), (byte) => ALPHABET[byte & 31] ?? '');
  const groups: string[] = [];
  for (let i = 0; i < GROUPS; i++) groups.push(letters.slice(i * GROUP_LENGTH, (i + 1) * GROUP_LENGTH).join(''));
  return groups.join('-');
}

export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, newRecoveryCode);
}

/** The canonical form: case, spaces and dashes do not matter when typing a code back in. */
export function normalizeRecoveryCode(code: string): string | undefined {
  const clean = code.toLowerCase().replace(/[\s-]/g, '');
  return new RegExp(`^[${ALPHABET}]{${GROUPS * GROUP_LENGTH}}$`).test(clean) ? clean : undefined;
}

export function hashRecoveryCode(userId: string, code: string): string {
  const canonical = normalizeRecoveryCode(code) ?? code;
  return createHash('sha256').update(`pika-recovery-code\x00${userId}\x00${canonical}`).digest('hex');
}

/**
 * The index of the stored hash a typed code matches, or -1. Every stored hash is compared (in
 * constant time), so timing does not reveal how many codes are left or which one came close.
 */
export function findRecoveryCode(userId: string, hashes: readonly string[], code: string): number {
  if (normalizeRecoveryCode(code) === undefined) return -1;
  const given = Buffer.from(hashRecoveryCode(userId, code), 'hex');
  let found = -1;
  hashes.forEach((hash, index) => {
    const stored = Buffer.from(hash, 'hex');
    if (stored.length === given.length && timingSafeEqual(stored, given) && found < 0) found = index;
  });
  return found;
}
