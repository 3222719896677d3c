import { spawn, spawnSync } from 'node:child_process';

/** One wrk run, parsed. Latencies in milliseconds. */
export interface WrkResult {
  readonly url: string;
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly socketErrors: number;
}

export interface WrkOptions {
  readonly url: string;
  readonly threads?: number;
  readonly connections?: number;
  readonly seconds: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export function wrkVersion(): string {
  const out = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return (out.stdout + out.stderr).split('\n')[0]?.replace(/\s*Copyright.*$/, '').trim() ?? 'unknown';
}

/** Runs `wrk -tT -cC -dSs --latency [-H …] URL` and parses its report. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = [`-t${options.threads ?? 1}`, `-c${options.connections ?? 16}`, `-d${options.seconds}s`, '--latency'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push(options.url);
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => { text += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { text += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 30) * 1000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`wrk exited with ${code}:\n${text}`));
    });
  });
  return parseWrk(options.url, output);
}

export function parseWrk(url: string, text: string): WrkResult {
  const number = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(text);
    if (!m) throw new Error(`cannot find ${what} in wrk output:\n${text}`);
    return m;
  };
  const total = number(/(\d+) requests in ([\d.]+)(ms|s|m)/, 'the request count');
  const rps = number(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec');
  const p50 = number(/^\s+50%\s+([\d.]+)(us|ms|s)\s*$/m, 'p50');
  const p99 = number(/^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m, 'p99');
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = sockets ? sockets.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    url,
    requests: Number(total[1]),
    seconds: toMs(total[2], total[3]) / 1000,
    rps: Number(rps[1]),
    p50Ms: toMs(p50[1], p50[2]),
    p99Ms: toMs(p99[1], p99[2]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors,
  };
}

function toMs(value: string | undefined, unit: string | undefined): number {
  const n = Number(value);
  switch (unit) {
    case 'us': return n / 1000;
    case 'ms': return n;
    case 's': return n * 1000;
    case 'm': return n * 60_000;
    default: throw new Error(`unknown wrk unit ${String(unit)}`);
  }
}
