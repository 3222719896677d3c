/**
 * LDAP sign-in against a real slapd (issue acceptance 2; seed 002): transports, refusals,
 * fail-closed linking, auditing, an unreachable directory, and the TOTP and rate-limit layers
 * that every password strategy shares.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { cookieOf, createUser, expectError, manualClock } from '../../test-support/identity-fixtures.ts';
import { LDAP_LOGIN, ldapBlock, ldapSignIn, saveAuth, STRATEGY } from '../../test-support/slapd-fixtures.ts';
import { PEOPLE, personDn, type Slapd, startSlapd } from '../../test-support/slapd.ts';
import { asClient, enrollTotp, totpCode } from '../../test-support/totp-fixtures.ts';

let slapd: Slapd;
let t: TestApp;
let admin: Client;
const clock = manualClock();

beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd.stop();
});
afterEach(async () => {
  await t.close();
});

async function start(ldap: Record<string, unknown> = {}, auth: Record<string, unknown> = {}): Promise<void> {
  clock.set(Date.parse('2030-01-01T00:00:00.000Z'));
  t = await startTestApp({ deps: { clock: clock.now } });
  admin = await t.bootstrapAdmin();
  await saveAuth(admin, { ldap: ldapBlock(slapd, ldap), ...auth });
}

async function auditOf(action: string): Promise<{ actor: string; status: number; detail?: string }[]> {
  const res = await admin.get(`/api/v1/audit?action=${action}`);
  expect(res.status, res.body).toBe(200);
  return res.json.entries;
}

describe('LDAP sign-in', () => {
  it.each([
    ['ldap://', () => ({})],
    ['ldaps://', () => ({ address: slapd.ldapsUrl, ca_pem: slapd.caPem })],
    ['StartTLS', () => ({ start_tls: true, ca_pem: slapd.caPem })],
  ])('signs alice in over %s, creating her external user on first sign-in', async (_transport, transport) => {
    await start(transport());
    const res = await ldapSignIn(t, 'alice', PEOPLE.alice.password);
    expect(res.status, res.body).toBe(200);
    expect(res.json.user).toMatchObject({ username: 'alice', email: 'alice@example.test', display_name: 'Alice Liddell', external: true, disabled: false, is_superadmin: false });
    const alice = asClient(t, cookieOf(res));
    expect((await alice.get('/api/v1/me')).json.user.username).toBe('alice');
    const sessions = await admin.get('/api/v1/users-sessions/alice');
    expect(sessions.json.sessions).toEqual([expect.objectContaining({ provider: STRATEGY })]);
    const identities = await admin.get('/api/v1/users-identities/alice');
    expect(identities.json.identities).toEqual([expect.objectContaining({ provider: STRATEGY, subject: personDn('alice') })]);

    // The second sign-in finds the link: still one user.
    expect((await ldapSignIn(t, 'alice', PEOPLE.alice.password)).status).toBe(200);
    expect((await admin.get('/api/v1/users?username=alice')).json.total).toBe(1);
  });

  it('refuses a wrong password, an unknown user and an injection attempt alike (401), and audits each', async () => {
    await start();
    const bodies: unknown[] = [];
    for (const [username, password] of [['alice', 'wrong password'], ['nobody', PEOPLE.alice.password], ['*)(uid=*', PEOPLE.alice.password], ['*', PEOPLE.bob.password]] as const) {
      const res = await ldapSignIn(t, username, password);
      expectError(res, 401, 'ERR_INVALID_CREDENTIALS');
      expect(res.headers['set-cookie']).toBeUndefined();
      const { request_id: _id, ...body } = res.json;
      bodies.push(body);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect((await admin.get('/api/v1/users')).json.total).toBe(1); // only the admin: nothing was created
    const failures = await auditOf('login.failure');
    expect(failures.map((e) => [e.actor, e.status, e.detail])).toEqual(expect.arrayContaining([['alice', 401, STRATEGY], ['nobody', 401, STRATEGY], ['*)(uid=*', 401, STRATEGY]]));
  });

  it('never lets an empty password through', async () => {
    await start();
    expectError(await ldapSignIn(t, 'alice', ''), 400, 'ERR_VALIDATION');
    expect((await admin.get('/api/v1/users')).json.total).toBe(1);
  });

  it('is fail-closed without auto-create: 403 until an administrator links the DN', async () => {
    await start({ auto_create_user: false });
    const refused = await ldapSignIn(t, 'bob', PEOPLE.bob.password);
    expectError(refused, 403, 'ERR_EXTERNAL_NOT_LINKED');
    expect((await admin.get('/api/v1/users?username=bob')).json.total).toBe(0);

    await createUser(admin, 'robert');
    const link = await admin.post('/api/v1/users-identities/robert', { provider: STRATEGY, subject: personDn('bob') });
    expect(link.status, link.body).toBe(201);
    const res = await ldapSignIn(t, 'bob', PEOPLE.bob.password);
    expect(res.status, res.body).toBe(200);
    expect(res.json.user.username).toBe('robert');
    expect((await auditOf('login.success')).map((e) => [e.actor, e.detail])).toContainEqual(['robert', STRATEGY]);
  });

  it('refuses a disabled user (403) without counting it as a wrong password', async () => {
    await start();
    expect((await ldapSignIn(t, 'carol', PEOPLE.carol.password)).status).toBe(200);
    expect((await admin.patch('/api/v1/users/carol', { disabled: true })).status).toBe(200);
    expectError(await ldapSignIn(t, 'carol', PEOPLE.carol.password), 403, 'ERR_ACCOUNT_DISABLED');
  });

  it('answers 502 ERR_LDAP_UNAVAILABLE when the directory is down, naming the cause only in the audit log', async () => {
    await start({ address: slapd.deadUrl });
    const res = await ldapSignIn(t, 'alice', PEOPLE.alice.password);
    expectError(res, 502, 'ERR_LDAP_UNAVAILABLE');
    expect(res.json.message).not.toContain('127.0.0.1');
    const [entry] = await auditOf('login.failure');
    expect(entry).toMatchObject({ actor: 'alice', status: 502 });
    expect(entry?.detail).toContain(slapd.deadUrl);
  });

  it('leaves local sign-in alone and 404s other strategy names', async () => {
    await start();
    expect((await t.request({ method: 'POST', url: '/login/pass/local', body: { username: 'admin', password: 'correct horse battery' } })).status).toBe(200);
    expectError(await ldapSignIn(t, 'alice', PEOPLE.alice.password, '/login/pass/other'), 404, 'ERR_ROUTE_NOT_FOUND');
    // 404 comes before validation: an unknown strategy tells nothing about the body it expects.
    expectError(await t.request({ method: 'POST', url: '/login/pass/other', body: {} }), 404, 'ERR_ROUTE_NOT_FOUND');
  });
});

describe('the shared password-login layers', () => {
  it('asks an LDAP user with TOTP for a code, and the session keeps the directory groups', async () => {
    await start({}, { permissions: { enforce: true, mapping: { admins: ['settings.manage'] } } });
    const first = await ldapSignIn(t, 'alice', PEOPLE.alice.password);
    const alice = asClient(t, cookieOf(first));
    const { secret } = await enrollTotp(alice, clock);

    const phaseOne = await ldapSignIn(t, 'alice', PEOPLE.alice.password);
    expect(phaseOne.json).toMatchObject({ phase: 'totp_required', strategy: STRATEGY });
    expect(phaseOne.headers['set-cookie']).toBeUndefined();
    // The code goes to the same strategy; local sign-in will not finish an LDAP challenge.
    const wrongStrategy = await t.request({ method: 'POST', url: '/login/pass/local', body: { totp_session_id: phaseOne.json.totp_session_id, code: totpCode(secret, clock.now()) } });
    expectError(wrongStrategy, 401, 'ERR_TOTP_CHALLENGE');
    const phaseTwo = await t.request({ method: 'POST', url: LDAP_LOGIN, body: { totp_session_id: phaseOne.json.totp_session_id, code: totpCode(secret, clock.now()) } });
    expect(phaseTwo.status, phaseTwo.body).toBe(200);
    const signedIn = asClient(t, cookieOf(phaseTwo));
    expect((await signedIn.get('/api/v1/settings')).status).toBe(200); // admins → settings.manage, via the session's groups
  });

  it('rate limits LDAP sign-ins like local ones (429 + Retry-After)', async () => {
    await start({}, { rate_limit: { enabled: true, ip_soft: 1, ip_hard: 5, user_soft: 1, user_hard: 5 } });
    expectError(await ldapSignIn(t, 'bob', 'wrong password'), 401, 'ERR_INVALID_CREDENTIALS');
    const limited = await ldapSignIn(t, 'bob', PEOPLE.bob.password);
    expectError(limited, 429, 'ERR_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    clock.advance(60_000);
    expect((await ldapSignIn(t, 'bob', PEOPLE.bob.password)).status).toBe(200);
    expect((await auditOf('login.rate_limited')).map((e) => e.actor)).toContain('bob');
  });
});
