import type { Capability } from '../../../shared/capabilities.ts';
import { AppError } from '../../../shared/errors.ts';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { identityKeys } from '../../storage/keys.ts';
import type { BatchOp, Condition, Store } from '../../storage/store.ts';
import { isStoreConflict } from '../../storage/store.ts';
import { firstItem } from '../../storage/iterate.ts';
import { MAX_PASSWORD_BYTES, type PasswordHasher } from './password.ts';
import { newId, nowIso, type UserRecord } from './identity-records.ts';
import { applyPatch, type UserPatch, validatePassword, validateUsername } from './user-rules.ts';

export type { UserPatch } from './user-rules.ts';

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

export interface UserListQuery {
  limit: number;
  offset: number;
  username?: string | undefined;
  disabled?: boolean | undefined;
  permission_id?: string | undefined;
}

/** A marker written with the first user; its "must not exist" condition makes bootstrap race-free. */
const BOOTSTRAP_KEY = 'id/bootstrap';
const USERNAME_INDEX = identityKeys.username('');

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
        // Extra conditions first: the store reports the first one that fails, and a lost
        // first-run race must read as "setup done" even when both racers chose the same name.
        [...(extra.conditions ?? []), { key: identityKeys.username(user.username), revision: 0 }],
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

  /**
   * Writes `ops` guarded by `conditions`, retrying `attempt` after a conflict on a user record
   * (someone else wrote first; the attempt re-reads and re-checks). A conflict on a username
   * index means the name is taken.
   */
  async function retrying<T>(attempt: () => Promise<{ ops: BatchOp[]; conditions: Condition[]; result: T }>): Promise<T> {
    for (let tries = 0; ; tries++) {
      const { ops, conditions, result } = await attempt();
      try {
        await store.batch(ops, conditions);
        return result;
      } catch (err) {
        if (!isStoreConflict(err) || tries >= 5) throw err;
        if (err.key.startsWith(USERNAME_INDEX)) throw new AppError('ERR_USERNAME_TAKEN');
      }
    }
  }

  /** Applies `change` to a user with compare-on-revision, retrying if someone else wrote first. */
  async function mutate(id: string, change: (user: UserRecord) => Promise<{ ops?: BatchOp[]; conditions?: Condition[] } | undefined>): Promise<UserRecord> {
    const user = await retrying(async () => {
      const { user: current, revision } = await require(id);
      const extra = (await change(current)) ?? {};
      current.updated_at = nowIso(clock);
      return {
        ops: [{ type: 'put', key: identityKeys.user(id), value: encodeJson(current) }, ...(extra.ops ?? [])],
        conditions: [{ key: identityKeys.user(id), revision }, ...(extra.conditions ?? [])],
        result: current,
      };
    });
    onChange(id);
    return user;
  }

  /**
   * Refuses to take away the last active superadmin. Returns conditions pinning every other
   * active superadmin, so two admins disabling each other at once cannot both succeed: the
   * second write conflicts, retries, and then sees it would leave nobody.
   */
  async function lastSuperadminGuard(user: UserRecord): Promise<Condition[]> {
    if (!user.is_superadmin || user.disabled) return [];
    const others: Condition[] = [];
    for await (const item of store.iterate(identityKeys.userPrefix)) {
      const other = decodeJson<UserRecord>(item.value);
      if (other.id !== user.id && other.is_superadmin && !other.disabled) others.push({ key: item.key, revision: item.revision });
    }
    if (others.length === 0) throw new AppError('ERR_LAST_SUPERADMIN');
    return others;
  }

  async function update(id: string, patch: UserPatch): Promise<{ user: UserRecord; passwordChanged: boolean; disabledNow: boolean }> {
    let passwordChanged = false;
    let disabledNow = false;
    if (patch.password !== undefined) validatePassword(patch.password);
    if (patch.username !== undefined) validateUsername(patch.username);
    const newHash = patch.password === undefined ? undefined : await hasher.hash(patch.password);
    const user = await mutate(id, async (u) => {
      const demoting = (patch.disabled === true && !u.disabled) || (patch.is_superadmin === false && u.is_superadmin);
      const guard = demoting ? await lastSuperadminGuard(u) : [];
      const rename = renameOps(u, patch.username);
      disabledNow = patch.disabled === true && !u.disabled;
      passwordChanged = newHash !== undefined;
      applyPatch(u, patch, newHash);
      return { ops: rename.ops, conditions: [...rename.conditions, ...guard] };
    });
    return { user, passwordChanged, disabledNow };
  }

  async function remove(id: string): Promise<UserRecord> {
    const user = await retrying(async () => {
      const { user: current, revision } = await require(id);
      const guard = await lastSuperadminGuard(current);
      return {
        ops: [
          { type: 'del' as const, key: identityKeys.user(id) },
          { type: 'del' as const, key: identityKeys.username(current.username) },
          // Their second factor goes with them: a new user must never inherit an enrollment.
          { type: 'del' as const, key: identityKeys.totp(id) },
        ],
        conditions: [{ key: identityKeys.user(id), revision }, ...guard],
        result: current,
      };
    });
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

  /** Removes every grant of a deleted bundle, so users no longer list it. Returns how many users changed. */
  async function dropGrant(permissionId: string): Promise<number> {
    let changed = 0;
    for (const user of await all()) {
      if (!user.grants.some((g) => g.permission_id === permissionId)) continue;
      await mutate(user.id, (u) => {
        u.grants = u.grants.filter((g) => g.permission_id !== permissionId);
        return Promise.resolve(undefined);
      });
      changed++;
    }
    return changed;
  }

  /** Users whose email matches, case-insensitively (verified-email linking). */
  async function findByEmail(email: string): Promise<UserRecord[]> {
    const needle = email.trim().toLowerCase();
    return (await all()).filter((u) => u.email?.toLowerCase() === needle);
  }

  return { get, require, findByUsername, findByEmail, all, hasAnyUser, bootstrap, create, update, remove, list, verifyPassword, setGrants, setDenied, dropGrant };
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
