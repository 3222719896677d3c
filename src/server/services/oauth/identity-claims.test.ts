import { describe, expect, it } from 'vitest';
import { identityFromClaims } from './identity-claims.ts';

describe('identityFromClaims', () => {
  it('takes the subject from the ID token and identity fields from userinfo first', () => {
    const identity = identityFromClaims(
      'kc',
      {
        idToken: { sub: 'abc', name: 'From Token', email: 'token@example.test', email_verified: true, groups: ['a'] },
        userinfo: { sub: 'abc', name: ' From Userinfo ', preferred_username: 'alice', groups: ['b'] },
      },
      ['groups'],
    );
    expect(identity).toEqual({ provider: 'kc', subject: 'abc', email: 'token@example.test', emailVerified: true, preferredUsername: 'alice', displayName: 'From Userinfo', groups: ['b'] });
  });

  it('names plain OAuth2 users by userinfo sub, or by a GitHub-style numeric id', () => {
    expect(identityFromClaims('gh', { userinfo: { sub: 's-1' } }, [])?.subject).toBe('s-1');
    expect(identityFromClaims('gh', { userinfo: { id: 583231, login: 'octocat' } }, [])?.subject).toBe('583231');
    expect(identityFromClaims('gh', { userinfo: { id: 1.5 } }, [])).toBeUndefined();
    expect(identityFromClaims('gh', { userinfo: { name: 'no id' } }, [])).toBeUndefined();
    expect(identityFromClaims('gh', { idToken: { sub: '' } }, [])).toBeUndefined();
  });

  it('counts an email as verified only when email_verified is JSON true', () => {
    for (const value of ['true', 1, undefined, false]) {
      expect(identityFromClaims('x', { idToken: { sub: 's', email: 'a@b.test', email_verified: value } }, [])?.emailVerified, String(value)).toBe(false);
    }
  });
});
