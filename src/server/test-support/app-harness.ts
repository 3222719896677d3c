import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp, type AppDeps } from '../app.ts';
import { loadConfig } from '../config/load-config.ts';
import type { PikaConfig } from '../config/config-schema.ts';
import { openDiskStore } from '../storage/level-store.ts';
import type { Store } from '../storage/store.ts';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly config: PikaConfig;
  readonly dir: string;
  /** Sends a request; JSON bodies are serialised and `json` is parsed when possible. */
  request(options: TestRequest): Promise<TestResponse>;
  /** Registers the first user (superadmin) and returns a client signed in as them. */
  bootstrapAdmin(username?: string, password?: string): Promise<Client>;
  /** Signs in with a password and returns a client carrying the session cookie. */
  login(username: string, password: string): Promise<Client>;
  /** A client sending `Authorization: Bearer <token>`. */
  withToken(token: string): Client;
  close(): Promise<void>;
}

export interface TestRequest {
  method?: InjectOptions['method'];
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  cookie?: string;
}

export interface TestResponse {
  status: number;
  /** The HTTP reason phrase (ESO shows only the status line). */
  statusMessage: string;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  rawPayload: Buffer;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests index into bodies freely
}

export interface Client {
  get(url: string, headers?: Record<string, string>): Promise<TestResponse>;
  post(url: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  put(url: string, body?: unknown): Promise<TestResponse>;
  patch(url: string, body?: unknown): Promise<TestResponse>;
  delete(url: string, body?: unknown): Promise<TestResponse>;
  /** The session cookie value (`pika_session=…`), when signed in by password. */
  readonly cookie: string | undefined;
}

export const ADMIN = { username: 'admin', password: 'correct horse battery' };

/**
 * Starts the app on a real on-disk store. `env` is a PIKA_* environment applied on top of the
 * defaults (the same loader the process uses), e.g. `{ PIKA_SERVER_BASE_PATH: '/pika' }`.
 */
export async function startTestApp(options: { env?: Record<string, string>; deps?: Partial<AppDeps>; dir?: string; wrapStore?: (store: Store) => Store } = {}): Promise<TestApp> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'pika-int-'));
  const { config } = loadConfig({ env: { PIKA_STORAGE_PATH: join(dir, 'store'), ...options.env }, cwd: dir });
  const store = await openDiskStore(config.storage.path, { sync: false });
  const app = await buildApp(config, { store: options.wrapStore ? options.wrapStore(store) : store, passwordCost: 4, kdfCost: { N: 2 ** 10, r: 8, p: 1 }, webRoot: false, ...options.deps });

  async function request(req: TestRequest): Promise<TestResponse> {
    const headers: Record<string, string> = { ...req.headers };
    if (req.cookie) headers.cookie = req.cookie;
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await app.inject({ method: req.method ?? 'GET', url: req.url, headers, ...(payload === undefined ? {} : { payload }) });
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, statusMessage: res.statusMessage, headers: res.headers, body: res.body, rawPayload: res.rawPayload, json };
  }

  function client(extra: { cookie?: string; headers?: Record<string, string> }): Client {
    const send = (method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string>) =>
      request({ method, url, body, headers: { ...extra.headers, ...headers }, ...(extra.cookie ? { cookie: extra.cookie } : {}) });
    return {
      cookie: extra.cookie,
      get: (url, headers) => send('GET', url, undefined, headers),
      post: (url, body, headers) => send('POST', url, body, headers),
      put: (url, body) => send('PUT', url, body),
      patch: (url, body) => send('PATCH', url, body),
      delete: (url, body) => send('DELETE', url, body),
    };
  }

  function sessionCookie(res: TestResponse): string {
    const setCookie = res.headers['set-cookie'];
    const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
    if (typeof first !== 'string') throw new Error(`no session cookie (status ${res.status}: ${res.body})`);
    return first.split(';')[0] ?? '';
  }

  const base = config.server.basePath;
  return {
    app,
    store,
    config,
    dir,
    request,
    async bootstrapAdmin(username = ADMIN.username, password = ADMIN.password) {
      const res = await request({ method: 'POST', url: `${base}/login/register/local`, body: { username, password, password_confirm: password } });
      if (res.status !== 201) throw new Error(`bootstrap failed: ${res.status} ${res.body}`);
      return client({ cookie: sessionCookie(res) });
    },
    async login(username, password) {
      const res = await request({ method: 'POST', url: `${base}/login/pass/local`, body: { username, password } });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.body}`);
      return client({ cookie: sessionCookie(res) });
    },
    withToken: (token) => client({ headers: { authorization: `Bearer ${token}` } }),
    async close() {
      await app.close();
      await store.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
