import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, matchTotp, otpauthUrl, totpCode, totpStep } from './totp.ts';

const RFC_SECRET = Buffer.from('12345678901234567890');
const RFC_SECRET_B32 = base32Encode(RFC_SECRET);

describe('base32 (RFC 4648 §10, without padding)', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('encodes %j as %j and back', (plain, encoded) => {
    expect(base32Encode(Buffer.from(plain))).toBe(encoded);
    expect(Buffer.from(base32Decode(encoded) ?? []).toString()).toBe(plain);
  });

  it('round-trips random 20-byte secrets and tolerates case, spaces and padding', () => {
    for (let i = 0; i < 50; i++) {
      const bytes = new Uint8Array(20).map(() => Math.floor(Math.random() * 256));
      const text = base32Encode(bytes);
      expect(text).toMatch(/^[A-Z2-7]{32}$/);
      expect(base32Decode(text)).toEqual(bytes);
    }
    expect(base32Decode('mzxw 6ytb oi======')).toEqual(new Uint8Array(Buffer.from('foobar')));
    expect(base32Decode('MZXW1')).toBeUndefined();
  });
});

describe('HOTP (RFC 4226 appendix D)', () => {
  it('produces the published 6-digit values for counters 0–9', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_, counter) => hotp(RFC_SECRET, counter))).toEqual(expected);
  });
});

describe('TOTP (RFC 6238 appendix B, SHA-1)', () => {
  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('T=%i gives %s (8 digits)', (seconds, code) => {
    expect(totpCode(RFC_SECRET_B32, seconds * 1000, 8)).toBe(code);
  });

  it('uses 30-second steps', () => {
    expect(totpStep(59_999)).toBe(1);
    expect(totpStep(60_000)).toBe(2);
  });
});

describe('matchTotp', () => {
  const now = 1_900_000_000_000;
  const step = totpStep(now);
  const codeAt = (s: number) => hotp(RFC_SECRET, s);

  it('accepts the current step and one step either side, and returns the step matched', () => {
    expect(matchTotp(RFC_SECRET_B32, codeAt(step), now, 0)).toBe(step);
    expect(matchTotp(RFC_SECRET_B32, codeAt(step - 1), now, 0)).toBe(step - 1);
    expect(matchTotp(RFC_SECRET_B32, codeAt(step + 1), now, 0)).toBe(step + 1);
  });

  it('refuses codes two steps away, malformed codes and a bad secret', () => {
    expect(matchTotp(RFC_SECRET_B32, codeAt(step - 2), now, 0)).toBeUndefined();
    expect(matchTotp(RFC_SECRET_B32, codeAt(step + 2), now, 0)).toBeUndefined();
    expect(matchTotp(RFC_SECRET_B32, `${codeAt(step)}0`, now, 0)).toBeUndefined();
    expect(matchTotp(RFC_SECRET_B32, 'abcdef', now, 0)).toBeUndefined();
    expect(matchTotp('not base32!', codeAt(step), now, 0)).toBeUndefined();
  });

  it('refuses a code for the last accepted step or an older one (replay guard)', () => {
    expect(matchTotp(RFC_SECRET_B32, codeAt(step), now, step)).toBeUndefined();
    expect(matchTotp(RFC_SECRET_B32, codeAt(step - 1), now, step - 1)).toBeUndefined();
    // After the next step was used, the still-in-window previous code is refused too.
    expect(matchTotp(RFC_SECRET_B32, codeAt(step), now, step + 1)).toBeUndefined();
    expect(matchTotp(RFC_SECRET_B32, codeAt(step + 1), now, step)).toBe(step + 1);
  });
});

describe('otpauthUrl', () => {
  it('names issuer, account and every parameter an authenticator app needs', () => {
    expect(otpauthUrl('alice@example', 'ABC234')).toBe('otpauth://totp/pika:alice%40example?secret=ABC234&issuer=pika&algorithm=SHA1&digits=6&period=30');
  });
});
