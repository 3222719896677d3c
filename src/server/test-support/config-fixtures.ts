import { expect } from 'vitest';
import { type Client, startTestApp, type TestApp, type TestResponse } from './app-harness.ts';

/**
 * Shared steps of the config and `/data` integration tests: an app with a signed-in admin,
 * saving configs, and minting API tokens.
 */
export interface AdminApp {
  readonly t: TestApp;
  readonly admin: Client;
}

export async function startWithAdmin(options: Parameters<typeof startTestApp>[0] = {}, username?: string): Promise<AdminApp> {
  const t = await startTestApp(options);
  const admin = await t.bootstrapAdmin(username);
  return { t, admin };
}

export interface InheritSpec {
  source?: string;
  resource?: string;
  path?: string;
  paths?: string[];
  inject?: string;
  format?: string;
}

export interface SaveSpec {
  format?: string;
  content?: string;
  /** base64 instead of content. */
  data?: string;
  inherits?: InheritSpec[];
  description?: string;
  constraint?: string;
  expected_version?: number;
  variant?: string;
}

export function saveBody(spec: SaveSpec): Record<string, unknown> {
  const meta: Record<string, unknown> = { format: spec.format ?? 'json' };
  if (spec.inherits !== undefined) meta.inherits = spec.inherits;
  if (spec.description !== undefined) meta.description = spec.description;
  const body: Record<string, unknown> = { meta };
  if (spec.data !== undefined) body.data = spec.data;
  else body.content = spec.content ?? '{}';
  if (spec.constraint !== undefined) body.constraint = spec.constraint;
  if (spec.expected_version !== undefined) body.expected_version = spec.expected_version;
  return body;
}

/** POST /api/v1/file/<path>; returns the raw response (callers assert on failures). */
export function postFile(client: Client, path: string, spec: SaveSpec): Promise<TestResponse> {
  const query = spec.variant === undefined ? '' : `?variant=${encodeURIComponent(spec.variant)}`;
  return client.post(`/api/v1/file/${path}${query}`, saveBody(spec));
}

/** Saves and insists on 201; returns the new version number. */
export async function save(client: Client, path: string, spec: SaveSpec): Promise<number> {
  const res = await postFile(client, path, spec);
  expect(res.status, res.body).toBe(201);
  return res.json.version as number;
}

export interface ScopeSpec {
  path: string;
  operations?: ('read' | 'write' | 'delete' | '*')[];
}

/** Creates an API token (default: read everything) and returns its id and raw key. */
export async function mintToken(admin: Client, scopes: ScopeSpec[] = [{ path: '**' }], extra: Record<string, unknown> = {}): Promise<{ id: string; raw: string }> {
  const res = await admin.post('/api/v1/tokens', { name: `t-${Math.random().toString(36).slice(2, 8)}`, scopes: scopes.map((s) => ({ path: s.path, operations: s.operations ?? ['read'] })), ...extra });
  expect(res.status, res.body).toBe(201);
  return { id: res.json.id as string, raw: res.json.raw_key as string };
}

export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** The parsed JSON body of a JSON response, failing with the body text when it is not 200. */
export function ok200(res: TestResponse): unknown {
  expect(res.status, res.body).toBe(200);
  return res.json;
}
