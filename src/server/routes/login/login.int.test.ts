import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { cookieOf, createUser, dumpStore, expectError, manualClock, PASSWORD } from '../../test-support/identity-fixtures.ts';

const REGISTER = '/login/register/local';
const LOGIN = '/login/pass/local';
const COOKIE = /^pika_session=[A-Za-z0-9_-]{43}$/;

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start(options: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  t = await startTestApp(options);
  return t;
}

const registration = (username = ADMIN.username, password = ADMIN.password, confirm = password) => ({ username, password, password_confirm: confirm });

describe('first run', () => {
  it('reports setup_required and signup_first only until the first user exists', async () => {
    const app = await start();
    const before = await app.request({ url: '/api/v1/info' });
    expect(before.status).toBe(200);
    expect(before.json).toMatchObject({ name: 'pika', setup_required: true, is_superadmin: false, permissions: [], patterns: {} });
    expect((await app.request({ url: '/login/info' })).json).toMatchObject({
      signup_first: true,
      strategies: [{ name: 'local', kind: 'password', url: '/login/pass/local', register: { url: '/login/register/local' } }],
    });

    const res = await app.request({ method: 'POST', url: REGISTER, body: registration() });
    expect(res.status).toBe(201);
    expect(res.json.user).toMatchObject({ username: 'admin', is_superadmin: true, disabled: false, external: false });
    expect(res.json.user).not.toHaveProperty('password_hash');
    const cookie = cookieOf(res);
    expect(cookie).toMatch(COOKIE);

    const anonymous = await app.request({ url: '/api/v1/info' });
    expect(anonymous.json).not.toHaveProperty('setup_required');
    expect(anonymous.json.user).toBeUndefined();
    expect((await app.request({ url: '/login/info' })).json.signup_first).toBe(false);

    const signedIn = await app.request({ url: '/api/v1/info', cookie });
    expect(signedIn.json).toMatchObject({ user: 'admin', actor_type: 'user', is_superadmin: true });
    expect(signedIn.json).not.toHaveProperty('setup_required');
    expect(signedIn.json.permissions).toContain('users.manage');
  });

  it('refuses a second registration with 409 ERR_SETUP_DONE and creates nobody', async () => {
    const app = await start();
    await app.bootstrapAdmin();
    const second = await app.request({ method: 'POST', url: REGISTER, body: registration('mallory', 'another long password') });
    expectError(second, 409, 'ERR_SETUP_DONE');
    expect(second.headers['set-cookie']).toBeUndefined();
    expect((await dumpStore(app.store, 'id/user/')).length).toBe(1);
    await expect(app.login('mallory', 'another long password')).rejects.toThrow(/401/);
  });

  it('rejects a password confirmation mismatch and a weak password, leaving setup open', async () => {
    const app = await start();
    expectError(await app.request({ method: 'POST', url: REGISTER, body: registration('admin', 'correct horse battery', 'correct horse batterY') }), 400, 'ERR_PASSWORD_MISMATCH');
    expectError(await app.request({ method: 'POST', url: REGISTER, body: registration('admin', 'short') }), 400, 'ERR_PASSWORD_WEAK');
    expect((await app.request({ url: '/api/v1/info' })).json.setup_required).toBe(true);
    expect(await dumpStore(app.store, 'id/user/')).toEqual([]);
  });

  it.each([
    ['different usernames', 'alice', 'bob'],
    ['the same username', 'admin', 'admin'],
  ])('lets exactly one of two concurrent registrations win (%s)', async (_label, first, second) => {
    const app = await start();
    const results = await Promise.all([
      app.request({ method: 'POST', url: REGISTER, body: registration(first) }),
      app.request({ method: 'POST', url: REGISTER, body: registration(second) }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const loser = results.find((r) => r.status === 409);
    expect(loser?.json.code).toBe('ERR_SETUP_DONE');
    const users = await dumpStore(app.store, 'id/user/');
    expect(users.length).toBe(1);
    expect(JSON.parse(users[0]?.value ?? '{}')).toMatchObject({ is_superadmin: true });
  });
});

describe('password login', () => {
  it('sets an HttpOnly, SameSite=Lax session cookie on the root path by default', async () => {
    const app = await start();
    await app.bootstrapAdmin();
    const res = await app.request({ method: 'POST', url: LOGIN, body: { username: 'admin', password: ADMIN.password } });
    expect(res.status).toBe(200);
    expect(res.json.user.username).toBe('admin');
    expect(res.headers['set-cookie']).toMatch(/^pika_session=[A-Za-z0-9_-]{43}; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(res.headers['set-cookie']).not.toMatch(/Secure/);
    const me = await app.request({ url: '/api/v1/me', cookie: cookieOf(res) });
    expect(me.status).toBe(200);
    expect(me.json.user.username).toBe('admin');
  });

  it('accepts the username case-insensitively', async () => {
    const app = await start();
    await app.bootstrapAdmin();
    const res = await app.request({ method: 'POST', url: LOGIN, body: { username: 'ADMIN', password: ADMIN.password } });
    expect(res.status).toBe(200);
    expect(res.json.user.username).toBe('admin');
  });

  it('marks the cookie Secure and SameSite=Strict when configured', async () => {
    const app = await start({ env: { PIKA_SERVER_AUTH_COOKIE_SECURE: 'true', PIKA_SERVER_AUTH_COOKIE_SAME_SITE: 'strict', PIKA_SERVER_AUTH_SESSION_TTL: '2h' } });
    const res = await app.request({ method: 'POST', url: REGISTER, body: registration() });
    expect(res.status).toBe(201);
    expect(res.headers['set-cookie']).toMatch(/^pika_session=[A-Za-z0-9_-]{43}; Max-Age=7200; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  });

  it('serves everything under the base path and scopes the cookie to it', async () => {
    const app = await start({ env: { PIKA_SERVER_BASE_PATH: '/pika' } });
    expect((await app.request({ url: '/pika/api/v1/info' })).json).toMatchObject({ setup_required: true, base_path: '/pika' });
    expect((await app.request({ url: '/pika/login/info' })).json.strategies[0]).toMatchObject({ url: '/pika/login/pass/local', register: { url: '/pika/login/register/local' } });
    const reg = await app.request({ method: 'POST', url: `/pika${REGISTER}`, body: registration() });
    expect(reg.status).toBe(201);
    expect(reg.headers['set-cookie']).toMatch(/; Path=\/pika; HttpOnly; SameSite=Lax$/);
    const login = await app.request({ method: 'POST', url: `/pika${LOGIN}`, body: { username: 'admin', password: ADMIN.password } });
    expect(login.headers['set-cookie']).toMatch(/; Path=\/pika; /);
    expect((await app.request({ url: '/pika/api/v1/me', cookie: cookieOf(login) })).status).toBe(200);
    expectError(await app.request({ url: '/api/v1/info' }), 404, 'ERR_ROUTE_NOT_FOUND');
    expectError(await app.request({ method: 'POST', url: LOGIN, body: { username: 'admin', password: ADMIN.password } }), 404, 'ERR_ROUTE_NOT_FOUND');
    expect((await app.request({ url: '/pika/healthz' })).body).toBe('OK');
    expect((await app.request({ url: '/healthz' })).body).toBe('OK');
    const logout = await app.request({ method: 'POST', url: '/pika/logout', cookie: cookieOf(login) });
    expect(logout.headers['set-cookie']).toBe('pika_session=; Max-Age=0; Path=/pika; HttpOnly; SameSite=Lax');
  });

  it('answers a wrong password, an unknown user and a disabled user with the same 401', async () => {
    const app = await start();
    const admin = await app.bootstrapAdmin();
    const bobId = await createUser(admin, 'bob');
    expect((await admin.patch(`/api/v1/users/${bobId}`, { disabled: true })).status).toBe(200);
    const attempts = [
      { username: 'admin', password: 'wrong password!' },
      { username: 'nobody', password: ADMIN.password },
      { username: 'bob', password: PASSWORD },
    ];
    const bodies = [];
    for (const body of attempts) {
      const res = await app.request({ method: 'POST', url: LOGIN, body });
      expectError(res, 401, 'ERR_INVALID_CREDENTIALS');
      expect(res.headers['set-cookie']).toBeUndefined();
      const { request_id: _id, ...rest } = res.json;
      bodies.push(rest);
    }
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
  });

  it('validates the login body', async () => {
    const app = await start();
    await app.bootstrapAdmin();
    expectError(await app.request({ method: 'POST', url: LOGIN, body: { username: 'admin' } }), 400, 'ERR_VALIDATION');
    expectError(await app.request({ method: 'POST', url: LOGIN, body: { username: 'admin', password: ADMIN.password, extra: 1 } }), 400, 'ERR_VALIDATION');
  });

  it('never stores the cookie value: only its SHA-256 names the session', async () => {
    const app = await start();
    const admin = await app.bootstrapAdmin();
    const value = (admin.cookie ?? '').slice('pika_session='.length);
    expect(value).toHaveLength(43);
    const everything = await dumpStore(app.store);
    expect(everything.some((e) => e.key.includes(value) || e.value.includes(value))).toBe(false);
    const sessions = await dumpStore(app.store, 'id/session/');
    expect(sessions.map((s) => s.key)).toEqual([`id/session/${createHash('sha256').update(value).digest('hex')}`]);
  });

  it('rejects a login from a foreign origin or a cross-site fetch (login CSRF)', async () => {
    const app = await start();
    await app.bootstrapAdmin();
    const body = { username: 'admin', password: ADMIN.password };
    const foreign = await app.request({ method: 'POST', url: LOGIN, body, headers: { origin: 'https://evil.example' } });
    expectError(foreign, 403, 'ERR_CSRF');
    expect(foreign.headers['set-cookie']).toBeUndefined();
    expectError(await app.request({ method: 'POST', url: LOGIN, body, headers: { 'sec-fetch-site': 'cross-site' } }), 403, 'ERR_CSRF');
    expectError(await app.request({ method: 'POST', url: REGISTER, body: registration('x'), headers: { origin: 'https://evil.example' } }), 403, 'ERR_CSRF');
    expect((await app.request({ method: 'POST', url: LOGIN, body, headers: { origin: 'http://localhost:80', 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
  });
});

describe('logout and session lifetime', () => {
  it('revokes the session server-side on logout', async () => {
    const app = await start();
    const admin = await app.bootstrapAdmin();
    const other = await app.login('admin', ADMIN.password);
    const res = await admin.post('/logout');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true });
    expect(res.headers['set-cookie']).toBe('pika_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax');
    // Replaying the old cookie (a client that ignores the clearing header) no longer works.
    expectError(await admin.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    expectError(await admin.get('/api/v1/users'), 401, 'ERR_UNAUTHENTICATED');
    // Only that session ended.
    expect((await other.get('/api/v1/me')).status).toBe(200);
    expect((await dumpStore(app.store, 'id/session/')).length).toBe(1);
  });

  it('answers logout without a session with 200 and a clearing cookie', async () => {
    const app = await start();
    const res = await app.request({ method: 'POST', url: '/logout' });
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toMatch(/^pika_session=; Max-Age=0;/);
  });

  it('expires a session after server.auth.session_ttl', async () => {
    const clock = manualClock();
    const app = await start({ deps: { clock: clock.now }, env: { PIKA_SERVER_AUTH_SESSION_TTL: '1h' } });
    const admin = await app.bootstrapAdmin();
    clock.advance(60 * 60_000 - 1);
    expect((await admin.get('/api/v1/me')).status).toBe(200);
    clock.advance(1);
    expectError(await admin.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    // The expired session is gone from the store, not merely ignored.
    expect(await dumpStore(app.store, 'id/session/')).toEqual([]);
    expect((await app.login('admin', ADMIN.password)).cookie).toMatch(COOKIE);
  });

  it('ignores malformed and unknown cookies (anonymous, not an error)', async () => {
    const app = await start();
    await app.bootstrapAdmin();
    for (const cookie of ['pika_session=short', `pika_session=${'x'.repeat(43)}`, `pika_session=${'y'.repeat(500)}`]) {
      const info = await app.request({ url: '/api/v1/info', cookie });
      expect(info.status).toBe(200);
      expect(info.json.user).toBeUndefined();
      expectError(await app.request({ url: '/api/v1/me', cookie }), 401, 'ERR_UNAUTHENTICATED');
    }
  });
});

describe('/login/me and /api/v1/me', () => {
  it('describes the signed-in user and refuses anonymous callers and tokens', async () => {
    const app = await start();
    const admin = await app.bootstrapAdmin();
    const loginMe = await admin.get('/login/me');
    expect(loginMe.status).toBe(200);
    expect(loginMe.json.user).toMatchObject({ username: 'admin', is_superadmin: true });
    expect(loginMe.body).not.toContain('password_hash');
    const me = await admin.get('/api/v1/me');
    expect(me.json.user.username).toBe('admin');
    expect(me.json.permissions).toEqual(expect.arrayContaining(['files.read', 'settings.manage', 'key.unlock']));

    expectError(await app.request({ url: '/login/me' }), 401, 'ERR_UNAUTHENTICATED');
    expectError(await app.request({ url: '/api/v1/me' }), 401, 'ERR_UNAUTHENTICATED');
    const token = await admin.post('/api/v1/tokens', { name: 'ci', scopes: [{ path: '**', operations: ['read'] }] });
    expectError(await app.withToken(token.json.raw_key).get('/login/me'), 403, 'ERR_FORBIDDEN');
    expectError(await app.withToken(token.json.raw_key).get('/api/v1/me'), 403, 'ERR_FORBIDDEN');
  });
});
