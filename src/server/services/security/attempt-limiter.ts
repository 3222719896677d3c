/**
 * Failed-attempt limiting for secrets typed by people (the server key now, passwords later):
 * after `soft` failures inside the window each further attempt must wait an exponentially growing
 * delay; after `hard` failures the key is blocked until the window has passed. A success clears
 * the key's history. State is in memory, per process.
 */
export interface AttemptLimiterOptions {
  readonly clock: () => number;
  readonly windowMs: number;
  readonly soft: number;
  readonly hard: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Bound on tracked keys, so a flood of addresses cannot grow memory without limit. */
  readonly maxKeys?: number;
}

export type AttemptVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

export type AttemptLimiter = ReturnType<typeof createAttemptLimiter>;

export function createAttemptLimiter(options: AttemptLimiterOptions) {
  const failures = new Map<string, number[]>();
  const maxKeys = options.maxKeys ?? 50_000;

  function recent(key: string): number[] {
    const now = options.clock();
    const list = (failures.get(key) ?? []).filter((t) => t > now - options.windowMs);
    if (list.length === 0) failures.delete(key);
    else failures.set(key, list);
    return list;
  }

  function check(key: string): AttemptVerdict {
    const list = recent(key);
    const now = options.clock();
    const first = list[0];
    if (first !== undefined && list.length >= options.hard) return { allowed: false, retryAfterMs: first + options.windowMs - now };
    const last = list[list.length - 1];
    if (last === undefined || list.length < options.soft) return { allowed: true };
    const delay = Math.min(options.backoffBaseMs * 2 ** (list.length - options.soft), options.backoffMaxMs);
    return last + delay > now ? { allowed: false, retryAfterMs: last + delay - now } : { allowed: true };
  }

  function fail(key: string): void {
    if (!failures.has(key) && failures.size >= maxKeys) failures.delete(failures.keys().next().value ?? '');
    failures.set(key, [...recent(key), options.clock()]);
  }

  function succeed(key: string): void {
    failures.delete(key);
  }

  return { check, fail, succeed };
}

/** `Retry-After` is whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
