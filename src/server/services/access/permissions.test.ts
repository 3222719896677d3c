import { describe, expect, it } from 'vitest';
import type { Capability } from '../../../shared/capabilities.ts';
import { allPermissions, type Grants, grantPermissions, NO_PERMISSIONS, unionGrants } from './permissions.ts';

const grants = (entries: [Capability, 'all' | string[]][]): Grants => new Map(entries);

describe('unionGrants', () => {
  it('concatenates patterns without duplicates', () => {
    const out = unionGrants([grants([['files.read', ['a/**', 'b/**']]]), grants([['files.read', ['b/**', 'c/*']]])]);
    expect(out.get('files.read')).toEqual(['a/**', 'b/**', 'c/*']);
  });

  it('lets an unrestricted grant win, whichever source comes first', () => {
    expect(unionGrants([grants([['files.read', ['a/**']]]), grants([['files.read', 'all']])]).get('files.read')).toBe('all');
    expect(unionGrants([grants([['files.read', 'all']]), grants([['files.read', ['a/**']]])]).get('files.read')).toBe('all');
  });

  it('removes denied capabilities last', () => {
    const out = unionGrants([grants([['files.read', 'all'], ['users.manage', 'all']]), grants([['users.manage', 'all']])], ['users.manage']);
    expect([...out.keys()]).toEqual(['files.read']);
  });
});

describe('grantPermissions', () => {
  const perms = grantPermissions(grants([['files.read', ['team-a/**']], ['files.write', 'all'], ['settings.manage', 'all']]));

  it('checks path-scoped capabilities against their patterns', () => {
    expect(perms.can('files.read', 'team-a/x')).toBe(true);
    expect(perms.can('files.read', 'team-a/x@prod')).toBe(true);
    expect(perms.can('files.read', 'team-b/x')).toBe(false);
    expect(perms.can('files.read')).toBe(true); // held for some path
    expect(perms.can('files.write', 'anything/at/all')).toBe(true);
    expect(perms.can('users.manage')).toBe(false);
    expect(perms.can('external.read', 'vault')).toBe(false);
  });

  it('implies key.unlock by settings.manage, and only by it', () => {
    expect(perms.can('key.unlock')).toBe(true);
    expect(perms.report().capabilities).toEqual(['files.read', 'files.write', 'settings.manage', 'key.unlock']);
    expect(grantPermissions(grants([['key.unlock', 'all']])).can('settings.manage')).toBe(false);
    expect(grantPermissions(grants([['users.manage', 'all']])).can('key.unlock')).toBe(false);
  });

  it('reports patterns only for restricted path-scoped capabilities', () => {
    expect(perms.report().patterns).toEqual({ 'files.read': ['team-a/**'] });
  });

  it('shows the folders that lead to readable configs', () => {
    expect(perms.canSeeFolder('')).toBe(true);
    expect(perms.canSeeFolder('team-a')).toBe(true);
    expect(perms.canSeeFolder('team-a/deep')).toBe(true);
    expect(perms.canSeeFolder('team-b')).toBe(false);
    expect(grantPermissions(grants([['files.write', 'all']])).canSeeFolder('')).toBe(false);
  });

  it('never lets an unusable pattern grant anything', () => {
    const broken = grantPermissions(grants([['files.read', ['', '/']]]));
    expect(broken.can('files.read', 'a')).toBe(false);
    expect(broken.can('files.read', '')).toBe(false);
  });
});

describe('fixed permission sets', () => {
  it('grants everything to allPermissions and nothing to NO_PERMISSIONS', () => {
    expect(allPermissions().can('users.manage')).toBe(true);
    expect(allPermissions().report().capabilities).toHaveLength(9);
    expect(NO_PERMISSIONS.can('files.read', 'a')).toBe(false);
    expect(NO_PERMISSIONS.report()).toEqual({ capabilities: [], patterns: {} });
  });
});
