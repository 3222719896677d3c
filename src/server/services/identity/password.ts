import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

/**
 * Password hashing with bcrypt (SPEC §6). bcrypt reads only the first 72 bytes of its input, so
 * the password is first reduced to a fixed-length SHA-256 digest (base64, 44 ASCII bytes): long
 * passphrases keep all their entropy and no NUL byte can cut them short (docs/adr/0005).
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  /** Spends one full compare against a fixed hash, so unknown users cost the same time. */
  burn(password: string): Promise<void>;
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_BYTES = 4096;

function prehash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('base64');
}

export function createPasswordHasher(cost = 10): PasswordHasher {
  // Made up front, so even the first unknown-user login costs one compare and no extra hash.
  const dummy = bcrypt.hash('pika-dummy-password', cost);
  dummy.catch(() => undefined); // a failure surfaces at the first burn, not as an unhandled rejection
  return {
    hash: (password) => bcrypt.hash(prehash(password), cost),
    verify: async (password, hash) => hash !== '' && (await bcrypt.compare(prehash(password), hash)),
    async burn(password) {
      await bcrypt.compare(prehash(password), await dummy);
    },
  };
}
