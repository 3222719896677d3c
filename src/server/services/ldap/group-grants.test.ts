import { describe, expect, it } from 'vitest';
import type { BundleRecord, UserRecord } from '../identity/identity-records.ts';
import { applyGrants, bundlesFor, planGroupGrants } from './group-grants.ts';

const bundle = (id: string, key: string): BundleRecord => ({ id, key, name: key, description: '', keys: [], key_patterns: {}, created_at: '', updated_at: '' });
const BUNDLES = [bundle('b-admin', 'admin'), bundle('b-read', 'read')];

describe('group → bundle mapping', () => {
  it('maps group names and DNs case-insensitively, by bundle id or key, and reports unknown bundles', () => {
    const plan = planGroupGrants({ Admins: ['admin', 'missing'], 'cn=readers,ou=groups,dc=example,dc=test': ['b-read'], nobody: ['read'] }, BUNDLES);
    expect(plan.unknown).toEqual(['group_permissions: unknown permission bundle "missing" (group "Admins")']);
    const groups = [
      { name: 'admins', dn: 'cn=admins,ou=groups,dc=example,dc=test' },
      { name: 'readers', dn: 'CN=Readers,OU=Groups,DC=Example,DC=Test' },
    ];
    expect(bundlesFor(plan, groups)).toEqual(['b-admin', 'b-read']);
    expect(bundlesFor(plan, [])).toEqual([]);
  });

  it('writes grants only when the set from its source changed', async () => {
    const writes: string[][] = [];
    const users = {
      setGrants: async (_id: string, ids: string[], source?: string) => {
        writes.push([source ?? '', ...ids]);
        return user;
      },
    };
    const user = { id: 'u1', grants: [{ permission_id: 'b-read', source: 'sync:corp' }, { permission_id: 'b-admin', source: 'manual' }] } as UserRecord;
    expect(await applyGrants(users, user, 'sync:corp', ['b-read'])).toBeUndefined();
    expect(await applyGrants(users, user, 'sync:corp', ['b-admin', 'b-read'])).toBe(user);
    expect(await applyGrants(users, user, 'sync:corp', [])).toBe(user);
    expect(writes).toEqual([['sync:corp', 'b-admin', 'b-read'], ['sync:corp']]);
  });
});
