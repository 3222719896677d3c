import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, type Client, startTestApp, type TestApp, type TestResponse } from '../../test-support/app-harness.ts';
import { createBundle, createUser, dumpStore, expectError, PASSWORD, signedInUser } from '../../test-support/identity-fixtures.ts';

let t: TestApp;
let admin: Client;
beforeEach(async () => {
  t = await startTestApp();
  admin = await t.bootstrapAdmin();
});
afterEach(async () => {
  await t.close();
});

const handleOf = (client: Client) => createHash('sha256').update((client.cookie ?? '').slice('pika_session='.length)).digest('hex');

describe('users CRUD', () => {
  it('creates, reads by id and by username, and never shows a password hash', async () => {
    const res = await admin.post('/api/v1/users', { username: 'alice.smith', password: PASSWORD, email: 'alice@example.com', display_name: 'Alice' });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ username: 'alice.smith', email: 'alice@example.com', display_name: 'Alice', disabled: false, is_superadmin: false, external: false, permission_ids: [] });
    const id = res.json.id as string;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect((await admin.get(`/api/v1/users/${id}`)).json).toEqual(res.json);
    expect((await admin.get('/api/v1/users/alice.smith')).json).toEqual(res.json);
    expect((await admin.get('/api/v1/users/ALICE.SMITH')).json.id).toBe(id);
    expectError(await admin.get('/api/v1/users/nobody'), 404, 'ERR_USER_NOT_FOUND');
    for (const body of [res.body, (await admin.get('/api/v1/users')).body, (await admin.get(`/api/v1/users/${id}`)).body]) {
      expect(body).not.toContain('password');
      expect(body).not.toContain('$2');
    }
    // The new user can sign in with the password it was created with.
    expect((await t.login('alice.smith', PASSWORD)).cookie).toBeDefined();
  });

  it('rejects a taken username case-insensitively, a weak password and a bad username', async () => {
    await createUser(admin, 'bob');
    expectError(await admin.post('/api/v1/users', { username: 'BOB', password: PASSWORD }), 409, 'ERR_USERNAME_TAKEN');
    expectError(await admin.post('/api/v1/users', { username: 'Admin', password: PASSWORD }), 409, 'ERR_USERNAME_TAKEN');
    expectError(await admin.post('/api/v1/users', { username: 'carol', password: 'short' }), 400, 'ERR_PASSWORD_WEAK');
    expectError(await admin.post('/api/v1/users', { username: 'has space', password: PASSWORD }), 400, 'ERR_VALIDATION');
    expectError(await admin.post('/api/v1/users', { username: 'dave', password: PASSWORD, permission_ids: ['missing'] }), 404, 'ERR_BUNDLE_NOT_FOUND');
    expectError(await admin.post('/api/v1/users', { username: 'erin', password: PASSWORD, role: 'x' }), 400, 'ERR_VALIDATION');
    expect((await admin.get('/api/v1/users')).json.total).toBe(2);
  });

  it('lists with username, disabled and permission_id filters and paging, sorted by name', async () => {
    const bundle = await createBundle(admin, { key: 'readers', keys: ['files.read'] });
    await createUser(admin, 'carol', { permission_ids: [bundle] });
    const dave = await createUser(admin, 'dave');
    await createUser(admin, 'Caroline');
    expect((await admin.patch(`/api/v1/users/${dave}`, { disabled: true })).status).toBe(200);

    const names = (res: { json: { users: { username: string }[] } }) => res.json.users.map((u) => u.username);
    const all = await admin.get('/api/v1/users');
    expect(names(all)).toEqual(['admin', 'carol', 'Caroline', 'dave']);
    expect(all.json.total).toBe(4);
    expect(names(await admin.get('/api/v1/users?username=CAROL'))).toEqual(['carol', 'Caroline']);
    expect(names(await admin.get('/api/v1/users?disabled=true'))).toEqual(['dave']);
    expect(names(await admin.get('/api/v1/users?disabled=false'))).toEqual(['admin', 'carol', 'Caroline']);
    expect(names(await admin.get(`/api/v1/users?permission_id=${bundle}`))).toEqual(['carol']);
    const page = await admin.get('/api/v1/users?_limit=2&_offset=1');
    expect(names(page)).toEqual(['carol', 'Caroline']);
    expect(page.json.total).toBe(4);
    expectError(await admin.get('/api/v1/users?_limit=0'), 400, 'ERR_VALIDATION');
    expectError(await admin.get('/api/v1/users?bogus=1'), 400, 'ERR_VALIDATION');
  });

  it('patches fields, renames keeping names unique, and clears optional text with ""', async () => {
    const id = await createUser(admin, 'bob', { email: 'bob@example.com' });
    await createUser(admin, 'carol');
    const renamed = await admin.patch(`/api/v1/users/${id}`, { username: 'robert', display_name: 'Robert' });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ id, username: 'robert', display_name: 'Robert', email: 'bob@example.com' });
    expectError(await admin.get('/api/v1/users/bob'), 404, 'ERR_USER_NOT_FOUND');
    expectError(await admin.patch(`/api/v1/users/${id}`, { username: 'CAROL' }), 409, 'ERR_USERNAME_TAKEN');
    expect((await admin.patch(`/api/v1/users/${id}`, { username: 'Robert' })).json.username).toBe('Robert');
    expect((await admin.patch(`/api/v1/users/${id}`, { email: '' })).json).not.toHaveProperty('email');
    expect((await createUser(admin, 'bob')).length).toBe(32); // the old name is free again
    expect((await t.login('robert', PASSWORD)).cookie).toBeDefined();
    expectError(await admin.patch(`/api/v1/users/${id}`, {}), 400, 'ERR_VALIDATION');
    expectError(await admin.patch('/api/v1/users/nobody', { display_name: 'x' }), 404, 'ERR_USER_NOT_FOUND');
  });

  it('deletes a user: the name is free again and their sessions end', async () => {
    const bob = await signedInUser(t, admin, 'bob', []);
    expect((await bob.client.get('/api/v1/me')).status).toBe(200);
    expect((await admin.delete(`/api/v1/users/${bob.id}`)).json).toEqual({ ok: true });
    expectError(await bob.client.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    expectError(await admin.get(`/api/v1/users/${bob.id}`), 404, 'ERR_USER_NOT_FOUND');
    expectError(await admin.delete(`/api/v1/users/${bob.id}`), 404, 'ERR_USER_NOT_FOUND');
    expect((await dumpStore(t.store, 'id/session/')).length).toBe(1); // only the admin's
    expect((await dumpStore(t.store, `id/usersession/${bob.id}`)).length).toBe(0);
    await createUser(admin, 'bob');
  });

  it('needs users.manage for every user route', async () => {
    const plain = await signedInUser(t, admin, 'plain', [{ key: 'files', keys: ['files.read', 'files.write'] }]);
    const target = await createUser(admin, 'target');
    const calls: [string, () => Promise<TestResponse>][] = [
      ['list', () => plain.client.get('/api/v1/users')],
      ['create', () => plain.client.post('/api/v1/users', { username: 'x', password: PASSWORD })],
      ['get', () => plain.client.get(`/api/v1/users/${target}`)],
      ['patch', () => plain.client.patch(`/api/v1/users/${target}`, { display_name: 'x' })],
      ['delete', () => plain.client.delete(`/api/v1/users/${target}`)],
      ['kick', () => plain.client.post(`/api/v1/users-kick/${target}`)],
      ['sessions', () => plain.client.get(`/api/v1/users-sessions/${target}`)],
      ['effective', () => plain.client.get(`/api/v1/users-effective/${target}`)],
    ];
    for (const [label, call] of calls) expect([label, (await call()).json.code]).toEqual([label, 'ERR_FORBIDDEN']);
    expectError(await t.request({ url: '/api/v1/users' }), 401, 'ERR_UNAUTHENTICATED');
    expectError(await t.request({ url: `/api/v1/users/${target}` }), 401, 'ERR_UNAUTHENTICATED');
    expectError(await t.request({ method: 'POST', url: `/api/v1/users-kick/${target}` }), 401, 'ERR_UNAUTHENTICATED');
  });
});

describe('superadmins', () => {
  it('refuses to disable, demote or delete the last active superadmin', async () => {
    const me = (await admin.get('/api/v1/me')).json.user.id as string;
    expectError(await admin.patch(`/api/v1/users/${me}`, { disabled: true }), 409, 'ERR_LAST_SUPERADMIN');
    expectError(await admin.patch(`/api/v1/users/${me}`, { is_superadmin: false }), 409, 'ERR_LAST_SUPERADMIN');
    expectError(await admin.delete(`/api/v1/users/${me}`), 409, 'ERR_LAST_SUPERADMIN');
    expect((await admin.get('/api/v1/me')).status).toBe(200);

    // With a second active superadmin the first may step down.
    const second = await createUser(admin, 'root2', { is_superadmin: true });
    expect((await admin.get(`/api/v1/users/${second}`)).json.is_superadmin).toBe(true);
    const demoted = await admin.patch(`/api/v1/users/${me}`, { is_superadmin: false });
    expect(demoted.status).toBe(200);
    expect(demoted.json.is_superadmin).toBe(false);
    const root2 = await t.login('root2', PASSWORD);
    expectError(await root2.delete(`/api/v1/users/${second}`), 409, 'ERR_LAST_SUPERADMIN');
  });

  it('lets a non-superadmin with users.manage neither create, change nor delete a superadmin', async () => {
    const manager = await signedInUser(t, admin, 'manager', [{ key: 'usermgmt', keys: ['users.manage', 'permissions.manage'] }]);
    const adminId = (await admin.get('/api/v1/me')).json.user.id as string;
    const other = await createUser(admin, 'root2', { is_superadmin: true });

    expectError(await manager.client.post('/api/v1/users', { username: 'sneaky', password: PASSWORD, is_superadmin: true }), 403, 'ERR_FORBIDDEN');
    expectError(await admin.get('/api/v1/users/sneaky'), 404, 'ERR_USER_NOT_FOUND');
    expectError(await manager.client.delete(`/api/v1/users/${other}`), 403, 'ERR_FORBIDDEN');
    expectError(await manager.client.patch(`/api/v1/users/${manager.id}`, { is_superadmin: true }), 403, 'ERR_FORBIDDEN');
    // Taking over a superadmin account by resetting its password, renaming or disabling it.
    expectError(await manager.client.patch(`/api/v1/users/${adminId}`, { password: 'taken over 12345' }), 403, 'ERR_FORBIDDEN');
    expectError(await manager.client.patch(`/api/v1/users/${other}`, { disabled: true }), 403, 'ERR_FORBIDDEN');
    expectError(await manager.client.put(`/api/v1/users-denied/${adminId}`, { capability_keys: ['users.manage'] }), 403, 'ERR_FORBIDDEN');
    expect((await t.login('admin', ADMIN.password)).cookie).toBeDefined();
    expect((await admin.get(`/api/v1/users/${other}`)).json.disabled).toBe(false);

    // Ordinary users remain theirs to manage.
    const plain = await createUser(manager.client, 'plain');
    expect((await manager.client.patch(`/api/v1/users/${plain}`, { password: 'new password 123' })).status).toBe(200);
    expect((await manager.client.delete(`/api/v1/users/${plain}`)).status).toBe(200);
  });
});

describe('session revocation', () => {
  it('ends every session of a user the moment they are disabled, and keeps them out', async () => {
    const bob = await signedInUser(t, admin, 'bob', []);
    const second = await t.login('bob', PASSWORD);
    const res = await admin.patch(`/api/v1/users/${bob.id}`, { disabled: true });
    expect(res.status).toBe(200);
    expect(res.json.disabled).toBe(true);
    expectError(await bob.client.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    expectError(await second.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    expect((await dumpStore(t.store, `id/usersession/${bob.id}`)).length).toBe(0);
    expectError(await t.request({ method: 'POST', url: '/login/pass/local', body: { username: 'bob', password: PASSWORD } }), 401, 'ERR_INVALID_CREDENTIALS');
    expect((await admin.patch(`/api/v1/users/${bob.id}`, { disabled: false })).status).toBe(200);
    expect((await (await t.login('bob', PASSWORD)).get('/api/v1/me')).status).toBe(200);
  });

  it('ends every session when an admin sets a new password', async () => {
    const bob = await signedInUser(t, admin, 'bob', []);
    expect((await admin.patch(`/api/v1/users/${bob.id}`, { password: 'brand new password' })).status).toBe(200);
    expectError(await bob.client.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    await expect(t.login('bob', PASSWORD)).rejects.toThrow(/401/);
    expect((await t.login('bob', 'brand new password')).cookie).toBeDefined();
    // Renaming alone keeps sessions.
    const again = await t.login('bob', 'brand new password');
    expect((await admin.patch(`/api/v1/users/${bob.id}`, { display_name: 'B' })).status).toBe(200);
    expect((await again.get('/api/v1/me')).status).toBe(200);
  });

  it('self password change keeps the current session and ends the others', async () => {
    const bob = await signedInUser(t, admin, 'bob', []);
    const laptop = await t.login('bob', PASSWORD);
    const phone = await t.login('bob', PASSWORD);
    expectError(await bob.client.post('/api/v1/me/password', { current_password: 'not it at all', new_password: 'new password 456' }), 401, 'ERR_INVALID_CREDENTIALS');
    expectError(await bob.client.post('/api/v1/me/password', { current_password: PASSWORD, new_password: 'short' }), 400, 'ERR_PASSWORD_WEAK');
    expect((await laptop.get('/api/v1/me')).status).toBe(200);
    const res = await bob.client.post('/api/v1/me/password', { current_password: PASSWORD, new_password: 'new password 456' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true, sessions_revoked: 2 });
    expect((await bob.client.get('/api/v1/me')).status).toBe(200);
    expectError(await laptop.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    expectError(await phone.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    await expect(t.login('bob', PASSWORD)).rejects.toThrow(/401/);
    expect((await t.login('bob', 'new password 456')).cookie).toBeDefined();
  });

  it('kicks a user out of every session', async () => {
    const bob = await signedInUser(t, admin, 'bob', []);
    await t.login('bob', PASSWORD);
    const res = await admin.post(`/api/v1/users-kick/${bob.id}`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ revoked: 2 });
    expectError(await bob.client.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    expect((await admin.post('/api/v1/users-kick/bob')).json).toEqual({ revoked: 0 });
    expectError(await admin.post('/api/v1/users-kick/nobody'), 404, 'ERR_USER_NOT_FOUND');
  });

  it('lists sessions by hashed handle and revokes one of them', async () => {
    const bob = await signedInUser(t, admin, 'bob', []);
    const other = await t.login('bob', PASSWORD);
    const list = await admin.get('/api/v1/users-sessions/bob');
    expect(list.status).toBe(200);
    const handles = (list.json.sessions as { handle: string }[]).map((s) => s.handle).sort();
    expect(handles).toEqual([handleOf(bob.client), handleOf(other)].sort());
    expect(list.json.sessions[0]).toMatchObject({ provider: 'local', ip: '127.0.0.1' });
    expect(Date.parse(list.json.sessions[0].expires_at) - Date.parse(list.json.sessions[0].created_at)).toBe(24 * 3600_000);
    expect(list.body).not.toContain((bob.client.cookie ?? '').slice('pika_session='.length));

    expect((await admin.delete(`/api/v1/users-sessions/${bob.id}/${handleOf(other)}`)).json).toEqual({ ok: true });
    expectError(await other.get('/api/v1/me'), 401, 'ERR_UNAUTHENTICATED');
    expect((await bob.client.get('/api/v1/me')).status).toBe(200);
    expect((await admin.get(`/api/v1/users-sessions/${bob.id}`)).json.sessions.length).toBe(1);
    // Another user's handle, or one already gone, is not found; a malformed handle is invalid.
    expectError(await admin.delete(`/api/v1/users-sessions/bob/${handleOf(admin)}`), 404, 'ERR_SESSION_NOT_FOUND');
    expectError(await admin.delete(`/api/v1/users-sessions/bob/${handleOf(other)}`), 404, 'ERR_SESSION_NOT_FOUND');
    expectError(await admin.delete('/api/v1/users-sessions/bob/not-a-handle'), 400, 'ERR_VALIDATION');
    expect((await admin.get('/api/v1/me')).status).toBe(200);
  });
});
