import { describe, expect, it } from 'vitest';
import { escapeFilterValue, fillFilter, firstRdnValue, normalizeDn } from './ldap-filter.ts';

describe('LDAP filter escaping (RFC 4515)', () => {
  it('escapes the filter metacharacters and NUL', () => {
    expect(escapeFilterValue('a*b(c)d\\e\u0000f')).toBe('a\\2ab\\28c\\29d\\5ce\\00f');
  });

  it('turns an injection attempt into a literal name', () => {
    expect(fillFilter('(uid={username})', { username: '*)(uid=*' })).toBe('(uid=\\2a\\29\\28uid=\\2a)');
    expect(fillFilter('(&(objectClass=person)(uid={username}))', { username: 'alice)(|(uid=*' })).toBe('(&(objectClass=person)(uid=alice\\29\\28|\\28uid=\\2a))');
  });

  it('substitutes every placeholder, leaves unknown ones, and passes raw values through only when asked', () => {
    expect(fillFilter('(|(member={dn})(memberUid={username}))', { dn: 'uid=a\\,b,ou=x', username: 'a' })).toBe('(|(member=uid=a\\5c,b,ou=x)(memberUid=a))');
    expect(fillFilter('(uid={username})', { username: '*' }, ['username'])).toBe('(uid=*)');
    expect(fillFilter('(uid={username})', { username: '*' })).toBe('(uid=\\2a)');
    expect(fillFilter('(x={other})', { username: 'a' })).toBe('(x={other})');
  });
});

describe('DN helpers', () => {
  it('reads the first RDN value of group DNs', () => {
    expect(firstRdnValue('cn=admins,ou=groups,dc=example,dc=test')).toBe('admins');
    expect(firstRdnValue('CN = Domain Admins , OU=Groups')).toBe('Domain Admins');
    expect(firstRdnValue('cn=R\\26D\\, Europe,ou=groups')).toBe('R&D, Europe');
    expect(firstRdnValue('cn=caf\\c3\\a9,ou=groups')).toBe('café');
    expect(firstRdnValue('cn=a+uid=b,ou=groups')).toBe('a');
    expect(firstRdnValue('not a dn')).toBeUndefined();
    expect(firstRdnValue('cn=,ou=x')).toBeUndefined();
  });

  it('normalises DNs for use as subjects', () => {
    expect(normalizeDn(' UID=Alice,OU=People,DC=Example,DC=Test ')).toBe('uid=alice,ou=people,dc=example,dc=test');
  });
});
