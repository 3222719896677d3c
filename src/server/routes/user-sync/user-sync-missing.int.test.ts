/**
 * User sync `on_missing` (seed 002: "Reconcile missing users per the source's OnMissing policy —
 * disable by default, or ignore") against a real slapd: people leaving and coming back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { cookieOf, expectError } from '../../test-support/identity-fixtures.ts';
import { ldapBlock, ldapSignIn, saveAuth, syncSource } from '../../test-support/slapd-fixtures.ts';
import { type Person, type Slapd, startSlapd } from '../../test-support/slapd.ts';
import { asClient } from '../../test-support/totp-fixtures.ts';

let slapd: Slapd;
let t: TestApp;
let admin: Client;

/** Someone only these tests add and remove, so the shared people stay put. */
const dave: Person = { uid: 'dave', password: 'dave-secret-4444', cn: 'Dave Lister', mail: 'dave@example.test' };

beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd.stop();
});
afterEach(async () => {
  await t.close();
  await slapd.removePerson(dave.uid).catch(() => undefined);
});

async function start(onMissing: 'disable' | 'ignore'): Promise<void> {
  t = await startTestApp();
  admin = await t.bootstrapAdmin();
  await slapd.addPerson(dave, ['readers']);
  await saveAuth(admin, { ldap: ldapBlock(slapd, { sync_source: 'corp', auto_create_user: false }), user_sync: [syncSource(slapd, 'corp', { on_missing: onMissing })] });
}

const run = async () => {
  const res = await admin.post('/api/v1/user-sync/run/corp');
  expect(res.status, res.body).toBe(200);
  return res.json;
};
const daveRecord = async () => (await admin.get('/api/v1/users/dave')).json;

describe('on_missing: disable', () => {
  it('disables and signs out a user who left the directory, and re-enables them on return', async () => {
    await start('disable');
    expect(await run()).toMatchObject({ created: 4 });
    const session = asClient(t, cookieOf(await ldapSignIn(t, dave.uid, dave.password)));
    expect((await session.get('/api/v1/me')).status).toBe(200);

    await slapd.removePerson(dave.uid);
    expect(await run()).toMatchObject({ created: 0, disabled: 1, unchanged: 3, errors: [] });
    expect(await daveRecord()).toMatchObject({ disabled: true });
    expectError(await session.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    expect((await admin.get('/api/v1/users-sessions/dave')).json.sessions).toEqual([]);
    // Still gone: nothing more to do, and nothing is counted twice.
    expect(await run()).toMatchObject({ disabled: 0, unchanged: 3 });

    await slapd.addPerson(dave, ['readers']);
    expect(await run()).toMatchObject({ created: 0, enabled: 1, unchanged: 3 });
    expect(await daveRecord()).toMatchObject({ disabled: false });
    expect((await ldapSignIn(t, dave.uid, dave.password)).status).toBe(200);
  });

  it('does not re-enable a user an administrator disabled', async () => {
    await start('disable');
    await run();
    expect((await admin.patch('/api/v1/users/dave', { disabled: true })).status).toBe(200);
    expect(await run()).toMatchObject({ enabled: 0, disabled: 0, unchanged: 4 });
    expect(await daveRecord()).toMatchObject({ disabled: true });
    expectError(await ldapSignIn(t, dave.uid, dave.password), 403, 'ERR_ACCOUNT_DISABLED');
  });

  it('leaves users of other sources and local users alone', async () => {
    await start('disable');
    await run();
    // A second source over the same directory, restricted to alice: its run must not disable dave.
    const narrow = syncSource(slapd, 'alice-only', {}, { user_filter: '(&(uid={username})(uid=alice))' });
    await saveAuth(admin, { user_sync: [syncSource(slapd, 'corp'), narrow] });
    const res = await admin.post('/api/v1/user-sync/run/alice-only');
    expect(res.json).toMatchObject({ created: 1, disabled: 0 });
    expect(await daveRecord()).toMatchObject({ disabled: false });
    expect((await admin.get('/api/v1/users/admin')).json.disabled).toBe(false);
  });
});

describe('on_missing: ignore', () => {
  it('keeps a user who left the directory enabled', async () => {
    await start('ignore');
    expect(await run()).toMatchObject({ created: 4 });
    await slapd.removePerson(dave.uid);
    expect(await run()).toMatchObject({ disabled: 0, unchanged: 3 });
    expect(await daveRecord()).toMatchObject({ disabled: false });
  });
});
