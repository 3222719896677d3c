import { afterEach, describe, expect, it } from 'vitest';
import { createUser, dumpStore } from '../../test-support/identity-fixtures.ts';
import { discoveryProvider, finishCallback, type OidcWorld, setAuth, signIn, startOidcWorld } from '../../test-support/oidc-provider-fixtures.ts';
import { CookieJar, runToCallback } from '../../test-support/oidc-provider-browser.ts';

let world: OidcWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function start(provider: Record<string, unknown> = {}): Promise<OidcWorld> {
  world = await startOidcWorld();
  await setAuth(world, { oauth2: [discoveryProvider(world.idp, provider)] });
  return world;
}

async function signedInAs(w: OidcWorld, cookie: string | undefined): Promise<string> {
  const res = await w.t.request({ url: '/api/v1/me', cookie: cookie ?? '' });
  expect(res.status, res.body).toBe(200);
  return res.json.user.username;
}

async function usernames(w: OidcWorld): Promise<string[]> {
  return (await dumpStore(w.t.store, 'id/user/')).map((e) => JSON.parse(e.value).username).sort();
}

const NOT_LINKED = '/?login_error=ERR_EXTERNAL_NOT_LINKED';

describe('OAuth2 account linking (fail-closed)', () => {
  it('refuses an unknown identity by default: no session, no user, the UI gets ERR_EXTERNAL_NOT_LINKED', async () => {
    const w = await start();
    const refused = await signIn(w, 'idp', 'alice');
    expect({ status: refused.status, location: refused.location, cookie: refused.cookie }).toEqual({ status: 302, location: NOT_LINKED, cookie: undefined });
    expect(await usernames(w)).toEqual(['admin']);
    expect(await dumpStore(w.t.store, 'id/identity/')).toEqual([]);

    // An API client asking for JSON gets the catalog error itself.
    const jar = new CookieJar();
    const callback = await runToCallback(`${w.base}/login/oauth2/idp`, { login: 'alice', password: 'alice-pass' }, jar);
    const json = await finishCallback(callback, jar, { accept: 'application/json' });
    expect(json.status).toBe(403);
    expect(await json.response.json()).toMatchObject({ code: 'ERR_EXTERNAL_NOT_LINKED', details: { reason: 'not_linked', subject: 'idp:sub-alice' } });
  });

  it('signs a linked identity in as the linked user, and refuses it once that user is disabled', async () => {
    const w = await start();
    const id = await createUser(w.admin, 'alice.local');
    expect((await w.admin.post(`/api/v1/users-identities/${id}`, { provider: 'idp', subject: 'sub-alice' })).status).toBe(201);
    expect(await signedInAs(w, (await signIn(w, 'idp', 'alice')).cookie)).toBe('alice.local');

    expect((await w.admin.patch(`/api/v1/users/${id}`, { disabled: true })).status).toBe(200);
    const refused = await signIn(w, 'idp', 'alice');
    expect({ location: refused.location, cookie: refused.cookie }).toEqual({ location: '/?login_error=ERR_ACCOUNT_DISABLED', cookie: undefined });
  });

  it('auto-creates users named by preferred_username, then the email local part, then the subject', async () => {
    const w = await start({ auto_create_user: true });
    expect(await signedInAs(w, (await signIn(w, 'idp', 'alice')).cookie)).toBe('alice');
    expect(await signedInAs(w, (await signIn(w, 'idp', 'bob')).cookie)).toBe('bob.smith');
    expect(await signedInAs(w, (await signIn(w, 'idp', 'carol')).cookie)).toBe('sub-carol');
    const alice = (await w.admin.get('/api/v1/users/alice')).json;
    expect(alice).toMatchObject({ username: 'alice', external: true, email: 'alice@example.test', display_name: 'Alice Liddell', is_superadmin: false });

    // Signing in again finds the link; nobody new is created.
    expect(await signedInAs(w, (await signIn(w, 'idp', 'alice')).cookie)).toBe('alice');
    expect(await usernames(w)).toEqual(['admin', 'alice', 'bob.smith', 'sub-carol']);
  });

  it('suffixes an auto-created username that is taken', async () => {
    const w = await start({ auto_create_user: true });
    await createUser(w.admin, 'alice');
    expect(await signedInAs(w, (await signIn(w, 'idp', 'alice')).cookie)).toBe('alice-2');
    expect(await signedInAs(w, (await signIn(w, 'idp', 'alice')).cookie)).toBe('alice-2');
  });

  it('links by verified email when the provider opts in', async () => {
    const w = await start({ link_by_verified_email: true });
    await createUser(w.admin, 'alice.local', { email: 'Alice@Example.test' });
    expect(await signedInAs(w, (await signIn(w, 'idp', 'alice')).cookie)).toBe('alice.local');
    const links = (await dumpStore(w.t.store, 'id/identity/')).map((e) => JSON.parse(e.value));
    expect(links).toEqual([expect.objectContaining({ provider: 'idp', subject: 'sub-alice' })]);
    expect(await usernames(w)).toEqual(['admin', 'alice.local']);
  });

  it('does not link by an unverified email, nor by any email when the option is off', async () => {
    const w = await start({ link_by_verified_email: true });
    await createUser(w.admin, 'bob.local', { email: 'bob.smith@example.test' });
    // bob's IdP says email_verified: false.
    expect((await signIn(w, 'idp', 'bob')).location).toBe(NOT_LINKED);

    await createUser(w.admin, 'alice.local', { email: 'alice@example.test' });
    await setAuth(w, { oauth2: [discoveryProvider(w.idp, { link_by_verified_email: false })] });
    expect((await signIn(w, 'idp', 'alice')).location).toBe(NOT_LINKED);
    expect(await dumpStore(w.t.store, 'id/identity/')).toEqual([]);
  });

  it('refuses to guess when two local users share the verified email', async () => {
    const w = await start({ link_by_verified_email: true });
    await createUser(w.admin, 'alice.one', { email: 'alice@example.test' });
    await createUser(w.admin, 'alice.two', { email: 'alice@example.test' });
    expect((await signIn(w, 'idp', 'alice')).location).toBe(NOT_LINKED);
  });
});
