import { afterEach, describe, expect, it } from 'vitest';
import { dumpStore } from '../../test-support/identity-fixtures.ts';
import { discoveryProvider, explicitProvider, type OidcWorld, setAuth, signIn, startOidcWorld } from '../../test-support/oidc-provider-fixtures.ts';

const worlds: OidcWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close();
});

async function start(options: Parameters<typeof startOidcWorld>[0] = {}): Promise<OidcWorld> {
  const w = await startOidcWorld(options);
  worlds.push(w);
  return w;
}

async function me(w: OidcWorld, cookie: string | undefined) {
  expect(cookie, 'no session cookie').toMatch(/^pika_session=[A-Za-z0-9_-]{43}$/);
  const res = await w.t.request({ url: `${w.prefix}/api/v1/me`, cookie: cookie ?? '' });
  expect(res.status, res.body).toBe(200);
  return res.json.user;
}

/** The IdP authorization URL pika redirects a browser to. */
async function authorizationUrl(w: OidcWorld, name: string): Promise<URL> {
  const res = await w.t.request({ url: `/login/oauth2/${name}` });
  expect(res.status, res.body).toBe(302);
  return new URL(String(res.headers.location));
}

describe('OAuth2/OIDC sign-in: providers and the code flow', () => {
  it('signs in through a discovered OIDC provider and an explicit-URL OAuth2 provider configured at once', async () => {
    const w = await start();
    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { auto_create_user: true }), explicitProvider(w.idp, { auto_create_user: true })] });
    const info = await w.t.request({ url: '/login/info' });
    expect(info.json.strategies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'idp', kind: 'oauth2', label: 'Test IdP', url: '/login/oauth2/idp' }),
        expect.objectContaining({ name: 'plain', kind: 'oauth2', label: 'plain', url: '/login/oauth2/plain' }),
      ]),
    );

    const alice = await signIn(w, 'idp', 'alice');
    expect({ status: alice.status, location: alice.location }).toEqual({ status: 302, location: '/' });
    expect(alice.response.headers.getSetCookie().find((c) => c.startsWith('pika_session='))).toMatch(/HttpOnly/i);
    expect(await me(w, alice.cookie)).toMatchObject({ username: 'alice', external: true, email: 'alice@example.test' });

    // Plain OAuth2: no ID token is used, the subject comes from userinfo; client_secret_post.
    const bob = await signIn(w, 'plain', 'bob');
    expect(bob.status).toBe(302);
    expect(await me(w, bob.cookie)).toMatchObject({ username: 'bob.smith', external: true, display_name: 'Bob Smith' });
  });

  it('sends PKCE S256, a state and a nonce; disable_pkce sends no challenge', async () => {
    const w = await start();
    await setAuth(w, { oauth2: [discoveryProvider(w.idp), discoveryProvider(w.idp, { name: 'nopkce', client_id: 'pika-nopkce', client_secret: 'nopkce-client-secret', disable_pkce: true })] });
    const withPkce = await authorizationUrl(w, 'idp');
    expect(withPkce.origin).toBe(w.idp.issuer);
    expect(withPkce.searchParams.get('code_challenge_method')).toBe('S256');
    expect(withPkce.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(withPkce.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(withPkce.searchParams.get('nonce')).toMatch(/.{16,}/);
    expect(withPkce.searchParams.get('scope')).toBe('openid profile email groups');
    expect(withPkce.searchParams.get('redirect_uri')).toBe('http://localhost:80/login/callback/idp');

    const without = await authorizationUrl(w, 'nopkce');
    expect(without.searchParams.has('code_challenge')).toBe(false);
    expect(without.searchParams.has('code_challenge_method')).toBe(false);
  });

  it('completes a disable_pkce sign-in where the IdP allows it, and fails where the IdP requires PKCE', async () => {
    const w = await start();
    const strict = discoveryProvider(w.idp, { name: 'second', disable_pkce: true, auto_create_user: true });
    const lax = discoveryProvider(w.idp, { name: 'nopkce', client_id: 'pika-nopkce', client_secret: 'nopkce-client-secret', disable_pkce: true, auto_create_user: true });
    await setAuth(w, { oauth2: [strict, lax] });
    const ok = await signIn(w, 'nopkce', 'alice');
    expect(await me(w, ok.cookie)).toMatchObject({ username: 'alice' });

    const refused = await signIn(w, 'second', 'alice');
    expect({ status: refused.status, location: refused.location, cookie: refused.cookie }).toEqual({ status: 302, location: '/?login_error=ERR_EXTERNAL_LOGIN_FAILED', cookie: undefined });
  });

  it('authenticates at the token endpoint per token_auth_method, and as a public client without a secret', async () => {
    const w = await start();
    const publicClient = discoveryProvider(w.idp, { name: 'public', client_id: 'pika-public', client_secret: undefined, auto_create_user: true });
    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { auto_create_user: true }), explicitProvider(w.idp, { auto_create_user: true }), publicClient] });
    expect((await signIn(w, 'idp', 'alice')).status).toBe(302);
    expect((await signIn(w, 'plain', 'bob')).status).toBe(302);
    expect(await me(w, (await signIn(w, 'public', 'carol')).cookie)).toMatchObject({ username: 'sub-carol' });
    expect(w.idp.tokenAuthMethods).toEqual(['basic', 'post', 'none']);

    // A wrong secret is the IdP's to refuse; the browser lands on the UI with the error code.
    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { client_secret: 'not-the-secret', auto_create_user: true })] });
    const refused = await signIn(w, 'idp', 'alice');
    expect({ location: refused.location, cookie: refused.cookie }).toEqual({ location: '/?login_error=ERR_EXTERNAL_LOGIN_FAILED', cookie: undefined });
  });

  it('takes identity fields from userinfo over the ID token, and from the ID token when there is no userinfo', async () => {
    const w = await start();
    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { auto_create_user: true })] });
    expect(await me(w, (await signIn(w, 'idp', 'alice')).cookie)).toMatchObject({ display_name: 'Alice Liddell' });

    const other = await start({ idp: { userinfo: false } });
    await setAuth(other, { oauth2: [discoveryProvider(other.idp, { auto_create_user: true })] });
    expect(await me(other, (await signIn(other, 'idp', 'alice')).cookie)).toMatchObject({ display_name: 'Alice (ID token)', email: 'alice@example.test' });
  });

  it('collects roles from roles_claims, fanning out over `*`, into the session', async () => {
    const w = await start();
    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { auto_create_user: true, roles_claims: ['groups', 'resource_access.*.roles', 'no.such.path'] })] });
    expect((await signIn(w, 'idp', 'alice')).status).toBe(302);
    const sessions = (await dumpStore(w.t.store, 'id/session/')).map((e) => JSON.parse(e.value));
    const external = sessions.find((s) => s.provider === 'idp');
    expect(external).toMatchObject({ subject: 'sub-alice', roles: ['admins', 'readers', 'editor', 'viewer', 'manage-account'] });
  });

  it('revokes the upstream access token after signing in, where the IdP advertises revocation', async () => {
    const w = await start();
    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { auto_create_user: true }), explicitProvider(w.idp, { auto_create_user: true })] });
    // Explicit URLs name no revocation endpoint: that token must stay untouched.
    expect((await signIn(w, 'plain', 'bob')).status).toBe(302);
    const [explicitToken] = w.idp.issuedAccessTokens;
    expect((await signIn(w, 'idp', 'alice')).status).toBe(302);
    const discoveredToken = w.idp.issuedAccessTokens[1];
    await w.idp.waitForRevocations(1);
    expect(await w.idp.isActive(discoveredToken ?? '')).toBe(false);
    // Closing pika waits for every pending revocation, so nothing can still be on its way.
    await w.closePika();
    expect(w.idp.revocations).toBe(1);
    expect(await w.idp.isActive(explicitToken ?? '')).toBe(true);
  });

  it('returns to a same-site return_to under the base path, and to the base path otherwise', async () => {
    const w = await start({ env: { PIKA_SERVER_BASE_PATH: '/pika' } });
    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { auto_create_user: true })] });
    const kept = await signIn(w, 'idp', 'alice', { returnTo: '/pika/api/v1/me?x=1' });
    expect(kept.callback.pathname).toBe('/pika/login/callback/idp');
    expect(kept.location).toBe('/pika/api/v1/me?x=1');
    for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/elsewhere', '/pika/../elsewhere']) {
      expect((await signIn(w, 'idp', 'alice', { returnTo: evil })).location, evil).toBe('/pika/');
    }
  });
});
