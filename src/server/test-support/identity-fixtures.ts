import { expect } from 'vitest';
import type { Capability } from '../../shared/capabilities.ts';
import type { Store } from '../storage/store.ts';
import type { Client, TestApp, TestResponse } from './app-harness.ts';

/**
 * Shared steps of the identity and access integration tests: bundles, users signed in with a
 * bundle, configs to read, tokens, and scans of the raw store.
 */
export const PASSWORD = 'user password 123';

export interface BundleSpec {
  key: string;
  keys: Capability[];
  key_patterns?: Partial<Record<Capability, string[]>>;
  name?: string;
}

/** POST /api/v1/permissions and insist on 201; returns the bundle id. */
export async function createBundle(admin: Client, spec: BundleSpec): Promise<string> {
  const res = await admin.post('/api/v1/permissions', { name: spec.name ?? spec.key, ...spec });
  expect(res.status, res.body).toBe(201);
  return (res.json as { id: string }).id;
}

/** POST /api/v1/users and insist on 201; returns the user id. */
export async function createUser(admin: Client, username: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await admin.post('/api/v1/users', { username, password: PASSWORD, ...extra });
  expect(res.status, res.body).toBe(201);
  return (res.json as { id: string }).id;
}

/** A user holding the given bundles (created on the fly), signed in. */
export async function signedInUser(t: TestApp, admin: Client, username: string, bundles: BundleSpec[]): Promise<{ id: string; client: Client; bundleIds: string[] }> {
  const bundleIds: string[] = [];
  for (const spec of bundles) bundleIds.push(await createBundle(admin, spec));
  const id = await createUser(admin, username, bundleIds.length > 0 ? { permission_ids: bundleIds } : {});
  return { id, client: await t.login(username, PASSWORD), bundleIds };
}

/** Saves a JSON config (optionally a variant) and insists on 201. */
export async function saveConfig(client: Client, path: string, content = '{"a":1}', variant?: string): Promise<void> {
  const query = variant === undefined ? '' : `?variant=${variant}`;
  const res = await client.post(`/api/v1/file/${path}${query}`, { meta: { format: 'json' }, content });
  expect(res.status, `${path}: ${res.body}`).toBe(201);
}

export interface MintedToken {
  readonly id: string;
  readonly raw: string;
  readonly response: TestResponse;
}

/** POST /api/v1/tokens and insist on 201. */
export async function mint(client: Client, body: Record<string, unknown>): Promise<MintedToken> {
  const res = await client.post('/api/v1/tokens', { name: 'tok', ...body });
  expect(res.status, res.body).toBe(201);
  const json = res.json as { id: string; raw_key: string };
  return { id: json.id, raw: json.raw_key, response: res };
}

/** Every key and value of the store under `prefix`, values decoded as UTF-8. */
export async function dumpStore(store: Store, prefix = ''): Promise<{ key: string; value: string }[]> {
  const out: { key: string; value: string }[] = [];
  for await (const item of store.iterate(prefix)) out.push({ key: item.key, value: Buffer.from(item.value).toString('utf8') });
  return out;
}

/** The `name=value` part of a response's first Set-Cookie header. */
export function cookieOf(res: TestResponse): string {
  const header = res.headers['set-cookie'];
  const first = Array.isArray(header) ? header[0] : header;
  if (typeof first !== 'string') throw new Error(`no Set-Cookie (status ${res.status}: ${res.body})`);
  return first.split(';')[0] ?? '';
}

/** The error body fields every error must carry, with the request id of the response. */
export function expectError(res: TestResponse, status: number, code: string): void {
  expect({ status: res.status, code: (res.json as { code?: string } | undefined)?.code }, res.body).toEqual({ status, code });
  expect((res.json as { request_id: string }).request_id).toBe(res.headers['x-request-id']);
  expect(typeof (res.json as { message: unknown }).message).toBe('string');
}

/** A clock tests move by hand. */
export function manualClock(start = Date.parse('2030-01-01T00:00:00.000Z')): { now: () => number; advance(ms: number): void; set(ms: number): void } {
  let current = start;
  return {
    now: () => current,
    advance(ms) {
      current += ms;
    },
    set(ms) {
      current = ms;
    },
  };
}
