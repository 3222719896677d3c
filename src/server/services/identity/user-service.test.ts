import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../shared/errors.ts';
import { openMemoryStore } from '../../storage/level-store.ts';
import type { PasswordHasher } from './password.ts';
import { createUserService } from './user-service.ts';

/** A hasher that records what it was asked to do; "hashes" are readable so checks stay simple. */
function recordingHasher(options: { hashGate?: Promise<void> } = {}) {
  const calls: string[] = [];
  const hasher: PasswordHasher = {
    async hash(password) {
      calls.push('hash');
      await options.hashGate;
      return `h:${password}`;
    },
    async verify(password, hash) {
      calls.push('verify');
      return hash === `h:${password}`;
    },
    async burn() {
      calls.push('burn');
    },
  };
  return { hasher, calls };
}

async function setup(hasher: PasswordHasher) {
  const store = await openMemoryStore();
  const changed: string[] = [];
  const users = createUserService({ store, hasher, clock: () => Date.parse('2030-01-01T00:00:00Z'), onChange: (id) => changed.push(id) });
  return { store, users, changed };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    return isAppError(err) ? err.code : String(err);
  }
}

describe('user service: password checks cost the same for every outcome', () => {
  it('spends exactly one compare for an unknown user, a known user, a wrong password and a disabled user', async () => {
    const { hasher, calls } = recordingHasher();
    const { users } = await setup(hasher);
    const admin = await users.bootstrap('admin', 'correct horse battery');
    const bob = await users.create({ username: 'bob', password: 'bob password 1' });
    await users.update(bob.id, { disabled: true });
    calls.length = 0;

    expect(await users.verifyPassword('nobody', 'whatever password')).toBeUndefined();
    expect(calls).toEqual(['burn']);
    calls.length = 0;
    expect((await users.verifyPassword('admin', 'correct horse battery'))?.id).toBe(admin.id);
    expect(calls).toEqual(['verify']);
    calls.length = 0;
    expect(await users.verifyPassword('admin', 'wrong password')).toBeUndefined();
    expect(calls).toEqual(['verify']);
    calls.length = 0;
    expect(await users.verifyPassword('bob', 'bob password 1')).toBeUndefined();
    expect(calls).toEqual(['verify']);
  });

  it('burns a compare for an external user without a password and for an over-long password', async () => {
    const { hasher, calls } = recordingHasher();
    const { users } = await setup(hasher);
    await users.bootstrap('admin', 'correct horse battery');
    await users.create({ username: 'ext', external: true });
    calls.length = 0;
    expect(await users.verifyPassword('ext', 'anything at all')).toBeUndefined();
    expect(await users.verifyPassword('admin', 'x'.repeat(5000))).toBeUndefined();
    expect(calls).toEqual(['burn', 'burn']);
  });
});

describe('user service: first-run bootstrap', () => {
  it.each([
    ['different names', 'alice', 'bob'],
    ['the same name', 'admin', 'ADMIN'],
  ])('lets one of two racing registrations win and reports ERR_SETUP_DONE to the other (%s)', async (_label, first, second) => {
    // Both registrations are held inside bcrypt until both have passed the "no users yet" check.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { hasher, calls } = recordingHasher({ hashGate: gate });
    const { users } = await setup(hasher);
    const racing = [codeOf(users.bootstrap(first, 'correct horse battery')), codeOf(users.bootstrap(second, 'correct horse battery'))];
    while (calls.filter((c) => c === 'hash').length < 2) await new Promise((resolve) => setImmediate(resolve));
    release();
    expect((await Promise.all(racing)).sort()).toEqual(['ERR_SETUP_DONE', 'ok']);
    expect((await users.all()).length).toBe(1);
    expect(await codeOf(users.bootstrap('carol', 'correct horse battery'))).toBe('ERR_SETUP_DONE');
  });

  it('makes the first user a superadmin', async () => {
    const { users } = await setup(recordingHasher().hasher);
    expect(await users.hasAnyUser()).toBe(false);
    const admin = await users.bootstrap('admin', 'correct horse battery');
    expect(admin).toMatchObject({ is_superadmin: true, disabled: false, grants: [], denied_capabilities: [] });
    expect(await users.hasAnyUser()).toBe(true);
  });
});

describe('user service: superadmins and usernames', () => {
  it('refuses to disable, demote or delete the last active superadmin', async () => {
    const { users } = await setup(recordingHasher().hasher);
    const admin = await users.bootstrap('admin', 'correct horse battery');
    expect(await codeOf(users.update(admin.id, { disabled: true }))).toBe('ERR_LAST_SUPERADMIN');
    expect(await codeOf(users.update(admin.id, { is_superadmin: false }))).toBe('ERR_LAST_SUPERADMIN');
    expect(await codeOf(users.remove(admin.id))).toBe('ERR_LAST_SUPERADMIN');

    // A disabled second superadmin does not count as a way back in.
    const second = await users.create({ username: 'second', password: 'second password', is_superadmin: true });
    await users.update(second.id, { disabled: true });
    expect(await codeOf(users.update(admin.id, { disabled: true }))).toBe('ERR_LAST_SUPERADMIN');
    await users.update(second.id, { disabled: false });
    expect(await codeOf(users.update(admin.id, { disabled: true }))).toBe('ok');
    expect(await codeOf(users.update(second.id, { is_superadmin: false }))).toBe('ERR_LAST_SUPERADMIN');
  });

  it.each([
    ['disable', 'disable'],
    ['disable', 'delete'],
    ['demote', 'delete'],
  ])('keeps one superadmin when two of them are %s/%s at the same time', async (first, second) => {
    const { users } = await setup(recordingHasher().hasher);
    const a = await users.bootstrap('a', 'correct horse battery');
    const b = await users.create({ username: 'b', password: 'correct horse battery', is_superadmin: true });
    const act = (kind: string, id: string) =>
      codeOf(kind === 'delete' ? users.remove(id) : users.update(id, kind === 'disable' ? { disabled: true } : { is_superadmin: false }));
    const results = await Promise.all([act(first, a.id), act(second, b.id)]);
    expect(results.sort()).toEqual(['ERR_LAST_SUPERADMIN', 'ok']);
    expect((await users.all()).filter((u) => u.is_superadmin && !u.disabled)).toHaveLength(1);
  });

  it('keeps usernames unique case-insensitively, also across renames', async () => {
    const { users } = await setup(recordingHasher().hasher);
    await users.bootstrap('admin', 'correct horse battery');
    const bob = await users.create({ username: 'bob', password: 'bob password 1' });
    expect(await codeOf(users.create({ username: 'BOB', password: 'bob password 1' }))).toBe('ERR_USERNAME_TAKEN');
    expect(await codeOf(users.update(bob.id, { username: 'Admin' }))).toBe('ERR_USERNAME_TAKEN');
    expect((await users.update(bob.id, { username: 'Bob' })).user.username).toBe('Bob');
    expect((await users.update(bob.id, { username: 'robert' })).user.username).toBe('robert');
    expect(await users.findByUsername('bob')).toBeUndefined();
    expect((await users.findByUsername('ROBERT'))?.id).toBe(bob.id);
    expect(await codeOf(users.create({ username: 'bob', password: 'bob password 1' }))).toBe('ok');
  });
});
