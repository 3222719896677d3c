import type { Capability } from '../../../shared/capabilities.ts';
import { AppError } from '../../../shared/errors.ts';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import type { BatchOp, Condition, Store } from '../../storage/store.ts';
import { isStoreConflict } from '../../storage/store.ts';
import { firstItem } from '../../storage/iterate.ts';
import { MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH, type PasswordHasher } from './password.ts';
import { newId, nowIso, type UserRecord } from './identity-records.ts';

export interface UserServiceDeps {
  readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>;
  readonly hasher: PasswordHasher;
  readonly clock: () => number;
  /** Called after any change that can alter someone's permissions or sign-in state. */
  readonly onChange: (userId: string) => void;
}

export interface CreateUserInput {
  username: string;
  password?: string | undefined;
  email?: string | undefined;
  display_name?: string | undefined;
  is_superadmin?: boolean | undefined;
  external?: boolean | undefined;
}

export interface UserPatch {
  username?: string | undefined;
  password?: string | undefined;
  email?: string | undefined;
  display_name?: string | undefined;
  disabled?: boolean | undefined;
  is_superadmin?: boolean | undefined;
}

export interface UserListQuery {
  limit: number;
  offset: number;
  username?: string | undefined;
  disabled?: boolean | undefined;
  permission_id?: string | undefined;
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** A marker written with the first user; its "must not exist" condition makes bootstrap race-free. */
const BOOTSTRAP_KEY = 'id/bootstrap';

export type UserService = ReturnType<typeof createUserService>;

/** Built-in users (SPEC §6): unique case-insensitive usernames, bcrypt passwords, superadmins. */
export function createUserService(deps: UserServiceDeps) {
  const { store, hasher, clock, onChange } = deps;

  async function get(id: string): Promise<UserRecord | undefined> {
    const entry = await store.get(identityKeys.user(id));
    return entry ? decodeJson<UserRecord>(entry.value) : undefined;
  }

  async function require(id: string): Promise<{ user: UserRecord; revision: number }> {
    const entry = await store.get(identityKeys.user(id));
    if (!entry) throw new AppError('ERR_USER_NOT_FOUND');
    return { user: decodeJson<UserRecord>(entry.value), revision: entry.revision };
  }

  async function findByUsername(username: string): Promise<UserRecord | undefined> {
    const index = await store.get(identityKeys.username(username));
    return index ? get(new TextDecoder().decode(index.value)) : undefined;
  }

  async function all(): Promise<UserRecord[]> {
    const users: UserRecord[] = [];
    for await (const item of store.iterate(identityKeys.userPrefix)) users.push(decodeJson<UserRecord>(item.value));
    return users;
  }

  async function hasAnyUser(): Promise<boolean> {
    return !(await firstItem(store.iterate(identityKeys.userPrefix, { limit: 1 }))).done;
  }

  async function buildUser(input: CreateUserInput): Promise<UserRecord> {
    validateUsername(input.username);
    if (input.password !== undefined) validatePassword(input.password);
    const now = nowIso(clock);
    return {
      id: newId(),
      username: input.username,
      password_hash: input.password === undefined ? '' : await hasher.hash(input.password),
      email: input.email,
      display_name: input.display_name,
      external: input.external ?? false,
      disabled: false,
      is_superadmin: input.is_superadmin ?? false,
      grants: [],
      denied_capabilities: [],
      created_at: now,
      updated_at: now,
    };
  }

  async function insert(user: UserRecord, extra: { ops?: BatchOp[]; conditions?: Condition[] } = {}): Promise<UserRecord> {
    try {
      await store.batch(
        [
          { type: 'put', key: identityKeys.user(user.id), value: encodeJson(user) },
          { type: 'put', key: identityKeys.username(user.username), value: new TextEncoder().encode(user.id) },
          ...(extra.ops ?? []),
        ],
        [{ key: identityKeys.username(user.username), revision: 0 }, ...(extra.conditions ?? [])],
      );
    } catch (err) {
      if (isStoreConflict(err) && err.key === BOOTSTRAP_KEY) throw new AppError('ERR_SETUP_DONE');
      if (isStoreConflict(err)) throw new AppError('ERR_USERNAME_TAKEN', `the username "${user.username}" is taken`);
      throw err;
    }
    onChange(user.id);
    return user;
  }

  /** First-run registration: the first user becomes superadmin; afterwards 409. */
  async function bootstrap(username: string, password: string): Promise<UserRecord> {
    if (await hasAnyUser()) throw new AppError('ERR_SETUP_DONE');
    const user = await buildUser({ username, password, is_superadmin: true });
    return insert(user, {
      ops: [{ type: 'put', key: BOOTSTRAP_KEY, value: new TextEncoder().encode(user.id) }],
      conditions: [{ key: BOOTSTRAP_KEY, revision: 0 }],
    });
  }

  async function create(input: CreateUserInput): Promise<UserRecord> {
    return insert(await buildUser(input));
  }

  /** Applies `change` to a user with compare-on-revision, retrying if someone else wrote first. */
  async function mutate(id: string, change: (user: UserRecord) => Promise<{ ops?: BatchOp[]; conditions?: Condition[] } | undefined>): Promise<UserRecord> {
    for (let attempt = 0; ; attempt++) {
      const { user, revision } = await require(id);
      const extra = (await change(user)) ?? {};
      user.updated_at = nowIso(clock);
      try {
        await store.batch(
          [{ type: 'put', key: identityKeys.user(id), value: encodeJson(user) }, ...(extra.ops ?? [])],
          [{ key: identityKeys.user(id), revision }, ...(extra.conditions ?? [])],
        );
        onChange(id);
        return user;
      } catch (err) {
        if (!isStoreConflict(err) || attempt >= 5) throw err;
        if (err.key !== identityKeys.user(id)) throw new AppError('ERR_USERNAME_TAKEN');
      }
    }
  }

  async function assertNotLastSuperadmin(user: UserRecord): Promise<void> {
    if (!user.is_superadmin || user.disabled) return;
    const others = (await all()).filter((u) => u.id !== user.id && u.is_superadmin && !u.disabled);
    if (others.length === 0) throw new AppError('ERR_LAST_SUPERADMIN');
  }

  async function update(id: string, patch: UserPatch): Promise<{ user: UserRecord; passwordChanged: boolean; disabledNow: boolean }> {
    let passwordChanged = false;
    let disabledNow = false;
    if (patch.password !== undefined) validatePassword(patch.password);
    if (patch.username !== undefined) validateUsername(patch.username);
    const newHash = patch.password === undefined ? undefined : await hasher.hash(patch.password);
    const user = await mutate(id, async (u) => {
      if ((patch.disabled === true && !u.disabled) || (patch.is_superadmin === false && u.is_superadmin)) await assertNotLastSuperadmin(u);
      const rename = renameOps(u, patch.username);
      disabledNow = patch.disabled === true && !u.disabled;
      passwordChanged = newHash !== undefined;
      applyPatch(u, patch, newHash);
      return rename;
    });
    return { user, passwordChanged, disabledNow };
  }

  async function remove(id: string): Promise<UserRecord> {
    const { user, revision } = await require(id);
    await assertNotLastSuperadmin(user);
    await store.batch(
      [
        { type: 'del', key: identityKeys.user(id) },
        { type: 'del', key: identityKeys.username(user.username) },
      ],
      [{ key: identityKeys.user(id), revision }],
    );
    onChange(id);
    return user;
  }

  async function list(query: UserListQuery): Promise<{ users: UserRecord[]; total: number }> {
    const needle = query.username?.toLowerCase();
    const matching = (await all())
      .filter((u) => needle === undefined || u.username.toLowerCase().includes(needle))
      .filter((u) => query.disabled === undefined || u.disabled === query.disabled)
      .filter((u) => query.permission_id === undefined || u.grants.some((g) => g.permission_id === query.permission_id))
      .sort((a, b) => a.username.localeCompare(b.username));
    return { users: matching.slice(query.offset, query.offset + query.limit), total: matching.length };
  }

  /** Checks a password; unknown and disabled users cost the same bcrypt time as real ones. */
  async function verifyPassword(username: string, password: string): Promise<UserRecord | undefined> {
    const user = Buffer.byteLength(password) <= MAX_PASSWORD_BYTES ? await findByUsername(username) : undefined;
    if (!user || user.password_hash === '') {
      await hasher.burn(password);
      return undefined;
    }
    const ok = await hasher.verify(password, user.password_hash);
    return ok && !user.disabled ? user : undefined;
  }

  const setGrants = (id: string, permissionIds: string[], source = 'manual') =>
    mutate(id, (u) => {
      u.grants = [...u.grants.filter((g) => g.source !== source), ...[...new Set(permissionIds)].map((permission_id) => ({ permission_id, source }))];
      return Promise.resolve(undefined);
    });

  const setDenied = (id: string, caps: Capability[]) =>
    mutate(id, (u) => {
      u.denied_capabilities = [...new Set(caps)];
      return Promise.resolve(undefined);
    });

  return { get, require, findByUsername, all, hasAnyUser, bootstrap, create, update, remove, list, verifyPassword, setGrants, setDenied };
}

function validateUsername(username: string): void {
  if (!USERNAME.test(username)) throw new AppError('ERR_VALIDATION', 'username: 1-64 characters of letters, digits, . _ @ -, starting with a letter or digit');
}

function validatePassword(password: string): void {
  if (Array.from(password).length < MIN_PASSWORD_LENGTH) throw new AppError('ERR_PASSWORD_WEAK', `the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new AppError('ERR_VALIDATION', 'password: too long');
}

/** Index changes for a username change (the new name must not be taken). */
function renameOps(user: UserRecord, username: string | undefined): { ops: BatchOp[]; conditions: Condition[] } {
  if (username === undefined || username.toLowerCase() === user.username.toLowerCase()) return { ops: [], conditions: [] };
  return {
    ops: [
      { type: 'del', key: identityKeys.username(user.username) },
      { type: 'put', key: identityKeys.username(username), value: new TextEncoder().encode(user.id) },
    ],
    conditions: [{ key: identityKeys.username(username), revision: 0 }],
  };
}

/** Applies a patch in place; '' clears an optional text field. */
function applyPatch(user: UserRecord, patch: UserPatch, passwordHash: string | undefined): void {
  if (patch.username !== undefined) user.username = patch.username;
  if (passwordHash !== undefined) user.password_hash = passwordHash;
  if (patch.email !== undefined) user.email = patch.email === '' ? undefined : patch.email;
  if (patch.display_name !== undefined) user.display_name = patch.display_name === '' ? undefined : patch.display_name;
  if (patch.disabled !== undefined) user.disabled = patch.disabled;
  if (patch.is_superadmin !== undefined) user.is_superadmin = patch.is_superadmin;
}
