/**
 * The LDAP strategy as a runtime setting (seed 002: "configured at runtime in the settings
 * document and hot-swapped without a restart"): renaming, disabling and re-pointing it between
 * requests, groups → capabilities, just-in-time grants from a user-sync source, and the sealed
 * bind password.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { cookieOf, createBundle, dumpStore, expectError } from '../../test-support/identity-fixtures.ts';
import { ldapBlock, ldapSignIn, saveAuth, STRATEGY, syncSource } from '../../test-support/slapd-fixtures.ts';
import { ADMIN_PASSWORD, GROUPS_DN, groupDn, PEOPLE, personDn, type Slapd, startSlapd } from '../../test-support/slapd.ts';
import { asClient } from '../../test-support/totp-fixtures.ts';

let slapd: Slapd;
let t: TestApp;
let admin: Client;

beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd.stop();
});
afterEach(async () => {
  await t.close();
});

async function start(): Promise<void> {
  t = await startTestApp();
  admin = await t.bootstrapAdmin();
}

async function signedIn(username: keyof typeof PEOPLE, url?: string): Promise<Client> {
  const res = await ldapSignIn(t, username, PEOPLE[username].password, url);
  expect(res.status, res.body).toBe(200);
  return asClient(t, cookieOf(res));
}

describe('hot-swapping the LDAP strategy', () => {
  it('follows renames, disabling, filter and address changes on the very next request', async () => {
    await start();
    await saveAuth(admin, { ldap: ldapBlock(slapd) });
    expect((await t.request({ url: '/login/info' })).json.strategies).toContainEqual(expect.objectContaining({ name: STRATEGY, url: `/login/pass/${STRATEGY}` }));
    await signedIn('alice');

    await saveAuth(admin, { ldap: ldapBlock(slapd, { name: 'directory' }) });
    expectError(await ldapSignIn(t, 'alice', PEOPLE.alice.password), 404, 'ERR_ROUTE_NOT_FOUND');
    await signedIn('bob', '/login/pass/directory');

    await saveAuth(admin, { ldap: ldapBlock(slapd, { user_filter: '(mail={username})' }) });
    expect((await ldapSignIn(t, 'bob@example.test', PEOPLE.bob.password)).status).toBe(200);
    expectError(await ldapSignIn(t, 'bob', PEOPLE.bob.password), 401, 'ERR_INVALID_CREDENTIALS');

    await saveAuth(admin, { ldap: ldapBlock(slapd, { address: slapd.deadUrl }) });
    expectError(await ldapSignIn(t, 'bob', PEOPLE.bob.password), 502, 'ERR_LDAP_UNAVAILABLE');

    await saveAuth(admin, { ldap: ldapBlock(slapd, { enabled: false }) });
    expectError(await ldapSignIn(t, 'alice', PEOPLE.alice.password), 404, 'ERR_ROUTE_NOT_FOUND');
    expect((await t.request({ url: '/login/info' })).json.strategies.map((s: { name: string }) => s.name)).toEqual(['local']);
  });
});

describe('groups and permissions', () => {
  const mapping = { admins: ['settings.manage', 'users.manage'], [groupDn('readers')]: ['files.read'] };

  it.each([
    ['memberOf', {}],
    ['a group search', { attributes: { groups: '' }, group_base_dn: GROUPS_DN, group_filter: '(member={dn})' }],
  ])('maps directory groups read via %s to capabilities when enforcement is on', async (_how, groups) => {
    await start();
    await saveAuth(admin, { ldap: ldapBlock(slapd, groups), permissions: { enforce: true, mapping } });
    const alice = await signedIn('alice');
    const bob = await signedIn('bob');
    expect((await alice.get('/api/v1/settings')).status).toBe(200);
    expectError(await bob.get('/api/v1/settings'), 403, 'ERR_FORBIDDEN');
    expect((await bob.get('/api/v1/info')).json.permissions).toEqual(['files.read']); // readers, named by DN
    const effective = (await admin.get('/api/v1/users-effective/alice')).json;
    expect(effective.roles).toEqual(expect.arrayContaining(['admins', 'readers', groupDn('admins'), groupDn('readers')]));

    // Enforcement off: an LDAP user keeps only their own (here: no) rights.
    await saveAuth(admin, { ldap: ldapBlock(slapd, groups), permissions: { enforce: false, mapping } });
    expectError(await alice.get('/api/v1/settings'), 403, 'ERR_FORBIDDEN');
  });

  it('applies the sync source mapping just in time, and the sync recognises the user as its own', async () => {
    await start();
    const editors = await createBundle(admin, { key: 'editors', keys: ['files.read', 'files.write'] });
    const source = syncSource(slapd, 'people', { group_permissions: { admins: ['editors'], readers: ['no-such-bundle'] } });
    await saveAuth(admin, { ldap: ldapBlock(slapd, { sync_source: 'people' }), user_sync: [source] });
    const alice = await signedIn('alice');
    expect((await alice.get('/api/v1/info')).json.permissions).toEqual(expect.arrayContaining(['files.read', 'files.write']));
    expect((await admin.get(`/api/v1/users?permission_id=${editors}`)).json.users.map((u: { username: string }) => u.username)).toEqual(['alice']);
    const links = (await admin.get('/api/v1/users-identities/alice')).json.identities.map((i: { provider: string }) => i.provider);
    expect(links.sort()).toEqual(['corp', 'ldap:people']);

    // The sync adopts alice instead of creating a second user.
    const run = await admin.post('/api/v1/user-sync/run/people');
    expect(run.status, run.body).toBe(200);
    expect(run.json).toMatchObject({ created: 2, unchanged: 1, errors: ['group_permissions: unknown permission bundle "no-such-bundle" (group "readers")'] });
    expect((await admin.get('/api/v1/users?username=alice')).json.total).toBe(1);
  });

  it('lets a user created by the sync sign in through LDAP when sync_source names that source', async () => {
    await start();
    await saveAuth(admin, { ldap: ldapBlock(slapd, { auto_create_user: false }), user_sync: [syncSource(slapd, 'people')] });
    expect((await admin.post('/api/v1/user-sync/run/people')).json.created).toBe(3);
    // Separate namespaces until the administrator ties them together: still fail-closed.
    expectError(await ldapSignIn(t, 'bob', PEOPLE.bob.password), 403, 'ERR_EXTERNAL_NOT_LINKED');
    await saveAuth(admin, { ldap: ldapBlock(slapd, { auto_create_user: false, sync_source: 'people' }), user_sync: [syncSource(slapd, 'people')] });
    const bob = await signedIn('bob');
    expect((await bob.get('/api/v1/me')).json.user.username).toBe('bob');
    expect((await admin.get('/api/v1/users?username=bob')).json.total).toBe(1);
  });
});

describe('the bind password', () => {
  it('is sealed in the store once the server key is initialized, and still used for sign-in', async () => {
    await start();
    const secret = 'only-the-directory-knows-this';
    // Before initialization secrets are stored as `$plain` (SPEC §7.2, opt-in encryption)…
    await saveAuth(admin, { ldap: ldapBlock(slapd, { bind_password: secret }) });
    expect(JSON.stringify(await dumpStore(t.store))).toContain(secret);
    expect((await admin.post('/api/v1/key/initialize', { key: 'correct horse battery staple' })).status).toBe(200);
    // …initialization re-seals them, and new ones are sealed when written.
    expect(JSON.stringify(await dumpStore(t.store))).not.toContain(secret);
    await saveAuth(admin, { ldap: ldapBlock(slapd) });
    const everything = JSON.stringify(await dumpStore(t.store));
    expect(everything).not.toContain(ADMIN_PASSWORD);
    expect(everything).toContain('$sealed');
    const view = (await admin.get('/api/v1/settings')).json.auth.ldap;
    expect(view).toMatchObject({ bind_password_set: true });
    expect(view).not.toHaveProperty('bind_password');
    // The server reveals it for its own use: the service bind works.
    await signedIn('carol');
    expect((await admin.get('/api/v1/users-identities/carol')).json.identities[0].subject).toBe(personDn('carol'));
  });
});
