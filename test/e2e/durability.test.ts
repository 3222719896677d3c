import { afterEach, describe, expect, it } from 'vitest';
import { login, register, type Session } from './support/http.ts';
import { freePort, makeTempDir, runPika, startPika, stopAllPika, type PikaProcess } from './support/server-process.ts';

/**
 * "An acknowledged write survives kill -9": concurrent writers save new versions over real HTTP,
 * the server is SIGKILLed while requests are in flight, and after a restart on the same data dir
 * every acknowledged version is there with exactly the acknowledged bytes, with no gaps.
 */

const WRITERS = 4;
const PATHS = ['durable/alpha', 'durable/beta', 'durable/nested/gamma'];
/** Kill once this many saves of the round were acknowledged (no timer decides when). */
const ACKS_PER_ROUND = 250;
const ROUND_DEADLINE_MS = 30_000;

interface Ack {
  readonly path: string;
  readonly version: number;
  readonly content: string;
}

interface Ledger {
  readonly acks: Ack[];
  /** Every content ever sent per path: a stored but unacknowledged version must be one of these. */
  readonly attempted: Map<string, Set<string>>;
}

interface RoundResult {
  readonly acked: number;
  readonly inFlightAtKill: number;
}

afterEach(stopAllPika);

/**
 * Runs WRITERS loops against `proc` and SIGKILLs it from inside the handler of the ACKS_PER_ROUND-th
 * acknowledgement, while the other writers still wait for their replies.
 */
async function writeUntilKilled(proc: PikaProcess, session: Session, ledger: Ledger, round: number): Promise<RoundResult> {
  let killed = false;
  // A function, not the variable: the writers' awaits let kill() flip it behind the type checker's back.
  const isKilled = () => killed;
  let inFlight = 0;
  let inFlightAtKill = -1;
  let ackedThisRound = 0;
  let onKilled: () => void = () => undefined;
  const killedSignal = new Promise<void>((resolve) => { onKilled = resolve; });

  const kill = () => {
    killed = true;
    inFlightAtKill = inFlight;
    void proc.stop('SIGKILL');
    onKilled();
  };

  async function writer(id: number): Promise<void> {
    for (let seq = 0; !isKilled(); seq++) {
      const path = PATHS[(id + seq) % PATHS.length] ?? '';
      const content = `${JSON.stringify({ round, writer: id, seq, note: 'durability '.repeat(8) })}\n`;
      ledger.attempted.get(path)?.add(content);
      inFlight++;
      let reply;
      try {
        reply = await session.trySave(path, { format: 'json', content }, { signal: AbortSignal.timeout(15_000) });
      } catch (err) {
        inFlight--;
        if (isKilled()) return; // the connection died with the server: not acknowledged, nothing to check
        throw err;
      }
      inFlight--;
      // A 201 that arrives after the kill was still acknowledged by the server: it counts.
      if (reply.status === 201) {
        ledger.acks.push({ path, version: reply.json<{ version: number }>().version, content });
        ackedThisRound++;
        if (!isKilled() && ackedThisRound >= ACKS_PER_ROUND) kill();
      } else if (!isKilled()) {
        throw new Error(`writer ${id}: save ${path} answered ${reply.status}: ${reply.text()}`);
      }
    }
  }

  const writers = Promise.all(Array.from({ length: WRITERS }, (_, id) => writer(id)));
  let deadlineTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => { deadlineTimer = setTimeout(() => { resolve('deadline'); }, ROUND_DEADLINE_MS); });
  let outcome: 'killed' | 'deadline' | 'writers-ended';
  try {
    // A writer that fails early ends the race too, with its error.
    outcome = await Promise.race([killedSignal.then(() => 'killed' as const), deadline, writers.then(() => 'writers-ended' as const)]);
  } finally {
    clearTimeout(deadlineTimer);
    if (!isKilled()) kill(); // whatever happened, the other writers stop with the server
  }
  await writers;
  expect(outcome, `only ${ackedThisRound} acknowledged saves within ${ROUND_DEADLINE_MS} ms`).toBe('killed');
  const exit = await proc.exited;
  expect(exit.signal).toBe('SIGKILL');
  return { acked: ackedThisRound, inFlightAtKill };
}

/** Every acknowledged version exists with the acknowledged bytes; histories have no gaps. */
async function verifyLedger(session: Session, ledger: Ledger): Promise<Map<string, number>> {
  const latest = new Map<string, number>();
  for (const path of PATHS) {
    const acked = ledger.acks.filter((a) => a.path === path);
    const ackedVersions = acked.map((a) => a.version);
    expect(new Set(ackedVersions).size, `${path}: one version number acknowledged twice`).toBe(ackedVersions.length);
    const maxAcked = Math.max(0, ...ackedVersions);

    const stored = (await session.versions(path)).sort((a, b) => a - b);
    const top = stored.at(-1) ?? 0;
    expect(top, `${path}: acknowledged v${maxAcked} but the newest stored is v${top}`).toBeGreaterThanOrEqual(maxAcked);
    expect(stored, `${path}: version numbers are not contiguous`).toEqual(Array.from({ length: top }, (_, i) => i + 1));
    latest.set(path, top);

    const byVersion = new Map(acked.map((a) => [a.version, a.content]));
    for (const version of stored) {
      const bytes = (await session.fileBytes(path, version)).toString('utf8');
      const expected = byVersion.get(version);
      if (expected !== undefined) expect(bytes, `${path} v${version}`).toBe(expected);
      // Unacknowledged but committed (the reply was lost in the kill) is allowed — garbage is not.
      else expect(ledger.attempted.get(path)?.has(bytes), `${path} v${version} holds bytes nobody sent`).toBe(true);
    }
  }
  return latest;
}

describe('durability: acknowledged writes survive kill -9', () => {
  it('finds every acknowledged version, byte for byte and without gaps, after two SIGKILLs mid-write', async () => {
    const dataDir = makeTempDir();
    const ledger: Ledger = { acks: [], attempted: new Map(PATHS.map((p) => [p, new Set<string>()])) };

    let proc = await startPika({ dataDir, env: { PIKA_LOG_LEVEL: 'warn' } });
    let session = await register(proc.baseUrl);

    for (const round of [1, 2]) {
      const result = await writeUntilKilled(proc, session, ledger, round);
      expect(result.acked).toBeGreaterThanOrEqual(ACKS_PER_ROUND);
      // The kill came while other writers were waiting for replies, not between requests.
      expect(result.inFlightAtKill, 'no save was in flight at the kill').toBeGreaterThan(0);

      // Restart on the same dir: LevelDB's lock died with the process, so this must come up.
      proc = await startPika({ dataDir, env: { PIKA_LOG_LEVEL: 'warn' } });
      expect(proc.stdout()).not.toMatch(/cannot open the store/);
      session = await login(proc.baseUrl);
      await verifyLedger(session, ledger);
    }

    // Versions are never reused: the next save continues after everything stored, even unacknowledged ones.
    const latest = await verifyLedger(session, ledger);
    const path = PATHS[0] ?? '';
    expect(await session.save(path, { format: 'json', content: '{"after":"restart"}' })).toBe((latest.get(path) ?? 0) + 1);

    const exit = await proc.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('refuses a second server on a live data dir, and releases the lock when the owner is SIGKILLed', async () => {
    const dataDir = makeTempDir();
    const first = await startPika({ dataDir });
    await register(first.baseUrl);

    // The LevelDB lock is real: a second process on the same dir exits 1 with a clear reason.
    const second = await runPika(['server'], { PIKA_SERVER_HOST: '127.0.0.1', PIKA_SERVER_PORT: String(await freePort()), PIKA_STORAGE_PATH: dataDir });
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(/cannot open the store/);

    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    const restarted = await startPika({ dataDir });
    await login(restarted.baseUrl);
  });
});
