/**
 * `npm run bench:operator` (bench/operator.ts, issue 7.9) still runs end to end, at toy size. No
 * number is checked: the bench reports ratios, it does not judge them (bench/README.md). It uses
 * the dist/ that `npm test` builds (`--no-build`), and writes its JSON to a temp dir.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../e2e/support/server-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'pika-bench-smoke-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function run(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['bench/operator.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => { resolve({ code, output }); });
  });
}

it('runs every phase against a real API server, pika and operator process, and writes the JSON report', async () => {
  const out = join(dir, 'bench-operator.json');
  const { code, output } = await run(['--changes', '3', '--configs', '10', '--no-build', '--out', out]);
  expect(code, output).toBe(0);
  expect(output).toContain('ratio operator p50 / reference p50');
  const report = JSON.parse(readFileSync(out, 'utf8'));
  expect(report.latency.operator.n).toBe(3);
  expect(report.latency.reference.n).toBe(3);
  expect(report.fleet.configs).toBe(10);
  expect(report.fanout.per_secret.n).toBe(10);
  expect(report.during_recheck.direct.n).toBeGreaterThan(0);
  expect(report.restart.all_confirmed_s).toBeGreaterThan(0);
  expect(Object.keys(report.memory)).toEqual(['idle', 'after_latency', 'after_fleet_ready', 'after_fanout', 'after_restart']);
}, 180_000);
