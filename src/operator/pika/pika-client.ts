/**
 * The operator's view of a pika server, over HTTP only (SPEC §2: the operator never imports the
 * server). Every answer is classified so reconcilers can act without parsing prose:
 * - `locked` (503 + X-Pika-Locked) is never confused with `not-found` — a locked server must
 *   never make the operator blank or delete anything (SPEC §13.1);
 * - `not-found` only for a confirmed 404 with a catalog "not found" code.
 */
export interface PikaEndpoint {
  /** e.g. `http://pika.pika-system.svc:8080` (base path included, no trailing slash). */
  readonly url: string;
  readonly token: string;
  readonly timeoutMs?: number;
  /** Extra CA (PEM) for TLS to the server. */
  readonly ca?: string | undefined;
}

export type DataResult =
  | { readonly kind: 'ok'; readonly body: Buffer; readonly etag: string | undefined; readonly version: number | undefined; readonly contentType: string }
  | { readonly kind: 'not-modified'; readonly etag: string }
  | { readonly kind: 'not-found'; readonly code: string; readonly message: string }
  | { readonly kind: 'locked' }
  | { readonly kind: 'error'; readonly status: number; readonly code: string; readonly message: string };

export interface DataQuery {
  readonly path: string;
  readonly variant?: string | undefined;
  readonly version?: string | undefined;
  readonly format?: string | undefined;
}

const NOT_FOUND_CODES = new Set(['ERR_FILE_NOT_FOUND', 'ERR_VERSION_NOT_FOUND', 'ERR_FOLDER_NOT_FOUND']);

export class PikaError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'PikaError';
    this.status = status;
    this.code = code;
  }
}

export type PikaClient = ReturnType<typeof createPikaClient>;

export function createPikaClient(endpoint: PikaEndpoint, deps: { readonly fetch?: typeof fetch; readonly onCall?: (route: string, status: number) => void } = {}) {
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = endpoint.timeoutMs ?? 10_000;

  async function call(route: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${endpoint.token}`);
    headers.set('user-agent', 'pika-operator');
    let response: Response;
    try {
      response = await doFetch(`${endpoint.url}${path}`, { ...init, headers, signal: init.signal ?? AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      deps.onCall?.(route, 0);
      throw err;
    }
    deps.onCall?.(route, response.status);
    return response;
  }

  async function errorOf(response: Response): Promise<{ code: string; message: string }> {
    try {
      const body = (await response.json()) as { code?: string; message?: string };
      return { code: body.code ?? `HTTP_${response.status}`, message: body.message ?? response.statusText };
    } catch {
      return { code: `HTTP_${response.status}`, message: response.statusText };
    }
  }

  /** `GET /data/<path>` with an optional ETag for a conditional fetch. */
  async function getData(query: DataQuery, etag?: string): Promise<DataResult> {
    const params = new URLSearchParams();
    if (query.variant) params.set('variant', query.variant);
    if (query.version) params.set('version', query.version);
    if (query.format) params.set('format', query.format);
    const qs = params.toString();
    const path = `/data/${query.path.split('/').map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
    const response = await call('data', path, { headers: etag ? { 'if-none-match': etag } : {} });
    if (response.headers.get('x-pika-locked') === 'true') return { kind: 'locked' };
    if (response.status === 304) return { kind: 'not-modified', etag: etag ?? '' };
    if (response.ok) {
      const version = response.headers.get('x-pika-version');
      return { kind: 'ok', body: Buffer.from(await response.arrayBuffer()), etag: response.headers.get('etag') ?? undefined, version: version === null ? undefined : Number(version), contentType: response.headers.get('content-type') ?? '' };
    }
    const { code, message } = await errorOf(response);
    if (response.status === 404 && NOT_FOUND_CODES.has(code)) return { kind: 'not-found', code, message };
    return { kind: 'error', status: response.status, code, message };
  }

  async function json<T>(route: string, path: string, init: RequestInit = {}): Promise<T> {
    const response = await call(route, path, init.body ? { ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } } : init);
    if (!response.ok) {
      const { code, message } = await errorOf(response);
      throw new PikaError(response.status, response.headers.get('x-pika-locked') === 'true' ? 'server_locked' : code, message);
    }
    return (await response.json()) as T;
  }

  return {
    getData,
    keyStatus: () => json<{ initialized: boolean; unlocked: boolean; server_id?: string }>('key-status', '/api/v1/key/status'),
    info: () => json<{ version: string; user?: string; permissions: string[]; server_id?: string }>('info', '/api/v1/info'),
    unlock: (key: string) => json<{ initialized: boolean; unlocked: boolean }>('unlock', '/api/v1/key/unlock', { method: 'POST', body: JSON.stringify({ key }) }),
    createToken: (input: { name: string; scopes: { path: string; operations: string[]; resource?: string }[]; capabilities?: string[]; expires_at?: string }) =>
      json<{ id: string; raw_key: string; expires_at?: string }>('tokens', '/api/v1/tokens', { method: 'POST', body: JSON.stringify(input) }),
    /** Revokes a token; an already-gone token counts as revoked. */
    async revokeToken(id: string): Promise<void> {
      const response = await call('tokens', `/api/v1/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
      if (response.ok || response.status === 404) return;
      const { code, message } = await errorOf(response);
      throw new PikaError(response.status, response.headers.get('x-pika-locked') === 'true' ? 'server_locked' : code, message);
    },
    /** The raw change-feed response, for the SSE reader (change-feed.ts). */
    openWatch: (prefix: string, lastEventId: number | undefined, signal: AbortSignal) =>
      call('watch', `/api/v1/watch${prefix ? `?prefix=${encodeURIComponent(prefix)}` : ''}`, { headers: lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }, signal }),
  };
}
