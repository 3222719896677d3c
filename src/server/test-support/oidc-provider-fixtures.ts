import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { AppDeps } from '../app.ts';
import { type Client, startTestApp, type TestApp } from './app-harness.ts';
import { browse, CookieJar, runToCallback } from './oidc-provider-browser.ts';
import { startTestIdp, TEST_ACCOUNTS, type TestClient, type TestIdp, type TestIdpOptions } from './oidc-provider.ts';

/**
 * One OAuth2 test world: pika on a real loopback port (the IdP redirects a "browser" to it), a
 * signed-in admin, and a test IdP whose clients accept pika's callback URLs. Providers are then
 * configured through the settings API, as an admin would.
 */
export interface OidcWorld {
  readonly t: TestApp;
  readonly admin: Client;
  /** `http://127.0.0.1:<port>` plus the base path. */
  readonly base: string;
  /** The base path ('' or `/pika`): prefix of every route for `t.request` and `admin`. */
  readonly prefix: string;
  readonly idp: TestIdp;
  /** Stops pika only (it waits for pending upstream revocations); the IdP keeps running. */
  closePika(): Promise<void>;
  close(): Promise<void>;
}

/** Provider names whose callbacks every test client accepts. */
export const PROVIDER_NAMES = ['idp', 'plain', 'nopkce', 'public', 'second'] as const;
export const SECRETS = { discovery: 'discovery-client-secret', explicit: 'explicit-client-secret', nopkce: 'nopkce-client-secret' } as const;

export async function startOidcWorld(options: { env?: Record<string, string>; deps?: Partial<AppDeps>; idp?: Partial<TestIdpOptions> } = {}): Promise<OidcWorld> {
  const t = await startTestApp({ ...(options.env ? { env: options.env } : {}), ...(options.deps ? { deps: options.deps } : {}) });
  const admin = await t.bootstrapAdmin();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}${t.config.server.basePath}`;
  const idp = await startTestIdp({ clients: defaultClients(base), ...options.idp });
  let pikaClosed: Promise<void> | undefined;
  const closePika = () => (pikaClosed ??= t.close());
  return {
    t,
    admin,
    base,
    prefix: t.config.server.basePath,
    idp,
    closePika,
    async close() {
      await closePika();
      await idp.close();
    },
  };
}

export function defaultClients(base: string): TestClient[] {
  const redirect_uris = PROVIDER_NAMES.map((name) => `${base}/login/callback/${name}`);
  return [
    { client_id: 'pika-discovery', client_secret: SECRETS.discovery, redirect_uris },
    { client_id: 'pika-explicit', client_secret: SECRETS.explicit, token_auth_method: 'client_secret_post', redirect_uris },
    { client_id: 'pika-nopkce', client_secret: SECRETS.nopkce, pkce: false, redirect_uris },
    { client_id: 'pika-public', redirect_uris },
  ];
}

/** An OIDC provider found by discovery (`issuer_url`). */
export function discoveryProvider(idp: TestIdp, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'idp', display_name: 'Test IdP', client_id: 'pika-discovery', client_secret: SECRETS.discovery, issuer_url: idp.issuer, scopes: ['openid', 'profile', 'email', 'groups'], ...overrides };
}

/** A plain OAuth2 provider with explicit endpoint URLs and client_secret_post. */
export function explicitProvider(idp: TestIdp, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'plain',
    client_id: 'pika-explicit',
    client_secret: SECRETS.explicit,
    token_auth_method: 'post',
    auth_url: `${idp.issuer}/auth`,
    token_url: `${idp.issuer}/token`,
    userinfo_url: `${idp.issuer}/me`,
    scopes: ['openid', 'profile', 'email', 'groups'],
    ...overrides,
  };
}

/** Replaces the auth settings section (providers plus anything else given) and insists on 200. */
export async function setAuth(world: OidcWorld, auth: { oauth2: Record<string, unknown>[] } & Record<string, unknown>): Promise<void> {
  const res = await world.admin.post(`${world.prefix}/api/v1/settings`, { auth });
  expect(res.status, res.body).toBe(200);
}

export interface SignInResult {
  readonly callback: URL;
  readonly response: Response;
  readonly status: number;
  readonly location: string;
  /** `pika_session=…`, when the sign-in succeeded. */
  readonly cookie: string | undefined;
  readonly jar: CookieJar;
}

/** Runs a whole sign-in as `login` through provider `name` and requests pika's callback. */
export async function signIn(world: OidcWorld, name: string, login: string, options: { returnTo?: string; jar?: CookieJar } = {}): Promise<SignInResult> {
  const jar = options.jar ?? new CookieJar();
  const query = options.returnTo === undefined ? '' : `?return_to=${encodeURIComponent(options.returnTo)}`;
  const account = TEST_ACCOUNTS[login];
  if (!account) throw new Error(`no test account ${login}`);
  const callback = await runToCallback(`${world.base}/login/oauth2/${name}${query}`, { login, password: account.password }, jar);
  return finishCallback(callback, jar);
}

/** Requests a callback URL with a jar's cookies, as the browser would. */
export async function finishCallback(callback: URL, jar: CookieJar, headers: Record<string, string> = {}): Promise<SignInResult> {
  const response = await browse(callback, jar, { headers });
  const session = response.headers.getSetCookie().find((c) => c.startsWith('pika_session='));
  return { callback, response, status: response.status, location: response.headers.get('location') ?? '', cookie: session?.split(';')[0], jar };
}

/** The sign-in audit entries (`login.*`), oldest first, as `{action, actor, target, status, detail}`. */
export async function loginAudit(world: OidcWorld): Promise<Record<string, unknown>[]> {
  const res = await world.admin.get(`${world.prefix}/api/v1/audit?action=login.&_limit=1000`);
  expect(res.status, res.body).toBe(200);
  const entries = (res.json as { entries: Record<string, unknown>[] }).entries.filter((e) => e.action !== 'login.register');
  return entries.reverse().map(({ action, actor, target, status, detail }) => ({ action, actor, target, status, detail }));
}
