import type { AuthSettings } from '../settings/auth-section.ts';
import type { SettingsService } from '../settings/settings-service.ts';
import { type AttemptLimiter, type AttemptVerdict, createAttemptLimiter } from './attempt-limiter.ts';

/**
 * Login rate limiting (upstream-pika.md §8.6): failed sign-ins are counted per client address and
 * per username (case-insensitive). Past the soft limit each further try must wait an
 * exponentially growing delay; at the hard limit the key is blocked for the rest of the window.
 * Only failures count, and a full sign-in clears both keys' history.
 *
 * The limits are the `auth.rate_limit` settings, read on every attempt so a change applies
 * without a restart. Changed values rebuild the limiters (comparing a fingerprint is cheap); that
 * forgets the failures counted so far, which is acceptable for a setting only admins change.
 * State is in memory, per replica, like upstream: in a cluster an attacker spreading guesses over
 * N replicas gets N times the budget, still bounded.
 */
export type RateLimitSettings = AuthSettings['rate_limit'];

export type GuardVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number; readonly scope: 'ip' | 'user' };

/** One sign-in attempt, bound to the limits in force when it started. */
export interface LoginAttempt {
  readonly verdict: GuardVerdict;
  /** Counts a wrong password or code against the address and the user. */
  fail(): void;
  /** A completed sign-in: forgets the failures of the address and the user. */
  succeed(): void;
}

export type LoginGuard = ReturnType<typeof createLoginGuard>;

interface Limiters {
  readonly ip: AttemptLimiter;
  readonly user: AttemptLimiter;
}

const ALLOWED: GuardVerdict = { allowed: true };
const NO_LIMITS: LoginAttempt = { verdict: ALLOWED, fail: () => undefined, succeed: () => undefined };

export function buildLimiters(limits: RateLimitSettings, clock: () => number, maxKeys?: number): Limiters {
  const common = { clock, windowMs: limits.window_minutes * 60_000, backoffBaseMs: limits.backoff_min_ms, backoffMaxMs: limits.backoff_max_ms, maxKeys };
  return {
    ip: createAttemptLimiter({ ...common, soft: limits.ip_soft, hard: limits.ip_hard }),
    user: createAttemptLimiter({ ...common, soft: limits.user_soft, hard: limits.user_hard }),
  };
}

/** The stricter of two verdicts: the longer wait wins. */
function combine(ip: AttemptVerdict, user: AttemptVerdict): GuardVerdict {
  const ipWait = ip.allowed ? 0 : ip.retryAfterMs;
  const userWait = user.allowed ? 0 : user.retryAfterMs;
  if (ipWait === 0 && userWait === 0) return ALLOWED;
  return ipWait >= userWait ? { allowed: false, retryAfterMs: ipWait, scope: 'ip' } : { allowed: false, retryAfterMs: userWait, scope: 'user' };
}

export function createLoginGuard(deps: { readonly clock: () => number; readonly settings: Pick<SettingsService, 'auth'>; readonly maxKeys?: number }) {
  let fingerprint = '';
  let limiters: Limiters | undefined;

  async function current(): Promise<Limiters | undefined> {
    const limits = (await deps.settings.auth()).rate_limit;
    if (!limits.enabled) return undefined;
    const print = JSON.stringify(limits);
    if (print !== fingerprint || !limiters) {
      limiters = buildLimiters(limits, deps.clock, deps.maxKeys);
      fingerprint = print;
    }
    return limiters;
  }

  /**
   * Starts an attempt from `ip`, for `username` when it is known (an unknown challenge in the
   * code phase has none). Check `verdict` before doing any work; then report the outcome.
   */
  async function attempt(ip: string, username?: string): Promise<LoginAttempt> {
    const active = await current();
    if (!active) return NO_LIMITS;
    const ipKey = `ip:${ip}`;
    const userKey = username === undefined ? undefined : `user:${username.toLowerCase()}`;
    const verdict = combine(active.ip.check(ipKey), userKey === undefined ? ALLOWED : active.user.check(userKey));
    return {
      verdict,
      fail() {
        active.ip.fail(ipKey);
        if (userKey !== undefined) active.user.fail(userKey);
      },
      succeed() {
        active.ip.succeed(ipKey);
        if (userKey !== undefined) active.user.succeed(userKey);
      },
    };
  }

  return { attempt };
}
