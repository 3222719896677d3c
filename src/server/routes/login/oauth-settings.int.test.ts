import { afterEach, describe, expect, it } from 'vitest';
import { dumpStore, saveConfig } from '../../test-support/identity-fixtures.ts';
import { runToCallback, CookieJar } from '../../test-support/oidc-provider-browser.ts';
import { defaultClients, discoveryProvider, explicitProvider, finishCallback, loginAudit, type OidcWorld, SECRETS, setAuth, signIn, startOidcWorld } from '../../test-support/oidc-provider-fixtures.ts';
import { startTestIdp, type TestIdp } from '../../test-support/oidc-provider.ts';

let world: OidcWorld | undefined;
let extraIdp: TestIdp | undefined;
afterEach(async () => {
  await world?.close();
  await extraIdp?.close();
  world = undefined;
  extraIdp = undefined;
});

async function start(): Promise<OidcWorld> {
  world = await startOidcWorld();
  return world;
}

async function strategies(w: OidcWorld): Promise<string[]> {
  return (await w.t.request({ url: '/login/info' })).json.strategies.map((s: { name: string }) => s.name);
}

async function redirectOrigin(w: OidcWorld, name: string): Promise<string> {
  const res = await w.t.request({ url: `/login/oauth2/${name}` });
  expect(res.status, res.body).toBe(302);
  return new URL(String(res.headers.location)).origin;
}

async function permissionsOf(w: OidcWorld, cookie: string | undefined): Promise<string[]> {
  const res = await w.t.request({ url: '/api/v1/me', cookie: cookie ?? '' });
  expect(res.status, res.body).toBe(200);
  return res.json.permissions;
}

describe('OAuth2 providers in the settings', () => {
  it('hot-swaps providers: added, repointed and removed without a restart', async () => {
    const w = await start();
    expect(await strategies(w)).toEqual(['local']);
    expect((await w.t.request({ url: '/login/oauth2/idp' })).status).toBe(404);

    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { auto_create_user: true })] });
    expect(await strategies(w)).toEqual(['local', 'idp']);
    expect(await redirectOrigin(w, 'idp')).toBe(w.idp.issuer);

    extraIdp = await startTestIdp({ clients: defaultClients(w.base) });
    await setAuth(w, { oauth2: [discoveryProvider(extraIdp, { auto_create_user: true })] });
    expect(await redirectOrigin(w, 'idp')).toBe(extraIdp.issuer);
    expect((await signIn(w, 'idp', 'alice')).location).toBe('/');
    expect(extraIdp.issuedAccessTokens).toHaveLength(1);
    expect(w.idp.issuedAccessTokens).toHaveLength(0);

    await setAuth(w, { oauth2: [] });
    expect(await strategies(w)).toEqual(['local']);
    expect((await w.t.request({ url: '/login/oauth2/idp' })).json.code).toBe('ERR_ROUTE_NOT_FOUND');
  });

  it('maps roles to capabilities for OIDC sessions when auth.permissions.enforce is on', async () => {
    const w = await start();
    await saveConfig(w.admin, 'team/app');
    const provider = discoveryProvider(w.idp, { auto_create_user: true, roles_claims: ['groups', 'resource_access.*.roles'] });
    const mapping = { admins: ['files.read'], editor: ['tokens.manage'], nobody: ['files.write'] };
    await setAuth(w, { oauth2: [provider], permissions: { enforce: false, mapping } });
    const before = await signIn(w, 'idp', 'alice');
    // Enforcement off: the auto-created user holds only its own (empty) rights.
    expect(await permissionsOf(w, before.cookie)).toEqual([]);

    await setAuth(w, { oauth2: [provider], permissions: { enforce: true, mapping } });
    const alice = await signIn(w, 'idp', 'alice');
    expect((await permissionsOf(w, alice.cookie)).sort()).toEqual(['files.read', 'tokens.manage']);
    expect((await w.t.request({ url: '/api/v1/file/team/app', cookie: alice.cookie ?? '' })).status).toBe(200);
    const write = await w.t.request({ method: 'POST', url: '/api/v1/file/team/app', cookie: alice.cookie ?? '', body: { meta: { format: 'json' }, content: '{}' } });
    expect(write.status).toBe(403);

    const bob = await signIn(w, 'idp', 'bob');
    expect(await permissionsOf(w, bob.cookie)).toEqual([]);
    expect((await w.t.request({ url: '/api/v1/file/team/app', cookie: bob.cookie ?? '' })).status).toBe(403);
  });

  it('audits every sign-in and refusal, without codes, states or tokens', async () => {
    const w = await start();
    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { auto_create_user: true }), explicitProvider(w.idp)] });
    const jar = new CookieJar();
    const callback = await runToCallback(`${w.base}/login/oauth2/idp`, { login: 'alice', password: 'alice-pass' }, jar);
    expect((await finishCallback(callback, jar)).location).toBe('/');
    expect((await finishCallback(callback, jar)).location).toBe('/?login_error=ERR_OAUTH_STATE');
    expect((await signIn(w, 'plain', 'bob')).location).toBe('/?login_error=ERR_EXTERNAL_NOT_LINKED');

    expect(await loginAudit(w)).toEqual([
      { action: 'login.success', actor: 'alice', target: 'oauth2:idp', status: 302, detail: 'created' },
      { action: 'login.failure', actor: 'anonymous', target: 'oauth2:idp', status: 400, detail: 'state_replayed' },
      { action: 'login.failure', actor: 'plain:sub-bob', target: 'oauth2:plain', status: 403, detail: 'not_linked' },
    ]);
    const everything = (await dumpStore(w.t.store)).map((e) => `${e.key} ${e.value}`).join('\n');
    const secrets = [callback.searchParams.get('code'), callback.searchParams.get('state'), ...w.idp.issuedAccessTokens];
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });

  it('keeps the client secret sealed in the store once the server key is initialized', async () => {
    const w = await start();
    expect((await w.admin.post('/api/v1/key/initialize', { key: 'correct horse battery staple' })).status).toBe(200);
    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { auto_create_user: true })] });
    const stored = (await dumpStore(w.t.store, 'settings/')).map((e) => e.value).join('\n');
    expect(stored).not.toContain(SECRETS.discovery);
    expect(stored).toContain('$sealed');
    const view = (await w.admin.get('/api/v1/settings')).json.auth.oauth2[0];
    expect(view).toMatchObject({ name: 'idp', client_secret_set: true });
    expect(view).not.toHaveProperty('client_secret');

    // The sealed secret still authenticates pika at the IdP, also after an edit that leaves it blank.
    expect((await signIn(w, 'idp', 'alice')).location).toBe('/');
    const { client_secret: _kept, ...withoutSecret } = discoveryProvider(w.idp, { auto_create_user: true, display_name: 'Renamed' });
    await setAuth(w, { oauth2: [withoutSecret] });
    expect((await signIn(w, 'idp', 'bob')).location).toBe('/');
  });

  it('sends the browser back with ERR_OAUTH_PROVIDER when a provider is unreachable or unsafe', async () => {
    const w = await start();
    const cases = [
      ['down', discoveryProvider(w.idp, { name: 'second', issuer_url: 'http://127.0.0.1:1' }), 'discovery_failed'],
      ['remote http', discoveryProvider(w.idp, { name: 'second', issuer_url: 'http://idp.example.test' }), 'insecure_url'],
      ['no token URL', explicitProvider(w.idp, { name: 'second', token_url: undefined }), 'incomplete_settings'],
      ['plain OAuth2 without userinfo', explicitProvider(w.idp, { name: 'second', userinfo_url: undefined }), 'incomplete_settings'],
    ] as const;
    for (const [label, provider] of cases) {
      await setAuth(w, { oauth2: [provider] });
      const res = await w.t.request({ url: '/login/oauth2/second' });
      expect({ status: res.status, location: res.headers.location }, label).toEqual({ status: 302, location: '/?login_error=ERR_OAUTH_PROVIDER' });
    }
    expect((await loginAudit(w)).map((e) => e.detail)).toEqual(cases.map(([, , reason]) => reason));
  });
});
