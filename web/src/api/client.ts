/**
 * The one HTTP client of the UI (style §4.2.14). It owns credentials, JSON encoding, turning
 * server errors into `ApiError` with the catalog `code`, and telling the app when the server is
 * locked (`X-Pika-Locked`, SPEC §7.3) or the session is gone (401) — every response, from any
 * page, goes through here.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  constructor(status: number, code: string, message: string, requestId?: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }
}

export type ApiEvent = 'locked' | 'unauthenticated';
const listeners = new Set<(event: ApiEvent) => void>();

export function onApiEvent(listener: (event: ApiEvent) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The server's base path, from where index.html was loaded: `/` or `/pika/` → '' or '/pika'. */
export function basePath(): string {
  return window.location.pathname.replace(/\/index\.html$/, '').replace(/\/+$/, '');
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Return the raw Response (downloads, streams) instead of parsed JSON. */
  raw?: boolean;
  /** Do not announce 401s (sign-in probes). */
  quiet?: boolean;
  /** Cancels the request (e.g. a preview superseded by newer typing). */
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const url = new URL(basePath() + path, window.location.origin);
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof Blob || options.body instanceof ArrayBuffer) body = options.body;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(url, { method, headers, body, credentials: 'same-origin', signal: options.signal });
  if (response.headers.get('x-pika-locked') === 'true') for (const l of listeners) l('locked');
  if (!response.ok) {
    if (response.status === 401 && !options.quiet) for (const l of listeners) l('unauthenticated');
    throw await toError(response);
  }
  if (options.raw) return response as unknown as T;
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

async function toError(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { code?: string; message?: string; request_id?: string; details?: Record<string, unknown> };
    return new ApiError(response.status, body.code ?? 'ERR_UNKNOWN', body.message ?? response.statusText, body.request_id, body.details);
  } catch {
    return new ApiError(response.status, 'ERR_UNKNOWN', response.statusText || `HTTP ${response.status}`);
  }
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PUT', path, { ...options, body }),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PATCH', path, { ...options, body }),
  delete: <T>(path: string, options?: RequestOptions) => request<T>('DELETE', path, options),
};

/** Encodes a config path for a wildcard route, segment by segment (never `%2F`). */
export function pathSegments(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
