import type { WorkQueue } from './work-queue.ts';

/**
 * Runs reconcilers over a work queue (style §4.2.8, controller-runtime's shape):
 * - workers take keys, never event payloads: `reconcile(key)` reads current state itself;
 * - success forgets the key's backoff and, when asked, requeues it after `requeueAfterMs`
 *   (± jitter, so a fleet of objects does not refresh in lockstep);
 * - a thrown error retries with per-key exponential backoff;
 * - a `TerminalError` (an invalid spec, say) is reported once and not retried — the reconciler
 *   sets a condition saying why, and the next change to the object brings it back.
 */
export class TerminalError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'TerminalError';
    this.reason = reason;
  }
}

export interface ReconcileResult {
  readonly requeueAfterMs?: number | undefined;
}

export type Outcome = 'success' | 'requeue' | 'error' | 'terminal';

export interface ControllerOptions {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly reconcile: (key: string) => Promise<ReconcileResult | undefined>;
  readonly workers?: number;
  /** Relative spread applied to requeueAfterMs (0.1 = ±10%). */
  readonly jitter?: number;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly onOutcome?: (event: { key: string; outcome: Outcome; durationMs: number; error?: unknown; retryInMs?: number }) => void;
}

export type Controller = ReturnType<typeof createController>;

export function createController(options: ControllerOptions) {
  const { queue } = options;
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => performance.now());
  const jitter = options.jitter ?? 0.1;
  let loops: Promise<void>[] = [];

  async function processOne(key: string): Promise<void> {
    const started = now();
    const report = (outcome: Outcome, extra: { error?: unknown; retryInMs?: number } = {}) => options.onOutcome?.({ key, outcome, durationMs: now() - started, ...extra });
    try {
      const result = await options.reconcile(key);
      queue.forget(key);
      const after = result?.requeueAfterMs;
      if (after !== undefined && after > 0) {
        // A periodic re-check is background work: it never delays a change.
        queue.addAfter(key, Math.round(after * (1 + jitter * (2 * random() - 1))), 'low');
        report('requeue');
      } else report('success');
    } catch (error) {
      if (error instanceof TerminalError) {
        queue.forget(key);
        report('terminal', { error });
      } else report('error', { error, retryInMs: queue.addRateLimited(key) });
    } finally {
      queue.done(key);
    }
  }

  async function worker(): Promise<void> {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) await processOne(key);
  }

  return {
    start(): void {
      loops = Array.from({ length: options.workers ?? 2 }, () => worker());
    },
    /** Stops taking work and waits for the keys in flight to finish. */
    async stop(): Promise<void> {
      queue.shutDown();
      await Promise.all(loops);
    },
  };
}
