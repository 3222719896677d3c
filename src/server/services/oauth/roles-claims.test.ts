import { describe, expect, it } from 'vitest';
import { rolesFromClaims } from './roles-claims.ts';

const claims = {
  groups: ['admins', 'readers', 7, ''],
  role: 'single',
  realm_access: { roles: ['offline_access'] },
  resource_access: { pika: { roles: ['editor', 'viewer'] }, account: { roles: 'manage-account' }, broken: { roles: { nested: true } }, empty: {} },
  teams: [{ name: 'red' }, { name: 'blue' }],
};

describe('rolesFromClaims', () => {
  it('reads arrays and strings at dot paths', () => {
    expect(rolesFromClaims(claims, ['groups'])).toEqual(['admins', 'readers']);
    expect(rolesFromClaims(claims, ['role', 'realm_access.roles'])).toEqual(['single', 'offline_access']);
  });

  it('fans out over object keys and array elements at `*`', () => {
    expect(rolesFromClaims(claims, ['resource_access.*.roles'])).toEqual(['editor', 'viewer', 'manage-account']);
    expect(rolesFromClaims(claims, ['teams.*.name'])).toEqual(['red', 'blue']);
  });

  it('de-duplicates across paths, and ignores missing or non-string leaves', () => {
    expect(rolesFromClaims({ a: ['x', 'y'], b: 'x' }, ['a', 'b', 'missing.path', 'a.length', '', 'resource_access'])).toEqual(['x', 'y']);
    expect(rolesFromClaims(claims, ['resource_access.pika'])).toEqual([]);
  });

  it('does not walk into inherited properties', () => {
    expect(rolesFromClaims({}, ['constructor.name', '__proto__.toString'])).toEqual([]);
  });
});
