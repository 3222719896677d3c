import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../shared/errors.ts';
import { openMemoryStore } from '../../storage/level-store.ts';
import { totpCode } from './totp.ts';
import { acceptCode, createTotpService } from './totp-service.ts';

const START = Date.parse('2030-01-01T00:00:00Z');
const USER = { id: 'u1', username: 'alice' };

async function setup() {
  const store = await openMemoryStore();
  let now = START;
  const totp = createTotpService({ store, clock: () => now });
  return { store, totp, advance: (ms: number) => (now += ms), now: () => now };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return isAppError(err) ? err.code : String(err);
  }
}

async function enrolled() {
  const s = await setup();
  const { secret_base32: secret } = await s.totp.begin(USER);
  const codes = await s.totp.finish(USER.id, totpCode(secret, s.now()));
  return { ...s, secret, codes };
}

describe('TOTP enrollment', () => {
  it('begins with a pending secret, activates it with a valid code and hands out 10 recovery codes', async () => {
    const { totp, now } = await setup();
    expect(await totp.status(USER.id)).toEqual({ enabled: false, recovery_codes_left: 0, pending_enrollment: false });
    const begun = await totp.begin(USER);
    expect(begun).toMatchObject({ period: 30, digits: 6, algorithm: 'SHA1' });
    expect(begun.secret_base32).toMatch(/^[A-Z2-7]{32}$/);
    expect(begun.otpauth_url).toBe(`otpauth://totp/pika:alice?secret=${begun.secret_base32}&issuer=pika&algorithm=SHA1&digits=6&period=30`);
    expect(await totp.status(USER.id)).toMatchObject({ enabled: false, pending_enrollment: true });
    expect(await codeOf(totp.finish(USER.id, '000000'))).toBe('ERR_TOTP_INVALID');
    const codes = await totp.finish(USER.id, totpCode(begun.secret_base32, now()));
    expect(codes).toHaveLength(10);
    expect(await totp.status(USER.id)).toEqual({ enabled: true, created_at: '2030-01-01T00:00:00.000Z', recovery_codes_left: 10, pending_enrollment: false });
  });

  it('refuses begin and finish once enabled, finish without begin, and a restarted begin replaces the secret', async () => {
    const s = await setup();
    expect(await codeOf(s.totp.finish(USER.id, '123456'))).toBe('ERR_TOTP_NOT_ENROLLED');
    const first = await s.totp.begin(USER);
    const second = await s.totp.begin(USER);
    expect(second.secret_base32).not.toBe(first.secret_base32);
    expect(await codeOf(s.totp.finish(USER.id, totpCode(first.secret_base32, s.now())))).toBe('ERR_TOTP_INVALID');
    await s.totp.finish(USER.id, totpCode(second.secret_base32, s.now()));
    expect(await codeOf(s.totp.begin(USER))).toBe('ERR_TOTP_ENROLLED');
    expect(await codeOf(s.totp.finish(USER.id, totpCode(second.secret_base32, s.now())))).toBe('ERR_TOTP_ENROLLED');
  });

  it('stores the secret and only hashes of the recovery codes', async () => {
    const { store, secret, codes } = await enrolled();
    const stored = new TextDecoder().decode((await store.get('id/totp/u1'))?.value);
    expect(stored).toContain(secret);
    for (const code of codes) expect(stored).not.toContain(code.replace(/-/g, '').slice(0, 8));
  });

  it('regenerates recovery codes (old ones stop working) and removes the enrollment', async () => {
    const { totp, codes } = await enrolled();
    const fresh = await totp.regenerateRecoveryCodes(USER.id);
    const { record } = await totp.read(USER.id);
    expect(acceptCode(USER.id, record!, codes[0]!, START)).toBeUndefined();
    expect(acceptCode(USER.id, record!, fresh[0]!, START)?.accepted).toEqual({ method: 'recovery_code', recoveryCodesLeft: 9 });
    await totp.remove(USER.id);
    expect(await totp.isEnabled(USER.id)).toBe(false);
    expect(await codeOf(totp.remove(USER.id))).toBe('ERR_TOTP_NOT_ENROLLED');
    expect(await codeOf(totp.regenerateRecoveryCodes(USER.id))).toBe('ERR_TOTP_NOT_ENROLLED');
  });
});

describe('acceptCode', () => {
  it('treats the enrolling code as used and moves the replay guard forward', async () => {
    const { totp, secret, advance, now } = await enrolled();
    const { record } = await totp.read(USER.id);
    expect(acceptCode(USER.id, record!, totpCode(secret, now()), now())).toBeUndefined();
    advance(30_000);
    const next = acceptCode(USER.id, record!, totpCode(secret, now()), now());
    expect(next?.accepted.method).toBe('totp');
    expect(next?.next.last_step).toBe(record!.last_step + 1);
    expect(next?.next.last_used_at).toBe(new Date(now()).toISOString());
    expect(acceptCode(USER.id, next!.next, totpCode(secret, now()), now())).toBeUndefined();
    // Spaces as apps display them are fine.
    advance(30_000);
    const code = totpCode(secret, now());
    expect(acceptCode(USER.id, next!.next, `${code.slice(0, 3)} ${code.slice(3)}`, now())).toBeDefined();
  });

  it('strikes out a recovery code when used', async () => {
    const { totp, codes } = await enrolled();
    const { record } = await totp.read(USER.id);
    const used = acceptCode(USER.id, record!, codes[4]!, START);
    expect(used?.accepted).toEqual({ method: 'recovery_code', recoveryCodesLeft: 9 });
    expect(acceptCode(USER.id, used!.next, codes[4]!, START)).toBeUndefined();
    expect(acceptCode(USER.id, used!.next, codes[5]!, START)?.accepted.recoveryCodesLeft).toBe(8);
  });

  it('refuses everything for a record that is not enabled', async () => {
    const { totp, now } = await setup();
    const { secret_base32: secret } = await totp.begin(USER);
    const { record } = await totp.read(USER.id);
    expect(acceptCode(USER.id, record!, totpCode(secret, now()), now())).toBeUndefined();
  });
});
