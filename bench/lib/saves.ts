import autocannon from 'autocannon';

/** Save throughput over real HTTP (`POST /api/v1/file/<path>`), driven by autocannon. */
export interface SaveResult {
  readonly connections: number;
  readonly saves: number;
  readonly seconds: number;
  readonly savesPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
}

export interface SaveLoad {
  /** `http://host:port` + base path. */
  readonly baseUrl: string;
  readonly cookie: string;
  readonly connections: number;
  /** Run for this long… */
  readonly seconds?: number;
  /** …or until this many saves were sent. */
  readonly amount?: number;
  /** Path of the n-th save (n counts from 0). */
  readonly pathOf: (n: number) => string;
  readonly bodyOf: (n: number) => string;
}

/** Each request saves a new version of `pathOf(n)` with `{meta:{format:'json'}, content: bodyOf(n)}`. */
export async function runSaves(load: SaveLoad): Promise<SaveResult> {
  const prefix = new URL(load.baseUrl).pathname.replace(/\/$/, '');
  let n = 0;
  const result = await autocannon({
    url: load.baseUrl,
    connections: load.connections,
    ...(load.amount === undefined ? { duration: load.seconds ?? 5 } : { amount: load.amount }),
    timeout: 30,
    method: 'POST',
    headers: { cookie: load.cookie, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          const i = n++;
          return { ...request, path: `${prefix}/api/v1/file/${load.pathOf(i)}`, body: JSON.stringify({ meta: { format: 'json' }, content: load.bodyOf(i) }) };
        },
      },
    ],
  });
  const saves = result.statusCodeStats['201']?.count ?? 0;
  return {
    connections: load.connections,
    saves,
    seconds: result.duration,
    savesPerSec: saves / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failed: result.non2xx + result.errors,
  };
}
