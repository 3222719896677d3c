import { describe, expect, it } from 'vitest';
import { createAttemptLimiter, retryAfterSeconds } from './attempt-limiter.ts';

function limiter() {
  let now = 0;
  const l = createAttemptLimiter({ clock: () => now, windowMs: 60_000, soft: 2, hard: 5, backoffBaseMs: 1_000, backoffMaxMs: 4_000, maxKeys: 3 });
  return { l, advance: (ms: number) => (now += ms) };
}

describe('attempt limiter', () => {
  it('allows the first soft failures, then backs off exponentially', () => {
    const { l, advance } = limiter();
    l.fail('ip');
    expect(l.check('ip')).toEqual({ allowed: true });
    l.fail('ip');
    expect(l.check('ip')).toEqual({ allowed: false, retryAfterMs: 1_000 });
    advance(1_000);
    expect(l.check('ip')).toEqual({ allowed: true });
    l.fail('ip');
    expect(l.check('ip')).toEqual({ allowed: false, retryAfterMs: 2_000 });
    advance(2_000);
    l.fail('ip');
    expect(l.check('ip')).toEqual({ allowed: false, retryAfterMs: 4_000 });
  });

  it('blocks at the hard limit until the window passes, and forgets old failures', () => {
    const { l, advance } = limiter();
    for (let i = 0; i < 5; i++) {
      l.fail('ip');
      advance(5_000);
    }
    const verdict = l.check('ip');
    expect(verdict.allowed).toBe(false);
    expect(!verdict.allowed && verdict.retryAfterMs).toBe(60_000 - 25_000);
    advance(60_000);
    expect(l.check('ip')).toEqual({ allowed: true });
  });

  it('keeps keys apart, clears on success and bounds its memory', () => {
    const { l } = limiter();
    l.fail('a');
    l.fail('a');
    expect(l.check('b')).toEqual({ allowed: true });
    l.succeed('a');
    expect(l.check('a')).toEqual({ allowed: true });
    for (const k of ['k1', 'k2', 'k3', 'k4']) l.fail(k);
    l.fail('k4');
    expect(l.check('k4').allowed).toBe(false);
  });

  it('formats Retry-After in whole seconds', () => {
    expect(retryAfterSeconds(1)).toBe('1');
    expect(retryAfterSeconds(1_001)).toBe('2');
    expect(retryAfterSeconds(0)).toBe('1');
  });
});
