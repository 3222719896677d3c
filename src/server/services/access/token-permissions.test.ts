import { describe, expect, it } from 'vitest';
import type { Capability } from '../../../shared/capabilities.ts';
import { allPermissions, grantPermissions } from './permissions.ts';
import { type TokenScope, tokenPermissions } from './token-permissions.ts';

const ALL = allPermissions();
const scope = (path: string, ...operations: TokenScope['operations']): TokenScope => ({ path, operations });

describe('tokenPermissions', () => {
  it('maps read to files.read and write/delete to files.write, per operation', () => {
    const perms = tokenPermissions([scope('r/**', 'read'), scope('w/**', 'write'), scope('d/**', 'delete')], [], ALL);
    expect(perms.can('files.read', 'r/x', 'read')).toBe(true);
    expect(perms.can('files.write', 'r/x', 'write')).toBe(false);
    expect(perms.can('files.write', 'w/x', 'write')).toBe(true);
    expect(perms.can('files.write', 'w/x', 'delete')).toBe(false);
    expect(perms.can('files.read', 'w/x', 'read')).toBe(false);
    expect(perms.can('files.write', 'd/x', 'delete')).toBe(true);
    expect(perms.can('files.write', 'd/x', 'write')).toBe(false);
  });

  it('lets * stand for every operation', () => {
    const perms = tokenPermissions([scope('a/**', '*')], [], ALL);
    for (const [cap, op] of [['files.read', 'read'], ['files.write', 'write'], ['files.write', 'delete']] as const) expect(perms.can(cap, 'a/b', op)).toBe(true);
    expect(perms.can('files.read', 'b/a', 'read')).toBe(false);
  });

  it('grants management capabilities only when listed, never from scopes', () => {
    const scoped = tokenPermissions([scope('**', '*')], [], ALL);
    for (const cap of ['users.manage', 'tokens.manage', 'settings.manage', 'permissions.manage', 'key.unlock', 'external.read'] as Capability[]) expect(scoped.can(cap)).toBe(false);
    const withCaps = tokenPermissions([], ['users.manage', 'settings.manage'], ALL);
    expect(withCaps.can('users.manage')).toBe(true);
    expect(withCaps.can('key.unlock')).toBe(true);
    expect(withCaps.can('files.read', 'a')).toBe(false);
    expect(withCaps.report()).toEqual({ capabilities: ['settings.manage', 'users.manage', 'key.unlock'], patterns: {} });
  });

  it('ignores scopes for a named external resource when checking internal configs', () => {
    const perms = tokenPermissions([{ resource: 'vault', path: '**', operations: ['read'] }], [], ALL);
    expect(perms.can('files.read', 'a', 'read')).toBe(false);
    expect(perms.canSeeFolder('')).toBe(false);
  });

  it('never exceeds the creator, whatever the scopes and capabilities say', () => {
    const creator = grantPermissions(new Map<Capability, 'all' | string[]>([['files.read', ['team-a/**']], ['tokens.manage', 'all']]));
    const perms = tokenPermissions([scope('**', '*')], ['tokens.manage', 'users.manage'], creator);
    expect(perms.can('files.read', 'team-a/x', 'read')).toBe(true);
    expect(perms.can('files.read', 'team-b/x', 'read')).toBe(false);
    expect(perms.can('files.write', 'team-a/x', 'write')).toBe(false);
    expect(perms.can('users.manage')).toBe(false);
    expect(perms.can('tokens.manage')).toBe(true);
    expect(perms.canSeeFolder('team-a')).toBe(true);
    expect(perms.canSeeFolder('team-b')).toBe(false);
    expect(perms.superadmin).toBe(false);
    expect(perms.report().capabilities).toEqual(['files.read', 'tokens.manage']);
  });

  it('shows the folders on the way to readable scopes only', () => {
    const perms = tokenPermissions([scope('team-a/apps/*', 'read'), scope('team-b/**', 'write')], [], ALL);
    expect(perms.canSeeFolder('')).toBe(true);
    expect(perms.canSeeFolder('team-a/apps')).toBe(true);
    expect(perms.canSeeFolder('team-b')).toBe(false);
    expect(perms.report().patterns).toEqual({ 'files.read': ['team-a/apps/*'], 'files.write': ['team-b/**'] });
  });
});
