/**
 * LDAP user sync against a real slapd (issue acceptance 2; seed 002 "User sync"): creating and
 * updating users, group → bundle grants, idempotence, the run and status endpoints, failures.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../storage/store.ts';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { cookieOf, createBundle, expectError } from '../../test-support/identity-fixtures.ts';
import { ldapBlock, ldapSignIn, saveAuth, syncSource } from '../../test-support/slapd-fixtures.ts';
import { groupDn, PEOPLE, personDn, type Slapd, startSlapd } from '../../test-support/slapd.ts';

let slapd: Slapd;
let t: TestApp;
let admin: Client;
let bundles: { admin: string; read: string };
/** Keys of every store write, in order (see `countingStore`). */
let writes: string[] = [];

beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd.stop();
});
afterEach(async () => {
  await t.close();
});

/** The store, with every written key recorded: "a second run writes nothing" is then checkable. */
function countingStore(store: Store): Store {
  return {
    get: (key) => store.get(key),
    put: (key, value) => { writes.push(key); return store.put(key, value); },
    del: (key) => { writes.push(key); return store.del(key); },
    batch: (ops, conditions) => { writes.push(...ops.map((op) => op.key)); return store.batch(ops, conditions); },
    iterate: (prefix, options) => store.iterate(prefix, options),
    revision: () => store.revision(),
    close: () => store.close(),
  };
}

async function start(source: Record<string, unknown> = {}, ldap?: Record<string, unknown>): Promise<void> {
  writes = [];
  t = await startTestApp({ wrapStore: countingStore });
  admin = await t.bootstrapAdmin();
  bundles = {
    admin: await createBundle(admin, { key: 'admin-bundle', keys: ['settings.manage'] }),
    read: await createBundle(admin, { key: 'read-bundle', keys: ['files.read'] }),
  };
  const mapping = { admins: [bundles.admin], [groupDn('readers')]: ['read-bundle'] };
  await saveAuth(admin, { user_sync: [syncSource(slapd, 'corp', { group_permissions: mapping, ...source }, ldap)] });
}

const run = (id = 'corp') => admin.post(`/api/v1/user-sync/run/${id}`);

async function userNamed(username: string): Promise<{ id: string; email?: string; display_name?: string; disabled: boolean; external: boolean }> {
  const res = await admin.get(`/api/v1/users/${username}`);
  expect(res.status, res.body).toBe(200);
  return res.json;
}

const grantsOf = async (username: string): Promise<string[]> => ((await admin.get(`/api/v1/user-permissions/${username}`)).json.permission_ids as string[]).sort();

describe('user sync runs', () => {
  it('creates a user per directory entry with grants from group_permissions, and reports it', async () => {
    await start();
    const res = await run();
    expect(res.status, res.body).toBe(200);
    expect(res.json).toMatchObject({ source: 'corp', trigger: 'admin', created: 3, updated: 0, disabled: 0, enabled: 0, unchanged: 0, errors: [] });
    expect(Date.parse(res.json.finished_at)).toBeGreaterThanOrEqual(Date.parse(res.json.started_at));
    expect(await userNamed('carol')).toMatchObject({ email: 'carol@example.test', display_name: 'Carol Danvers', external: true, disabled: false });
    expect(await grantsOf('alice')).toEqual([bundles.admin, bundles.read].sort());
    expect(await grantsOf('bob')).toEqual([bundles.read]);
    expect(await grantsOf('carol')).toEqual([]);
    const identities = (await admin.get('/api/v1/users-identities/bob')).json.identities;
    expect(identities).toEqual([expect.objectContaining({ provider: 'ldap:corp', subject: personDn('bob') })]);

    const status = await admin.get('/api/v1/user-sync/status');
    expect(status.json).toEqual({ sources: [{ id: 'corp', name: 'corp source', enabled: true, mode: 'manual', interval_minutes: 60, running: false, last: res.json }] });
    const audit = (await admin.get('/api/v1/audit?action=user_sync.run')).json.entries;
    expect(audit).toEqual([expect.objectContaining({ actor: 'admin', target: 'corp', status: 200, detail: 'created 3, updated 0, disabled 0, enabled 0, unchanged 0, errors 0' })]);
  });

  it('is idempotent: a second run over an unchanged directory writes no user, link or grant', async () => {
    await start();
    expect((await run()).json.created).toBe(3);
    writes = [];
    const second = await run();
    expect(second.json).toMatchObject({ created: 0, updated: 0, disabled: 0, enabled: 0, unchanged: 3, errors: [] });
    // Only the run's own bookkeeping: its stored result and its audit entries.
    expect(writes.filter((key) => !key.startsWith('sync/status/') && !key.startsWith('audit/'))).toEqual([]);
    expect(writes).toContain('sync/status/corp');
  });

  it('follows attribute and group changes in the directory, touching only its own grants', async () => {
    await start();
    await run();
    const manual = await createBundle(admin, { key: 'manual-bundle', keys: ['tokens.manage'] });
    expect((await admin.put('/api/v1/user-permissions/bob', { permission_ids: [manual] })).status).toBe(200);
    await slapd.setAttribute('carol', 'mail', 'carol.d@example.test');
    await slapd.setAttribute('carol', 'cn', 'Captain Marvel');
    await slapd.addMember('admins', 'bob');
    await slapd.removeMember('admins', 'alice');
    try {
      const res = await run();
      expect(res.json).toMatchObject({ created: 0, updated: 3, unchanged: 0 });
      expect(await userNamed('carol')).toMatchObject({ email: 'carol.d@example.test', display_name: 'Captain Marvel' });
      expect(await grantsOf('alice')).toEqual([bundles.read]);
      expect(await grantsOf('bob')).toEqual([bundles.admin, bundles.read, manual].sort());
    } finally {
      await slapd.setAttribute('carol', 'mail', PEOPLE.carol.mail!);
      await slapd.setAttribute('carol', 'cn', PEOPLE.carol.cn);
      await slapd.addMember('admins', 'alice'); // first: a groupOfNames may not be empty
      await slapd.removeMember('admins', 'bob');
    }
  });

  it('reports unknown bundles without failing the run, and reads groups by search too', async () => {
    await start({ group_permissions: { readers: ['ghost'], admins: ['admin-bundle'] } }, { attributes: { groups: '' }, group_base_dn: 'ou=groups,dc=example,dc=test' });
    const res = await run();
    expect(res.json).toMatchObject({ created: 3, errors: ['group_permissions: unknown permission bundle "ghost" (group "readers")'] });
    expect(await grantsOf('alice')).toEqual([bundles.admin]);
    expect(await grantsOf('bob')).toEqual([]);
  });
});

describe('user sync endpoints', () => {
  it('needs users.manage', async () => {
    await start();
    expectError(await t.request({ method: 'POST', url: '/api/v1/user-sync/run/corp' }), 401, 'ERR_UNAUTHENTICATED');
    await saveAuth(admin, { ldap: ldapBlock(slapd), user_sync: [syncSource(slapd, 'corp')] });
    const carol = cookieOf(await ldapSignIn(t, 'carol', PEOPLE.carol.password));
    expectError(await t.request({ method: 'POST', url: '/api/v1/user-sync/run/corp', cookie: carol }), 403, 'ERR_FORBIDDEN');
    expectError(await t.request({ url: '/api/v1/user-sync/status', cookie: carol }), 403, 'ERR_FORBIDDEN');
  });

  it('answers 404 for an unknown source and 409 for a disabled one', async () => {
    await start({ enabled: false });
    expectError(await run('nope'), 404, 'ERR_SYNC_SOURCE_NOT_FOUND');
    expectError(await run(), 409, 'ERR_SYNC_SOURCE_DISABLED');
    expect((await admin.get('/api/v1/user-sync/status')).json.sources[0]).toMatchObject({ id: 'corp', enabled: false, last: null });
  });

  it('answers 502 when the directory is down, stores the failure and changes nobody', async () => {
    await start({}, { address: slapd.deadUrl });
    const res = await run();
    expectError(res, 502, 'ERR_LDAP_UNAVAILABLE');
    expect(res.json.details.result).toMatchObject({ source: 'corp', created: 0, disabled: 0, errors: [expect.stringContaining(slapd.deadUrl)] });
    const last = (await admin.get('/api/v1/user-sync/status')).json.sources[0].last;
    expect(last.errors).toEqual(res.json.details.result.errors);
    expect((await admin.get('/api/v1/audit?action=user_sync.run')).json.entries[0]).toMatchObject({ status: 502 });
    expect((await admin.get('/api/v1/users')).json.total).toBe(1);
  });
});
