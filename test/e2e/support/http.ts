/**
 * Tiny fetch-based helpers for talking to a started pika over real HTTP. Failures throw with the
 * status and body, so a test reads as the happy path and still fails loudly.
 */

export const ADMIN = { username: 'admin', password: 'e2e-Admin-passphrase-7f3c' } as const;

export type Format = 'json' | 'yaml' | 'toml' | 'raw';

export interface SaveOptions {
  readonly format: Format;
  readonly content: string;
  readonly inherits?: readonly { source: string }[];
  readonly expectedVersion?: number;
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

async function send(url: string, init: RequestInit): Promise<Reply> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const body = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    body,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}

function expectStatus(reply: Reply, expected: number, what: string): Reply {
  if (reply.status !== expected) throw new Error(`${what}: expected HTTP ${expected}, got ${reply.status}: ${reply.text()}`);
  return reply;
}

/** A signed-in (cookie) client for `/login`, `/api/v1`; `baseUrl` includes the base path. */
export class Session {
  readonly baseUrl: string;
  readonly cookie: string;

  constructor(baseUrl: string, cookie: string) {
    this.baseUrl = baseUrl;
    this.cookie = cookie;
  }

  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const init: RequestInit = { method, headers: { cookie: this.cookie, ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { ...init.headers as Record<string, string>, 'content-type': 'application/json' };
    }
    return send(this.baseUrl + path, init);
  }

  /** Saves a new version; resolves to the version number the server acknowledged. */
  async save(path: string, options: SaveOptions, init: RequestInit = {}): Promise<number> {
    const reply = await this.trySave(path, options, init);
    return expectStatus(reply, 201, `save ${path}`).json<{ version: number }>().version;
  }

  /** Like save(), but hands back the raw reply (no status check); `init.headers` must be a plain object. */
  trySave(path: string, options: SaveOptions, init: RequestInit = {}): Promise<Reply> {
    const meta = { format: options.format, ...(options.inherits ? { inherits: options.inherits } : {}) };
    const body = { meta, content: options.content, ...(options.expectedVersion === undefined ? {} : { expected_version: options.expectedVersion }) };
    return send(`${this.baseUrl}/api/v1/file/${path}`, {
      ...init,
      method: 'POST',
      headers: { ...(init.headers as Record<string, string> | undefined), cookie: this.cookie, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** The exact stored bytes of one version (`GET /api/v1/file/<path>?version=N`). */
  async fileBytes(path: string, version: number): Promise<Buffer> {
    const reply = expectStatus(await this.request('GET', `/api/v1/file/${path}?version=${version}`), 200, `read ${path} v${version}`);
    return Buffer.from(reply.json<{ data: string }>().data, 'base64');
  }

  /** Version numbers in the history of a config. */
  async versions(path: string): Promise<number[]> {
    const reply = expectStatus(await this.request('GET', `/api/v1/versions/${path}`), 200, `versions of ${path}`);
    return reply.json<{ version: number }[]>().map((v) => v.version);
  }

  /** Mints an API token and returns its raw key (`pika_…`), shown once. */
  async createToken(name: string, scopes: readonly { path: string; operations: readonly string[] }[] = [{ path: '**', operations: ['read'] }]): Promise<string> {
    const reply = expectStatus(await this.request('POST', '/api/v1/tokens', { name, scopes }), 201, 'create token');
    return reply.json<{ raw_key: string }>().raw_key;
  }
}

function sessionCookie(reply: Reply, what: string): string {
  const setCookie = reply.headers.getSetCookie().find((c) => c.startsWith('pika_session='));
  if (!setCookie) throw new Error(`${what}: no pika_session cookie in the reply`);
  return setCookie.split(';')[0] ?? '';
}

/** `POST /login/register/local`: the first user (superadmin); returns a signed-in session. */
export async function register(baseUrl: string, user: { username: string; password: string } = ADMIN): Promise<Session> {
  const reply = expectStatus(await tryRegister(baseUrl, user), 201, 'register');
  return new Session(baseUrl, sessionCookie(reply, 'register'));
}

export function tryRegister(baseUrl: string, user: { username: string; password: string } = ADMIN): Promise<Reply> {
  return send(`${baseUrl}/login/register/local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: user.password, password_confirm: user.password }),
  });
}

/** `POST /login/pass/local`; returns a signed-in session. */
export async function login(baseUrl: string, user: { username: string; password: string } = ADMIN): Promise<Session> {
  const reply = expectStatus(await tryLogin(baseUrl, user), 200, 'login');
  return new Session(baseUrl, sessionCookie(reply, 'login'));
}

export function tryLogin(baseUrl: string, user: { username: string; password: string }): Promise<Reply> {
  return send(`${baseUrl}/login/pass/local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: user.password }),
  });
}

/** `GET /data/<path>` with a bearer token; `query` like `format=json`. */
export function getData(baseUrl: string, token: string, path: string, options: { query?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const query = options.query ? `?${options.query}` : '';
  return send(`${baseUrl}/data/${path}${query}`, { headers: { authorization: `Bearer ${token}`, ...options.headers } });
}

/** Any GET without credentials (health, openapi). */
export function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return send(url, { headers });
}
