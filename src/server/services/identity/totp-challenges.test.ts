import { describe, expect, it } from 'vitest';
import { openMemoryStore } from '../../storage/level-store.ts';
import { totpCode } from './totp.ts';
import { CHALLENGE_MAX_FAILURES, CHALLENGE_TTL_MS, createTotpChallenges } from './totp-challenges.ts';
import { createTotpService } from './totp-service.ts';

async function setup() {
  const store = await openMemoryStore();
  let now = Date.parse('2030-01-01T00:00:00Z');
  const clock = () => now;
  const totp = createTotpService({ store, clock });
  const challenges = createTotpChallenges({ store, clock, totp });
  const { secret_base32: secret } = await totp.begin({ id: 'u1', username: 'alice' });
  const codes = await totp.finish('u1', totpCode(secret, now));
  now += 30_000;
  const keys = async () => {
    const out: string[] = [];
    for await (const item of store.iterate('id/totpchallenge/')) out.push(item.key);
    return out;
  };
  return { store, totp, challenges, secret, codes, clock, keys, advance: (ms: number) => (now += ms) };
}

describe('TOTP challenges', () => {
  it('are stored under the SHA-256 of their id, carry session details and are single use', async () => {
    const { challenges, secret, clock, keys } = await setup();
    const { id, expiresInSeconds } = await challenges.create('u1', 'ldap', { roles: ['ops'], subject: 'cn=alice' });
    expect(expiresInSeconds).toBe(300);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await keys()).toEqual([expect.stringMatching(/^id\/totpchallenge\/[0-9a-f]{64}$/)]);
    expect((await keys())[0]).not.toContain(id);
    expect(await challenges.peek(id)).toMatchObject({ user_id: 'u1', strategy: 'ldap', failures: 0 });
    const ok = await challenges.redeem(id, totpCode(secret, clock()));
    expect(ok).toMatchObject({ kind: 'ok', accepted: { method: 'totp' }, challenge: { session: { roles: ['ops'], subject: 'cn=alice' } } });
    expect(await challenges.redeem(id, totpCode(secret, clock()))).toEqual({ kind: 'unknown' });
    expect(await keys()).toEqual([]);
  });

  it('closes after five wrong codes', async () => {
    const { challenges, secret, clock } = await setup();
    const { id } = await challenges.create('u1', 'local');
    for (let i = 1; i <= CHALLENGE_MAX_FAILURES; i++) expect(await challenges.redeem(id, '000000')).toMatchObject({ kind: 'wrong', method: 'totp', attemptsLeft: CHALLENGE_MAX_FAILURES - i });
    expect(await challenges.redeem(id, totpCode(secret, clock()))).toEqual({ kind: 'unknown' });
  });

  it('expire after five minutes and are pruned', async () => {
    const { challenges, advance, keys } = await setup();
    const a = await challenges.create('u1', 'local');
    advance(60_000);
    const b = await challenges.create('u1', 'local');
    advance(CHALLENGE_TTL_MS - 60_000);
    expect(await challenges.peek(a.id)).toBeUndefined();
    expect(await challenges.peek(b.id)).toBeDefined();
    advance(60_000);
    await challenges.create('u1', 'local');
    expect(await challenges.prune()).toBe(1);
    expect(await keys()).toHaveLength(1);
  });

  it('report when two-factor sign-in was turned off meanwhile', async () => {
    const { challenges, totp, secret, clock } = await setup();
    const { id } = await challenges.create('u1', 'local');
    await totp.remove('u1');
    expect(await challenges.redeem(id, totpCode(secret, clock()))).toMatchObject({ kind: 'not_enrolled' });
    expect(await challenges.peek(id)).toBeUndefined();
  });

  it('let only one of two concurrent correct submissions through', async () => {
    const { challenges, codes } = await setup();
    const { id } = await challenges.create('u1', 'local');
    const results = await Promise.all([challenges.redeem(id, codes[0]!), challenges.redeem(id, codes[1]!)]);
    expect(results.map((r) => r.kind).sort()).toEqual(['ok', 'unknown']);
  });

  it('spend a recovery code for good', async () => {
    const { challenges, codes, totp } = await setup();
    const first = await challenges.create('u1', 'local');
    expect(await challenges.redeem(first.id, codes[2]!)).toMatchObject({ kind: 'ok', accepted: { method: 'recovery_code', recoveryCodesLeft: 9 } });
    const second = await challenges.create('u1', 'local');
    expect(await challenges.redeem(second.id, codes[2]!)).toMatchObject({ kind: 'wrong', method: 'recovery_code' });
    expect((await totp.status('u1')).recovery_codes_left).toBe(9);
  });
});
