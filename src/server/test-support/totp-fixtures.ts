import { expect } from 'vitest';
import { totpCode } from '../services/identity/totp.ts';
import type { Client, TestApp, TestResponse } from './app-harness.ts';
import { cookieOf } from './identity-fixtures.ts';

/**
 * Steps shared by the two-factor and rate-limit integration tests: enroll a signed-in user,
 * run either sign-in phase, and wrap a session cookie as a client.
 */
export const LOGIN = '/login/pass/local';

export interface Clock {
  now(): number;
  advance(ms: number): void;
}

/** Begins and finishes enrollment with the current code; then moves past that code's step. */
export async function enrollTotp(client: Client, clock: Clock): Promise<{ secret: string; codes: string[] }> {
  const begin = await client.post('/api/v1/me/totp/begin');
  expect(begin.status, begin.body).toBe(200);
  const secret = begin.json.secret_base32 as string;
  const finish = await client.post('/api/v1/me/totp/finish', { code: totpCode(secret, clock.now()) });
  expect(finish.status, finish.body).toBe(200);
  clock.advance(30_000);
  return { secret, codes: finish.json.recovery_codes };
}

export function passwordPhase(t: TestApp, username: string, password: string, headers?: Record<string, string>): Promise<TestResponse> {
  return t.request({ method: 'POST', url: LOGIN, body: { username, password }, headers });
}

export function codePhase(t: TestApp, totpSessionId: string, code: string, headers?: Record<string, string>): Promise<TestResponse> {
  return t.request({ method: 'POST', url: LOGIN, body: { totp_session_id: totpSessionId, code }, headers });
}

/** Phase one, insisting on `totp_required`; returns the challenge id. */
export async function challengeFor(t: TestApp, username: string, password: string): Promise<string> {
  const res = await passwordPhase(t, username, password);
  expect(res.status, res.body).toBe(200);
  expect(res.json.phase).toBe('totp_required');
  return res.json.totp_session_id as string;
}

/** Both phases with the given code, insisting on success. */
export async function loginWithCode(t: TestApp, username: string, password: string, code: string): Promise<Client> {
  const res = await codePhase(t, await challengeFor(t, username, password), code);
  expect(res.status, res.body).toBe(200);
  return asClient(t, cookieOf(res));
}

/** A client sending a session cookie (TestApp.login expects a one-phase sign-in). */
export function asClient(t: TestApp, cookie: string): Client {
  const send = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string>) => t.request({ method, url, body, headers, cookie });
  return {
    cookie,
    get: (url, headers) => send('GET', url, undefined, headers),
    post: (url, body, headers) => send('POST', url, body, headers),
    put: (url, body) => send('PUT', url, body),
    patch: (url, body) => send('PATCH', url, body),
    delete: (url, body) => send('DELETE', url, body),
  };
}

export { totpCode };
