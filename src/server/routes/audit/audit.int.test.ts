import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, type Client, startTestApp, type TestApp, type TestResponse } from '../../test-support/app-harness.ts';
import { createUser, dumpStore, expectError, manualClock, mint, PASSWORD, saveConfig, signedInUser } from '../../test-support/identity-fixtures.ts';

interface Entry {
  id: string;
  time: string;
  action: string;
  actor: string;
  actor_type: string;
  target?: string;
  status: number;
  ip?: string;
  request_id?: string;
}

let t: TestApp;
let admin: Client;
const clock = manualClock();
afterEach(async () => {
  await t.close();
});

async function start(): Promise<void> {
  clock.set(Date.parse('2030-01-01T00:00:00.000Z'));
  t = await startTestApp({ deps: { clock: clock.now } });
  admin = await t.bootstrapAdmin();
}

async function entries(query = ''): Promise<Entry[]> {
  const res = await admin.get(`/api/v1/audit${query}`);
  expect(res.status, res.body).toBe(200);
  return res.json.entries;
}

/** The entry written for a response, found by its request id. */
async function entryFor(res: TestResponse): Promise<Entry | undefined> {
  const id = res.headers['x-request-id'];
  return (await entries('?_limit=1000')).find((e) => e.request_id === id);
}

describe('audit entries', () => {
  it('records every write on /api/v1 with route pattern, actor, target, status, ip and request id', async () => {
    await start();
    const bob = await signedInUser(t, admin, 'bob', [{ key: 'reader', keys: ['files.read'] }]);
    const token = await mint(admin, { name: 'deployer', scopes: [{ path: '**', operations: ['*'] }] });
    const writes: [TestResponse, Partial<Entry>][] = [];
    const created = await admin.post('/api/v1/users', { username: 'carol', password: PASSWORD });
    writes.push([created, { action: 'POST /api/v1/users', actor: 'admin', actor_type: 'user', status: 201 }]);
    const carolId = created.json.id as string;
    writes.push([await admin.patch(`/api/v1/users/${carolId}`, { display_name: 'C' }), { action: 'PATCH /api/v1/users/:id', target: carolId, status: 200 }]);
    writes.push([await admin.post('/api/v1/users', { username: 'CAROL', password: PASSWORD }), { action: 'POST /api/v1/users', status: 409 }]);
    writes.push([await bob.client.post('/api/v1/file/a/b', { meta: { format: 'json' }, content: '{}' }), { action: 'POST /api/v1/file/*', actor: 'bob', target: 'a/b', status: 403 }]);
    writes.push([await t.withToken(token.raw).post('/api/v1/file/a/b', { meta: { format: 'json' }, content: '{}' }), { action: 'POST /api/v1/file/*', actor: 'token:deployer', actor_type: 'token', target: 'a/b', status: 201 }]);
    writes.push([await t.withToken(token.raw).post('/api/v1/file/a/b?variant=prod', { meta: { format: 'json' }, content: '{}' }), { target: 'a/b@prod', status: 201 }]);
    writes.push([await t.request({ method: 'DELETE', url: `/api/v1/tokens/${token.id}` }), { action: 'DELETE /api/v1/tokens/:id', actor: 'anonymous', actor_type: 'anonymous', target: token.id, status: 401 }]);
    writes.push([await admin.delete(`/api/v1/tokens/${token.id}`), { action: 'DELETE /api/v1/tokens/:id', actor: 'admin', target: token.id, status: 200 }]);
    writes.push([await admin.put(`/api/v1/users-denied/${carolId}`, { capability_keys: ['files.read'] }), { action: 'PUT /api/v1/users-denied/:user', target: carolId, status: 200 }]);
    writes.push([await admin.post(`/api/v1/users-kick/${carolId}`), { action: 'POST /api/v1/users-kick/:id', status: 200 }]);
    writes.push([await admin.post('/api/v1/me/password', { current_password: 'wrong wrong', new_password: 'whatever 12345' }), { action: 'POST /api/v1/me/password', status: 401 }]);

    for (const [res, expected] of writes) {
      const entry = await entryFor(res);
      expect([expected, entry]).toEqual([expected, expect.objectContaining({ ...expected, ip: '127.0.0.1', request_id: res.headers['x-request-id'], status: res.status })]);
      expect(entry?.id).toMatch(/^\d{20}-[0-9a-f]{8}$/);
      expect(entry?.time).toBe(new Date(clock.now()).toISOString());
    }
  });

  it('does not record reads', async () => {
    await start();
    const before = (await entries()).length;
    const reads = [await admin.get('/api/v1/users'), await admin.get('/api/v1/info'), await admin.get('/api/v1/tokens'), await admin.get('/api/v1/me')];
    for (const res of reads) expect(await entryFor(res)).toBeUndefined();
    expect((await entries()).length).toBe(before);
  });

  it('records registration, login success and failure, and logout', async () => {
    await start();
    await createUser(admin, 'bob');
    const ok = await t.request({ method: 'POST', url: '/login/pass/local', body: { username: 'bob', password: PASSWORD } });
    const bad = await t.request({ method: 'POST', url: '/login/pass/local', body: { username: 'bob', password: 'not the password' } });
    const unknown = await t.request({ method: 'POST', url: '/login/pass/local', body: { username: 'ghost', password: 'not the password' } });
    const out = await t.request({ method: 'POST', url: '/logout', cookie: (ok.headers['set-cookie'] as string).split(';')[0] ?? '' });
    expect(await entryFor(ok)).toMatchObject({ action: 'login.success', actor: 'bob', actor_type: 'user', status: 200, ip: '127.0.0.1' });
    expect(await entryFor(bad)).toMatchObject({ action: 'login.failure', actor: 'bob', status: 401 });
    expect(await entryFor(unknown)).toMatchObject({ action: 'login.failure', actor: 'ghost', status: 401 });
    expect(await entryFor(out)).toMatchObject({ action: 'logout', actor: 'bob', status: 200 });
    expect((await entries('?action=login.register'))[0]).toMatchObject({ action: 'login.register', actor: 'admin', status: 201 });
    // Refused attempts are audited too: a registration after setup and a cross-site login.
    const late = await t.request({ method: 'POST', url: '/login/register/local', body: { username: 'mallory', password: PASSWORD, password_confirm: PASSWORD } });
    expect(await entryFor(late)).toMatchObject({ action: 'login.register', actor: 'mallory', status: 409 });
    const csrf = await t.request({ method: 'POST', url: '/login/pass/local', body: { username: 'bob', password: PASSWORD }, headers: { origin: 'https://evil.example' } });
    expect(await entryFor(csrf)).toMatchObject({ action: 'login.failure', actor: 'bob', status: 403 });
    // The login routes are audited once, by their own richer entries.
    expect((await entries('?action=/login/')).length).toBe(0);
  });

  it('never stores a password, in any entry', async () => {
    await start();
    const secrets = [ADMIN.password, PASSWORD, 'typo password 1', 'admin reset pw 1', 'self chosen pw 1'];
    const bob = await createUser(admin, 'bob');
    await t.request({ method: 'POST', url: '/login/pass/local', body: { username: 'bob', password: 'typo password 1' } });
    await t.login('bob', PASSWORD);
    await admin.patch(`/api/v1/users/${bob}`, { password: 'admin reset pw 1' });
    const again = await t.login('bob', 'admin reset pw 1');
    await again.post('/api/v1/me/password', { current_password: 'admin reset pw 1', new_password: 'self chosen pw 1' });
    await t.request({ method: 'POST', url: '/login/register/local', body: { username: 'x', password: ADMIN.password, password_confirm: ADMIN.password } });
    const all = await admin.get('/api/v1/audit?_limit=1000');
    expect(all.json.entries.map((e: Entry) => e.action)).toEqual([
      'login.register',
      'POST /api/v1/me/password',
      'login.success',
      'PATCH /api/v1/users/:id',
      'login.success',
      'login.failure',
      'POST /api/v1/users',
      'login.register',
    ]);
    const stored = JSON.stringify(await dumpStore(t.store, 'audit/'));
    for (const secret of secrets) {
      expect(all.body).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
    expect(all.body).not.toMatch(/password_hash|\$2[aby]\$/);
  });
});

describe('GET /api/v1/audit', () => {
  it('returns newest first, pages with _limit/_offset, and filters by actor, action and time', async () => {
    await start();
    const base = clock.now();
    for (let i = 1; i <= 5; i++) {
      clock.set(base + i * 60_000);
      await saveConfig(admin, `cfg/n${i}`);
    }
    await createUser(admin, 'bob');
    const bob = await t.login('bob', PASSWORD);
    clock.set(base + 10 * 60_000);
    await bob.post('/api/v1/file/cfg/nope', { meta: { format: 'json' }, content: '{}' });

    const all = await admin.get('/api/v1/audit');
    const list = all.json.entries as Entry[];
    expect(all.json.total).toBe(list.length);
    const ids = list.map((e) => e.id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(list[0]).toMatchObject({ actor: 'bob', action: 'POST /api/v1/file/*', target: 'cfg/nope', status: 403 });

    const page = await admin.get('/api/v1/audit?_limit=2&_offset=1');
    expect(page.json.total).toBe(list.length);
    expect(page.json.entries.map((e: Entry) => e.id)).toEqual(ids.slice(1, 3));

    expect((await entries('?actor=BOB')).map((e) => e.action)).toEqual(['POST /api/v1/file/*', 'login.success']);
    const files = await entries('?action=POST%20/api/v1/file');
    expect(files.map((e) => e.target)).toEqual(['cfg/nope', 'cfg/n5', 'cfg/n4', 'cfg/n3', 'cfg/n2', 'cfg/n1']);

    const from = new Date(base + 2 * 60_000).toISOString();
    const to = new Date(base + 4 * 60_000).toISOString();
    const window = await entries(`?time[gte]=${from}&time[lte]=${to}`);
    expect(window.map((e) => e.target)).toEqual(['cfg/n4', 'cfg/n3', 'cfg/n2']);
    const unix = await entries(`?time[gte]=${(base + 4 * 60_000) / 1000}&action=file`);
    expect(unix.map((e) => e.target)).toEqual(['cfg/nope', 'cfg/n5', 'cfg/n4']);
    const combined = await admin.get(`/api/v1/audit?action=file&time[lte]=${to}&_limit=1&_offset=1`);
    expect(combined.json).toMatchObject({ total: 4, entries: [{ target: 'cfg/n3' }] });

    expectError(await admin.get('/api/v1/audit?time[gte]=yesterday'), 400, 'ERR_VALIDATION');
    expectError(await admin.get('/api/v1/audit?_limit=0'), 400, 'ERR_VALIDATION');
    expectError(await admin.get('/api/v1/audit?who=me'), 400, 'ERR_VALIDATION');
  });

  it('requires settings.manage', async () => {
    await start();
    const plain = await signedInUser(t, admin, 'bob', [{ key: 'users', keys: ['users.manage', 'tokens.manage'] }]);
    expectError(await plain.client.get('/api/v1/audit'), 403, 'ERR_FORBIDDEN');
    expectError(await plain.client.get('/api/v1/audit/retention'), 403, 'ERR_FORBIDDEN');
    expectError(await t.request({ url: '/api/v1/audit' }), 401, 'ERR_UNAUTHENTICATED');
    const scoped = await mint(admin, { scopes: [{ path: '**', operations: ['*'] }] });
    expectError(await t.withToken(scoped.raw).get('/api/v1/audit'), 403, 'ERR_FORBIDDEN');
    const ops = await signedInUser(t, admin, 'ops', [{ key: 'settings', keys: ['settings.manage'] }]);
    expect((await ops.client.get('/api/v1/audit')).status).toBe(200);
    expect((await ops.client.get('/api/v1/audit/retention')).json).toEqual({ retention_hours: 2160 });
    const auditor = await mint(admin, { scopes: [], capabilities: ['settings.manage'] });
    expect((await t.withToken(auditor.raw).get('/api/v1/audit')).status).toBe(200);
  });
});
