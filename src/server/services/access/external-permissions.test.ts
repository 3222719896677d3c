import { describe, expect, it } from 'vitest';
import { isAllowlisted, mappedGrants, mappingSources, splitGroups } from './external-permissions.ts';

describe('external permissions', () => {
  it('maps groups to the union of their capabilities and ignores unknown groups', () => {
    const mapping = { 'pika-editor': ['files.read', 'files.write', 'external.read'], auditors: ['files.read', 'tokens.manage'] } as const;
    const grants = mappedGrants(['pika-editor', 'auditors', 'nobody-knows-me'], mapping);
    expect([...grants.keys()].sort()).toEqual(['external.read', 'files.read', 'files.write', 'tokens.manage']);
    expect([...grants.values()].every((g) => g === 'all')).toBe(true);
    expect(mappedGrants(['nobody-knows-me'], mapping).size).toBe(0);
    expect(mappingSources(['auditors'], mapping)).toEqual([
      { capability: 'files.read', role: 'auditors' },
      { capability: 'tokens.manage', role: 'auditors' },
    ]);
  });

  it('matches the superadmin allowlist by subject, provider:subject or username', () => {
    const who = { provider: 'google', subject: '1234', username: 'alice', groups: [] };
    expect(isAllowlisted(who, ['1234'])).toBe(true);
    expect(isAllowlisted(who, ['google:1234'])).toBe(true);
    expect(isAllowlisted(who, ['alice'])).toBe(true);
    expect(isAllowlisted(who, ['github:1234', 'bob', ''])).toBe(false);
    expect(isAllowlisted({ provider: 'x', groups: [] }, [''])).toBe(false);
  });

  it('splits header values on a configurable separator and joins repeated lines', () => {
    expect(splitGroups(['pika-editor,auditors'], ',')).toEqual(['pika-editor', 'auditors']);
    expect(splitGroups(['a|b', 'c|a', ' | '], '|')).toEqual(['a', 'b', 'c']);
    expect(splitGroups(['a, b'], ',')).toEqual(['a', 'b']);
  });
});
