import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * RFC 6238 time-based one-time passwords (upstream-pika.md §8.7): HMAC-SHA1, 30-second steps,
 * 6 digits — what every authenticator app assumes when the otpauth URL names them. Written out
 * here (it is short) rather than pulled in as a dependency, and checked against the RFC's
 * Appendix B vectors in totp.test.ts.
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Codes one step early or late are accepted: phone clocks drift and people type slowly. */
export const TOTP_SKEW_STEPS = 1;
export const TOTP_SECRET_BYTES = 20;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (authenticator apps accept and most expect it that way). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32.charAt((buffer >>> (bits - 5)) & 31);
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32.charAt((buffer << (5 - bits)) & 31);
  return out;
}

/** Decodes base32, ignoring case, spaces and `=` padding; undefined for anything else. */
export function base32Decode(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = BASE32.indexOf(char);
    if (value < 0) return undefined;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}

export function newTotpSecret(): string {
  return base32Encode(randomBytes(TOTP_SECRET_BYTES));
}

/** The time step a moment falls in. */
export function totpStep(timeMs: number): number {
  return Math.floor(timeMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** RFC 4226 HOTP with dynamic truncation; `digits` is 8 only for the RFC test vectors. */
export function hotp(secret: Uint8Array, counter: number, digits = TOTP_DIGITS): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** digits).toString().padStart(digits, '0');
}

/** The code for the step containing `timeMs`. */
export function totpCode(secretBase32: string, timeMs: number, digits = TOTP_DIGITS): string {
  const secret = base32Decode(secretBase32);
  if (!secret) throw new Error('the TOTP secret is not base32');
  return hotp(secret, totpStep(timeMs), digits);
}

/**
 * The step a code belongs to when it is valid at `timeMs` (±{@link TOTP_SKEW_STEPS}) and newer
 * than `lastStep`; undefined otherwise. Every candidate step is compared in constant time, so the
 * answer's timing does not tell which step (if any) came close.
 */
export function matchTotp(secretBase32: string, code: string, timeMs: number, lastStep: number): number | undefined {
  const secret = base32Decode(secretBase32);
  if (!secret || !/^\d{6}$/.test(code)) return undefined;
  const given = Buffer.from(code);
  const now = totpStep(timeMs);
  let matched: number | undefined;
  for (let step = now - TOTP_SKEW_STEPS; step <= now + TOTP_SKEW_STEPS; step++) {
    const equal = timingSafeEqual(Buffer.from(hotp(secret, step)), given);
    if (equal && matched === undefined) matched = step;
  }
  // Replay guard: a code for a step at or before the last accepted one was already used (or is
  // older than one that was), even if it would still be inside the skew window.
  return matched !== undefined && matched > lastStep ? matched : undefined;
}

/** The URL authenticator apps scan as a QR code (Key Uri Format). */
export function otpauthUrl(username: string, secretBase32: string): string {
  const label = `pika:${encodeURIComponent(username)}`;
  return `otpauth://totp/${label}?secret=${secretBase32}&issuer=pika&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_SECONDS}`;
}
