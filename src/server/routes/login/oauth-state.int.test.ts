import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { dumpStore, expectError, manualClock } from '../../test-support/identity-fixtures.ts';
import { browse, CookieJar, runToCallback } from '../../test-support/oidc-provider-browser.ts';
import { discoveryProvider, explicitProvider, finishCallback, loginAudit, type OidcWorld, setAuth, startOidcWorld } from '../../test-support/oidc-provider-fixtures.ts';

let world: OidcWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function start(options: Parameters<typeof startOidcWorld>[0] = {}): Promise<OidcWorld> {
  world = await startOidcWorld(options);
  await setAuth(world, { oauth2: [discoveryProvider(world.idp, { auto_create_user: true })] });
  return world;
}

const ALICE = { login: 'alice', password: 'alice-pass' };
const STATE_ERROR = '/?login_error=ERR_OAUTH_STATE';

/** Starts a flow in `jar` and returns the IdP authorization URL (with pika's state). */
async function begin(w: OidcWorld, jar: CookieJar, name = 'idp'): Promise<URL> {
  const res = await browse(new URL(`${w.base}/login/oauth2/${name}`), jar);
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location') ?? '');
}

const failures = async (w: OidcWorld) => (await loginAudit(w)).filter((e) => e.action === 'login.failure').map((e) => e.detail);

describe('OAuth2 sign-in: state, replay, expiry and browser binding', () => {
  it('refuses a tampered or missing state, and the real flow still completes', async () => {
    const w = await start();
    const jar = new CookieJar();
    const callback = await runToCallback(`${w.base}/login/oauth2/idp`, ALICE, jar);
    const tampered = new URL(callback);
    tampered.searchParams.set('state', randomBytes(32).toString('base64url'));
    expect((await finishCallback(tampered, jar)).location).toBe(STATE_ERROR);
    const missing = new URL(callback);
    missing.searchParams.delete('state');
    expect((await finishCallback(missing, jar)).location).toBe(STATE_ERROR);

    const real = await finishCallback(callback, jar);
    expect(real.location).toBe('/');
    expect(real.cookie).toBeDefined();
    expect(await failures(w)).toEqual(['state_unknown', 'state_missing']);
  });

  it('refuses a replayed callback: a state is used once', async () => {
    const w = await start();
    const jar = new CookieJar();
    const callback = await runToCallback(`${w.base}/login/oauth2/idp`, ALICE, jar);
    expect((await finishCallback(callback, jar)).cookie).toBeDefined();
    const replay = await finishCallback(callback, jar);
    expect({ location: replay.location, cookie: replay.cookie }).toEqual({ location: STATE_ERROR, cookie: undefined });
    expect(await failures(w)).toEqual(['state_replayed']);
  });

  it('refuses a flow older than ten minutes', async () => {
    const clock = manualClock(Date.now());
    const w = await start({ deps: { clock: clock.now } });
    const jar = new CookieJar();
    const callback = await runToCallback(`${w.base}/login/oauth2/idp`, ALICE, jar);
    clock.advance(10 * 60_000 + 1);
    expect((await finishCallback(callback, jar)).location).toBe(STATE_ERROR);
    expect(await failures(w)).toEqual(['state_expired']);
  });

  it('refuses the callback in another browser, and the browser that started it can still finish', async () => {
    const w = await start();
    const jar = new CookieJar();
    const callback = await runToCallback(`${w.base}/login/oauth2/idp`, ALICE, jar);
    expect(jar.get('pika_session_oauth')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await finishCallback(callback, new CookieJar())).location).toBe(STATE_ERROR);
    const forged = new CookieJar();
    forged.set(callback, 'pika_session_oauth', randomBytes(32).toString('base64url'), '/login/');
    expect((await finishCallback(callback, forged)).location).toBe(STATE_ERROR);

    expect((await finishCallback(callback, jar)).location).toBe('/');
    expect(await failures(w)).toEqual(['browser_mismatch', 'browser_mismatch']);
  });

  it('keeps two sign-ins started in one browser (two tabs) apart', async () => {
    const w = await start();
    // The explicit-URL provider, which revokes nothing: oidc-provider revokes a whole grant
    // (both tabs' codes) when one of its access tokens is revoked.
    await setAuth(w, { oauth2: [explicitProvider(w.idp, { auto_create_user: true })] });
    const jar = new CookieJar();
    const first = await begin(w, jar, 'plain');
    const second = await begin(w, jar, 'plain');
    expect(first.searchParams.get('state')).not.toBe(second.searchParams.get('state'));
    const callbacks = [await runToCallback(first.href, ALICE, jar), await runToCallback(second.href, ALICE, jar)];
    for (const callback of callbacks) expect((await finishCallback(callback, jar)).location).toBe('/');
    expect(await failures(w)).toEqual([]);
  });

  it('passes an IdP error on to the UI, without a session', async () => {
    const w = await start();
    const jar = new CookieJar();
    const state = (await begin(w, jar)).searchParams.get('state') ?? '';
    const denied = await finishCallback(new URL(`${w.base}/login/callback/idp?error=access_denied&error_description=no%20way&state=${state}`), jar);
    expect({ location: denied.location, cookie: denied.cookie }).toEqual({ location: '/?login_error=ERR_EXTERNAL_LOGIN_FAILED', cookie: undefined });
    expect(await failures(w)).toEqual(['idp_error:access_denied']);
  });

  it('answers JSON clients with JSON: the authorization URL, the signed-in user, catalog errors', async () => {
    const w = await start();
    const json = { accept: 'application/json' };
    const jar = new CookieJar();
    const started = await browse(new URL(`${w.base}/login/oauth2/idp?return_to=/api/v1/me`), jar, { headers: json });
    expect(started.status).toBe(200);
    const { authorization_url: authorizationUrl } = (await started.json()) as { authorization_url: string };
    expect(new URL(authorizationUrl).origin).toBe(w.idp.issuer);
    const done = await finishCallback(await runToCallback(authorizationUrl, ALICE, jar), jar, json);
    expect(done.status).toBe(200);
    expect(await done.response.json()).toMatchObject({ user: { username: 'alice', external: true }, return_to: '/api/v1/me' });
    expect(done.cookie).toBeDefined();

    expectError(await w.t.request({ url: '/login/callback/idp?state=nope&code=x', headers: { accept: 'application/json' } }), 400, 'ERR_OAUTH_STATE');
  });

  it('answers unknown providers with 404, for the start and the callback alike', async () => {
    const w = await start();
    expectError(await w.t.request({ url: '/login/oauth2/nope' }), 404, 'ERR_ROUTE_NOT_FOUND');
    expectError(await w.t.request({ url: '/login/callback/nope?state=x&code=y' }), 404, 'ERR_ROUTE_NOT_FOUND');
  });

  it('stores only a hash of the state, and prunes expired flows', async () => {
    const clock = manualClock(Date.now());
    const w = await start({ deps: { clock: clock.now } });
    const state = (await begin(w, new CookieJar())).searchParams.get('state') ?? '';
    const stored = await dumpStore(w.t.store, 'id/oauthstate/');
    expect(stored.map((e) => e.key)).toEqual([`id/oauthstate/${createHash('sha256').update(state).digest('hex')}`]);
    expect(stored[0]?.value).not.toContain(state);

    clock.advance(11 * 60_000);
    const next = (await begin(w, new CookieJar())).searchParams.get('state') ?? '';
    expect((await dumpStore(w.t.store, 'id/oauthstate/')).map((e) => e.key)).toEqual([`id/oauthstate/${createHash('sha256').update(next).digest('hex')}`]);
  });
});
