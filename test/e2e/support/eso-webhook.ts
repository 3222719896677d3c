/**
 * A stand-in for the External Secrets Operator's generic `webhook` provider, so the conformance
 * suite can drive pika exactly the way ESO does without a cluster. Re-implemented from ESO's
 * documented and observed behaviour (reference/kubernetes-prior-art.md §1a; ESO
 * `providers/v1/webhook/`), not from a recording:
 *
 * - the URL is a Go text/template rendered with query-escaped values (Go `url.QueryEscape`),
 *   headers and body with raw values; a map key the operation does not supply renders as the
 *   literal `<no value>`; `{{ or .a.b .c.d }}` picks the first non-empty value;
 * - the request goes out byte for byte as Go's client writes it: the rendered URL is not
 *   re-encoded, so a raw `<no value>` puts spaces into the request line; one connection per call;
 * - reads: GET (or `method`), the body template rendered if set; a `result.jsonPath` parses the
 *   body as JSON and converts the result (bool → true/false, null → empty, number → Go
 *   `FormatFloat(v, 'f', 0)`, so 3.14 → "3", array → its first element, object → JSON);
 *   `dataFrom.extract` parses a string result again and wants an object;
 * - 404 means "no such secret" (drives deletionPolicy), 304 is a plain failure, any other non-2xx
 *   fails with `endpoint gave error <status line>`; only the status line survives;
 * - push: POST (or `method`), the body defaults to the value itself, the template sees
 *   `.remoteRef.remoteKey`, `.remoteRef.secretKey` (if set) and the value under the remote key's
 *   name; delete: DELETE without a body, URL and headers see only `.remoteRef.remoteKey` (not
 *   escaped, and no store secrets), 404 counts as success;
 *   the IfNotExists check is a read with `.remoteRef.key` set to the remote key.
 */
import { connect } from 'node:net';

export interface WebhookStore {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly jsonPath?: string;
  /** `secrets[]`: each Secret's keys, exposed as `.<name>.<key>`. */
  readonly secrets?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface RemoteRef {
  readonly key: string;
  readonly property?: string;
  readonly version?: string;
  readonly namespace?: string;
}

/** ESO's `NoSecretError`: the provider said the secret does not exist. */
export class NoSecretError extends Error {
  constructor() {
    super('Secret does not exist');
    this.name = 'NoSecretError';
  }
}

type TemplateData = Record<string, Record<string, string>>;

/** Go `url.QueryEscape`: everything but A-Z a-z 0-9 - _ . ~ is escaped, space becomes `+`. */
export function queryEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function lookup(data: TemplateData, path: string): string | undefined {
  const [scope, key] = path.replace(/^\./, '').split('.');
  const map = scope === undefined ? undefined : data[scope];
  return map === undefined || key === undefined ? undefined : map[key];
}

/** The subset of Go text/template ESO stores use: `{{ .a.b }}` and `{{ or .a.b .c.d }}`. */
export function render(template: string, data: TemplateData): string {
  return template.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_all, expr: string) => {
    const or = /^or\s+(.+)$/.exec(expr);
    if (or?.[1] !== undefined) {
      const values = or[1].trim().split(/\s+/).map((p) => lookup(data, p));
      return values.find((v) => v !== undefined && v !== '') ?? values[values.length - 1] ?? '<no value>';
    }
    return lookup(data, expr) ?? '<no value>';
  });
}

export interface WireResponse {
  /** `503 Pika Locked`, as Go's `resp.Status`. */
  readonly status: string;
  readonly code: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** One HTTP/1.1 exchange over a fresh socket, the request line written exactly as given. */
export function sendRaw(url: string, method: string, headers: Readonly<Record<string, string>>, body: Buffer): Promise<WireResponse> {
  const match = /^http:\/\/([^/:]+):(\d+)(\/.*)$/.exec(url);
  if (!match) throw new Error(`not an http URL with a port: ${url}`);
  const [, host = '', port = '', target = ''] = match;
  const head = [`${method} ${target} HTTP/1.1`, `Host: ${host}:${port}`, 'User-Agent: Go-http-client/1.1', ...(body.length > 0 || method === 'POST' ? [`Content-Length: ${body.length}`] : []), ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'Connection: close', '', ''].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host, () => socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body])));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

function parseResponse(raw: Buffer): WireResponse {
  const split = raw.indexOf('\r\n\r\n');
  if (split === -1) throw new Error(`no HTTP response: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = statusLine.replace(/^HTTP\/1\.[01] /, '');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  let body = raw.subarray(split + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status, code: Number(status.slice(0, 3)), headers, body };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function evaluateJsonPath(doc: unknown, path: string): unknown {
  if (path === '$') return doc;
  if (!path.startsWith('$.')) throw new Error(`unsupported jsonPath ${path}`);
  let value = doc;
  for (const key of path.slice(2).split('.')) {
    if (typeof value !== 'object' || value === null || !(key in value)) throw new Error(`failed to get response path ${path}: unknown key ${key}`);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** ESO's conversion of a jsonPath result into Secret bytes (GetSecret). */
export function extractSecretData(value: unknown): string {
  if (typeof value === 'boolean') return String(value);
  if (value === null) return '';
  if (typeof value === 'number') return value.toFixed(0); // Go FormatFloat(v, 'f', 0, 64)
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    if (value.length === 0) throw new Error("filter worked but didn't get any result");
    return extractSecretData(value[0]);
  }
  return JSON.stringify(value);
}

/** A webhook SecretStore as ESO's controller uses it. */
export class EsoWebhookClient {
  readonly store: WebhookStore;
  constructor(store: WebhookStore) {
    this.store = store;
  }

  private data(remoteRef: Record<string, string>, escape: boolean): TemplateData {
    const ref = Object.fromEntries(Object.entries(remoteRef).map(([k, v]) => [k, escape && k !== 'namespace' ? queryEscape(v) : v]));
    return { ...this.store.secrets, remoteRef: ref };
  }

  private async call(method: string, remoteRef: Record<string, string>, body: string): Promise<Buffer> {
    const url = render(this.store.url, this.data(remoteRef, true));
    const raw = this.data(remoteRef, false);
    const headers = Object.fromEntries(Object.entries(this.store.headers ?? {}).map(([k, v]) => [k, render(v, raw)]));
    const res = await sendRaw(url, method, headers, Buffer.from(body, 'utf8'));
    if (res.code === 404) throw new NoSecretError();
    if (res.code === 304) throw new Error('not modified');
    if (res.code < 200 || res.code >= 300) throw new Error(`endpoint gave error ${res.status}`);
    return res.body;
  }

  private read(ref: RemoteRef): Promise<Buffer> {
    const remoteRef = { key: ref.key, version: ref.version ?? '', property: ref.property ?? '', namespace: ref.namespace ?? 'default' };
    return this.call(this.store.method ?? 'GET', remoteRef, this.store.body === undefined ? '' : render(this.store.body, this.data(remoteRef, false)));
  }

  /** `spec.data[]`: one value. */
  async getSecret(ref: RemoteRef): Promise<string> {
    const body = await this.read(ref);
    if (this.store.jsonPath === undefined || this.store.jsonPath === '') return body.toString('utf8');
    return extractSecretData(evaluateJsonPath(JSON.parse(body.toString('utf8')), this.store.jsonPath));
  }

  /** `spec.dataFrom[].extract`: every key of an object. */
  async getSecretMap(ref: RemoteRef): Promise<Record<string, string>> {
    let value = JSON.parse((await this.read(ref)).toString('utf8')) as unknown;
    if (this.store.jsonPath !== undefined && this.store.jsonPath !== '') value = evaluateJsonPath(value, this.store.jsonPath);
    if (typeof value === 'string') value = JSON.parse(value) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('failed to get response (wrong type)');
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  }

  /** PushSecret: the value of one Secret key (or the whole Secret as JSON) to `remoteKey`. */
  async pushSecret(remoteKey: string, value: string, secretKey?: string): Promise<void> {
    const escaped = { remoteKey: queryEscape(remoteKey), ...(secretKey ? { secretKey: queryEscape(secretKey) } : {}), [remoteKey]: queryEscape(value) };
    const raw = { remoteKey, ...(secretKey ? { secretKey } : {}), [remoteKey]: value };
    const url = render(this.store.url, { ...this.store.secrets, remoteRef: escaped });
    const headers = Object.fromEntries(Object.entries(this.store.headers ?? {}).map(([k, v]) => [k, render(v, { ...this.store.secrets, remoteRef: raw })]));
    const body = this.store.body === undefined || this.store.body === '' ? value : render(this.store.body, { ...this.store.secrets, remoteRef: raw });
    const res = await sendRaw(url, this.store.method ?? 'POST', headers, Buffer.from(body, 'utf8'));
    if (res.code === 404) throw new NoSecretError();
    if (res.code < 200 || res.code >= 300) throw new Error(`failed to push webhook data: endpoint gave error ${res.status}`);
  }

  /**
   * PushSecret deletionPolicy Delete. ESO renders URL and headers here from `.remoteRef.remoteKey`
   * alone: unescaped, and without the store's `secrets`, so a templated token renders as
   * `<no value>`.
   */
  async deleteSecret(remoteKey: string): Promise<void> {
    const data = { remoteRef: { remoteKey } };
    const url = render(this.store.url, data);
    const headers = Object.fromEntries(Object.entries(this.store.headers ?? {}).map(([k, v]) => [k, render(v, data)]));
    const res = await sendRaw(url, 'DELETE', headers, Buffer.alloc(0));
    if (res.code === 404) return;
    if (res.code < 200 || res.code >= 300) throw new Error(`delete endpoint gave error ${res.status}`);
  }

  /** PushSecret updatePolicy IfNotExists: a read with `.remoteRef.key` = the remote key. */
  async secretExists(remoteKey: string): Promise<boolean> {
    try {
      await this.read({ key: remoteKey });
      return true;
    } catch (err) {
      if (err instanceof NoSecretError) return false;
      throw err;
    }
  }
}
