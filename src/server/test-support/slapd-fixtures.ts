import { expect } from 'vitest';
import type { Client, TestApp, TestResponse } from './app-harness.ts';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE_DN, type Slapd } from './slapd.ts';

/**
 * Steps shared by the LDAP strategy and user-sync integration tests: settings documents that
 * point at a test slapd, saving them, and signing in through LDAP.
 */
export const STRATEGY = 'corp';
export const LDAP_LOGIN = `/login/pass/${STRATEGY}`;

/** Every test signs in many times from one address; the limiter has its own test. */
export const NO_RATE_LIMIT = { enabled: false };

/** An `auth.ldap` block for the test directory, signing in as the directory admin for searches. */
export function ldapBlock(slapd: Slapd, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    enabled: true,
    name: STRATEGY,
    label: 'Corp directory',
    address: slapd.ldapUrl,
    bind_dn: ADMIN_DN,
    bind_password: ADMIN_PASSWORD,
    user_base_dn: PEOPLE_DN,
    auto_create_user: true,
    ...overrides,
  };
}

/** One `auth.user_sync` source for the test directory. */
export function syncSource(slapd: Slapd, id: string, overrides: Record<string, unknown> = {}, ldap: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: `${id} source`,
    ldap: { address: slapd.ldapUrl, bind_dn: ADMIN_DN, bind_password: ADMIN_PASSWORD, user_base_dn: PEOPLE_DN, page_size: 2, ...ldap },
    ...overrides,
  };
}

/** Replaces the auth section and insists on 200. */
export async function saveAuth(admin: Client, auth: Record<string, unknown>): Promise<TestResponse> {
  const res = await admin.post('/api/v1/settings', { auth: { rate_limit: NO_RATE_LIMIT, ...auth } });
  expect(res.status, res.body).toBe(200);
  return res;
}

export function ldapSignIn(t: TestApp, username: string, password: string, url = LDAP_LOGIN): Promise<TestResponse> {
  return t.request({ method: 'POST', url, body: { username, password } });
}
