import { describe, expect, it } from 'vitest';
import { AUTH_DEFAULTS, type AuthSettings } from '../settings/auth-section.ts';
import { createLoginGuard, type RateLimitSettings } from './login-guard.ts';

function setup(overrides: Partial<RateLimitSettings> = {}) {
  let now = 0;
  let limits: RateLimitSettings = { ...AUTH_DEFAULTS.rate_limit, ...overrides };
  const settings = { auth: async () => ({ ...AUTH_DEFAULTS, rate_limit: limits }) as unknown as AuthSettings };
  const guard = createLoginGuard({ clock: () => now, settings });
  return {
    guard,
    advance: (ms: number) => (now += ms),
    set: (next: Partial<RateLimitSettings>) => (limits = { ...limits, ...next }),
    fail: async (ip: string, user?: string) => {
      (await guard.attempt(ip, user)).fail();
    },
    verdict: async (ip: string, user?: string) => (await guard.attempt(ip, user)).verdict,
  };
}

describe('login guard', () => {
  it('backs off exponentially past the soft limit, capped at backoff_max_ms (defaults 3 / 1 s / 15 s)', async () => {
    const g = setup({ ip_hard: 100, user_hard: 100 });
    for (let i = 0; i < 2; i++) await g.fail('1.1.1.1', 'alice');
    expect(await g.verdict('1.1.1.1', 'alice')).toEqual({ allowed: true });
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      await g.fail('1.1.1.1', 'alice');
      const v = await g.verdict('1.1.1.1', 'alice');
      waits.push(v.allowed ? 0 : v.retryAfterMs);
      g.advance(waits[i]!);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
  });

  it('blocks at the hard limit for the rest of the window', async () => {
    const g = setup({ ip_soft: 100, ip_hard: 4, user_soft: 100, user_hard: 100, window_minutes: 10 });
    for (let i = 0; i < 4; i++) {
      await g.fail('1.1.1.1', `user${i}`);
      g.advance(1_000);
    }
    expect(await g.verdict('1.1.1.1', 'someone-else')).toEqual({ allowed: false, retryAfterMs: 600_000 - 4_000, scope: 'ip' });
    expect(await g.verdict('2.2.2.2', 'user0')).toEqual({ allowed: true });
    g.advance(600_000);
    expect(await g.verdict('1.1.1.1')).toEqual({ allowed: true });
  });

  it('counts a username case-insensitively across addresses, without touching other users', async () => {
    const g = setup({ ip_soft: 100, ip_hard: 100, user_soft: 2, user_hard: 3 });
    await g.fail('10.0.0.1', 'Alice');
    await g.fail('10.0.0.2', 'ALICE');
    await g.fail('10.0.0.3', 'alice');
    expect(await g.verdict('10.0.0.9', 'aLiCe')).toMatchObject({ allowed: false, scope: 'user' });
    expect(await g.verdict('10.0.0.9', 'bob')).toEqual({ allowed: true });
  });

  it('forgets the address and the user on success', async () => {
    const g = setup({ ip_soft: 1, user_soft: 1 });
    await g.fail('1.1.1.1', 'alice');
    expect((await g.verdict('1.1.1.1', 'alice')).allowed).toBe(false);
    g.advance(1_000);
    (await g.guard.attempt('1.1.1.1', 'alice')).succeed();
    expect(await g.verdict('1.1.1.1', 'alice')).toEqual({ allowed: true });
  });

  it('follows settings changes without a restart, and does nothing when disabled', async () => {
    const g = setup({ ip_soft: 100, ip_hard: 2 });
    await g.fail('1.1.1.1');
    await g.fail('1.1.1.1');
    expect((await g.verdict('1.1.1.1')).allowed).toBe(false);
    g.set({ enabled: false });
    expect(await g.verdict('1.1.1.1')).toEqual({ allowed: true });
    for (let i = 0; i < 10; i++) await g.fail('1.1.1.1');
    g.set({ enabled: true, ip_hard: 1 });
    // New limits start counting afresh.
    expect(await g.verdict('1.1.1.1')).toEqual({ allowed: true });
    await g.fail('1.1.1.1');
    expect(await g.verdict('1.1.1.1')).toMatchObject({ allowed: false, scope: 'ip' });
  });
});
