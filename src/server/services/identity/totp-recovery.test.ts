import { describe, expect, it } from 'vitest';
import { findRecoveryCode, hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from './totp-recovery.ts';

describe('recovery codes', () => {
  it('makes ten distinct xxxx-xxxx-xxxx codes from lower-case base32 letters', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    expect(new Set(codes).size).toBe(10);
  });

  it('ignores case, spaces and dashes when a code is typed back, and rejects other shapes', () => {
    expect(normalizeRecoveryCode(' ABCD-efgh 2345 ')).toBe('abcdefgh2345');
    expect(normalizeRecoveryCode('abcd-efgh-234')).toBeUndefined();
    expect(normalizeRecoveryCode('abcd-efgh-2340')).toBeUndefined();
  });

  it('hashes with SHA-256 salted by the user, never storing the code', () => {
    const hash = hashRecoveryCode('user-1', 'abcd-efgh-2345');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain('abcd');
    expect(hashRecoveryCode('user-1', 'ABCDEFGH2345')).toBe(hash);
    expect(hashRecoveryCode('user-2', 'abcd-efgh-2345')).not.toBe(hash);
  });

  it('finds which stored hash a typed code matches, only for the right user', () => {
    const codes = newRecoveryCodes();
    const hashes = codes.map((c) => hashRecoveryCode('u', c));
    expect(findRecoveryCode('u', hashes, codes[3]!)).toBe(3);
    expect(findRecoveryCode('u', hashes, codes[9]!.toUpperCase())).toBe(9);
    expect(findRecoveryCode('other', hashes, codes[3]!)).toBe(-1);
    expect(findRecoveryCode('u', hashes, '123456')).toBe(-1);
    expect(findRecoveryCode('u', [], codes[0]!)).toBe(-1);
  });
});
