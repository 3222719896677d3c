import { describe, expect, it } from 'vitest';
import type { Capability } from '../../../shared/capabilities.ts';
import { isAppError } from '../../../shared/errors.ts';
import type { BundleRecord, TokenRecord, UserRecord } from './identity-records.ts';
import { createPermissionResolver } from './permission-resolver.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');

function user(id: string, extra: Partial<UserRecord> = {}): UserRecord {
  return { id, username: id, password_hash: '', external: false, disabled: false, is_superadmin: false, grants: [], denied_capabilities: [], created_at: '', updated_at: '', ...extra };
}

function bundle(id: string, keys: Capability[], patterns: Partial<Record<Capability, string[]>> = {}): BundleRecord {
  return { id, key: id, name: id, description: '', keys, key_patterns: patterns, created_at: '', updated_at: '' };
}

function token(id: string, extra: Partial<TokenRecord> = {}): TokenRecord {
  return { id, name: id, hashed_key: '', scopes: [{ path: '**', operations: ['read'] }], capabilities: [], active: true, created_at: '', created_by: 'u', created_by_user_id: 'u', ...extra };
}

/** In-memory identity data; `listGate`, when set, holds the next bundle listing until released. */
function world() {
  const users = new Map<string, UserRecord>();
  const tokens = new Map<string, TokenRecord>();
  let bundles: BundleRecord[] = [];
  let listGate: Promise<void> | undefined;
  let now = NOW;
  const resolver = createPermissionResolver({
    users: { get: async (id) => users.get(id) },
    tokens: { get: async (id) => tokens.get(id) },
    bundles: {
      list: async () => {
        const snapshot = bundles;
        const gate = listGate;
        listGate = undefined;
        await gate;
        return snapshot;
      },
    },
    clock: () => now,
  });
  return {
    resolver,
    users,
    tokens,
    setBundles(list: BundleRecord[]) {
      bundles = list;
    },
    hold(): () => void {
      let release: () => void = () => undefined;
      listGate = new Promise((resolve) => {
        release = resolve;
      });
      return release;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    return isAppError(err) ? err.code : String(err);
  }
}

describe('permission resolver: users', () => {
  it('takes the union of bundles, lets unrestricted win and removes denies', async () => {
    const w = world();
    w.setBundles([bundle('a', ['files.read'], { 'files.read': ['team-a/**'] }), bundle('b', ['files.read', 'users.manage'], { 'files.read': ['team-b/**'] }), bundle('c', ['files.read'])]);
    const ab = user('ab', { grants: [{ permission_id: 'a', source: 'manual' }, { permission_id: 'b', source: 'manual' }, { permission_id: 'gone', source: 'manual' }] });
    const perms = await w.resolver.forUser(ab);
    expect(perms.report()).toEqual({ capabilities: ['files.read', 'users.manage'], patterns: { 'files.read': ['team-a/**', 'team-b/**'] } });
    expect(perms.can('files.read', 'team-b/x')).toBe(true);
    expect(perms.can('files.read', 'team-c/x')).toBe(false);
    const abc = user('abc', { grants: ['a', 'c'].map((permission_id) => ({ permission_id, source: 'manual' })) });
    expect((await w.resolver.forUser(abc)).report()).toEqual({ capabilities: ['files.read'], patterns: {} });
    const denied = user('d', { grants: ab.grants, denied_capabilities: ['users.manage'] });
    expect((await w.resolver.forUser(denied)).report().capabilities).toEqual(['files.read']);
  });

  it('gives a superadmin everything except its denies, and says where each right comes from', async () => {
    const w = world();
    const root = user('root', { is_superadmin: true });
    expect((await w.resolver.forUser(root)).report().capabilities).toHaveLength(9);
    const limited = user('limited', { is_superadmin: true, denied_capabilities: ['users.manage'] });
    const perms = await w.resolver.forUser(limited);
    expect(perms.superadmin).toBe(true);
    expect(perms.can('users.manage')).toBe(false);
    expect(perms.can('files.write', 'any/where')).toBe(true);
    expect((await w.resolver.sourcesForUser(limited)).map((s) => s.capability)).not.toContain('users.manage');
  });

  it('lists key.unlock as a source wherever settings.manage implies it, and not once that is denied', async () => {
    const w = world();
    w.setBundles([bundle('ops', ['settings.manage', 'files.read'])]);
    const ops = user('ops', { grants: [{ permission_id: 'ops', source: 'manual' }] });
    expect(await w.resolver.sourcesForUser(ops)).toEqual([
      { capability: 'settings.manage', kind: 'db_bundle', bundle: 'ops' },
      { capability: 'files.read', kind: 'db_bundle', bundle: 'ops' },
      { capability: 'key.unlock', kind: 'db_bundle', bundle: 'ops' },
    ]);
    const denied = { ...ops, denied_capabilities: ['settings.manage' as const] };
    expect(await w.resolver.sourcesForUser(denied)).toEqual([{ capability: 'files.read', kind: 'db_bundle', bundle: 'ops' }]);
    expect((await w.resolver.forUser(denied)).report().capabilities).toEqual(['files.read']);
  });

  it('does not cache a result computed across an invalidation', async () => {
    const w = world();
    w.setBundles([bundle('a', ['files.read'])]);
    const bob = user('bob', { grants: [{ permission_id: 'a', source: 'manual' }] });
    const release = w.hold();
    const inFlight = w.resolver.forUser(bob);
    // The bundle loses files.read while the lookup above still holds the old listing.
    w.setBundles([bundle('a', [])]);
    w.resolver.invalidate();
    release();
    expect((await inFlight).can('files.read')).toBe(true);
    expect((await w.resolver.forUser(bob)).can('files.read')).toBe(false);
  });
});

describe('permission resolver: tokens', () => {
  it('bounds a token by its creator and refuses one whose creator is gone or disabled', async () => {
    const w = world();
    w.setBundles([bundle('a', ['files.read'], { 'files.read': ['team-a/**'] })]);
    w.users.set('u', user('u', { grants: [{ permission_id: 'a', source: 'manual' }] }));
    const perms = await w.resolver.forToken(token('t'));
    expect(perms.can('files.read', 'team-a/x')).toBe(true);
    expect(perms.can('files.read', 'team-b/x')).toBe(false);
    w.users.set('u', user('u', { disabled: true }));
    w.resolver.invalidate();
    expect(await codeOf(w.resolver.forToken(token('t')))).toBe('ERR_TOKEN_CREATOR_INACTIVE');
    w.users.delete('u');
    expect(await codeOf(w.resolver.forToken(token('t2')))).toBe('ERR_TOKEN_CREATOR_INACTIVE');
  });

  it('bounds a token minted by a token by the parent, until the parent is disabled or expires', async () => {
    const w = world();
    w.users.set('u', user('u', { is_superadmin: true }));
    w.tokens.set('parent', token('parent', { scopes: [{ path: 'team-a/**', operations: ['read'] }], expires_at: new Date(NOW + 1000).toISOString() }));
    const child = token('child', { created_by_token_id: 'parent' });
    const perms = await w.resolver.forToken(child);
    expect(perms.can('files.read', 'team-a/x')).toBe(true);
    expect(perms.can('files.read', 'team-b/x')).toBe(false);
    w.advance(999);
    expect(await codeOf(w.resolver.forToken(child))).toBe('ok');
    w.advance(1);
    expect(await codeOf(w.resolver.forToken(child))).toBe('ERR_TOKEN_CREATOR_INACTIVE');
    w.resolver.invalidate();
    expect(await codeOf(w.resolver.forToken(child))).toBe('ERR_TOKEN_CREATOR_INACTIVE');

    w.tokens.set('parent', token('parent', { active: false }));
    expect(await codeOf(w.resolver.forToken(token('child2', { created_by_token_id: 'parent' })))).toBe('ERR_TOKEN_CREATOR_INACTIVE');
    expect(await codeOf(w.resolver.forToken(token('orphan', { created_by_token_id: 'missing' })))).toBe('ERR_TOKEN_CREATOR_INACTIVE');
  });

  it('refuses an over-long chain of tokens minting tokens', async () => {
    const w = world();
    w.users.set('u', user('u', { is_superadmin: true }));
    w.tokens.set('t0', token('t0'));
    for (let i = 1; i <= 9; i++) w.tokens.set(`t${i}`, token(`t${i}`, { created_by_token_id: `t${i - 1}` }));
    expect(await codeOf(w.resolver.forToken(token('ok', { created_by_token_id: 't7' })))).toBe('ok');
    expect(await codeOf(w.resolver.forToken(token('deep', { created_by_token_id: 't9' })))).toBe('ERR_TOKEN_CREATOR_INACTIVE');
  });
});
