/**
 * The LDAP client against a real slapd (reference/test-services.md §4): transports, password
 * checks, groups, failures. The HTTP strategy and the sync build on these.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'ldapts';
import { ADMIN_DN, ADMIN_PASSWORD, freePort, GROUPS_DN, groupDn, PEOPLE, PEOPLE_DN, personDn, type Slapd, startSlapd } from '../../test-support/slapd.ts';
import { DEFAULT_LDAP_TIMEOUTS, withDirectory } from './ldap-client.ts';
import { authenticate, type DirectorySettings, listUsers } from './ldap-directory.ts';

let slapd: Slapd;
beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd.stop();
});

function directory(overrides: Partial<DirectorySettings> = {}): DirectorySettings {
  return {
    address: slapd.ldapUrl,
    start_tls: false,
    insecure_skip_verify: false,
    bind_dn: ADMIN_DN,
    bind_password: ADMIN_PASSWORD,
    user_base_dn: PEOPLE_DN,
    user_filter: '(uid={username})',
    attributes: { username: 'uid', email: 'mail', display_name: 'cn', groups: 'memberOf' },
    group_filter: '(member={dn})',
    group_name_attribute: 'cn',
    ...overrides,
  };
}

const ALICE_GROUPS = [
  { name: 'admins', dn: groupDn('admins') },
  { name: 'readers', dn: groupDn('readers') },
];

describe('LDAP password check', () => {
  it.each([
    ['ldap://', () => directory()],
    ['ldaps:// with ca_pem', () => directory({ address: slapd.ldapsUrl, ca_pem: slapd.caPem })],
    ['StartTLS with ca_pem', () => directory({ start_tls: true, ca_pem: slapd.caPem })],
    ['ldaps:// with insecure_skip_verify', () => directory({ address: slapd.ldapsUrl, insecure_skip_verify: true })],
  ])('signs alice in over %s and reads her attributes and memberOf groups', async (_name, settings) => {
    const alice = await authenticate(settings(), DEFAULT_LDAP_TIMEOUTS, 'alice', PEOPLE.alice.password);
    expect(alice).toEqual({ dn: personDn('alice'), subject: personDn('alice'), username: 'alice', email: 'alice@example.test', displayName: 'Alice Liddell', groups: ALICE_GROUPS });
  });

  it('refuses an untrusted certificate over ldaps:// and StartTLS (502, not a wrong password)', async () => {
    await expect(authenticate(directory({ address: slapd.ldapsUrl }), DEFAULT_LDAP_TIMEOUTS, 'alice', PEOPLE.alice.password)).rejects.toMatchObject({ code: 'ERR_LDAP_UNAVAILABLE', status: 502 });
    await expect(authenticate(directory({ start_tls: true }), DEFAULT_LDAP_TIMEOUTS, 'alice', PEOPLE.alice.password)).rejects.toMatchObject({ code: 'ERR_LDAP_UNAVAILABLE' });
  });

  it('answers undefined for a wrong password, an unknown user, an injection attempt and an empty password', async () => {
    const settings = directory();
    expect(await authenticate(settings, DEFAULT_LDAP_TIMEOUTS, 'alice', 'wrong password')).toBeUndefined();
    expect(await authenticate(settings, DEFAULT_LDAP_TIMEOUTS, 'nobody', PEOPLE.alice.password)).toBeUndefined();
    // Unescaped, `(uid=*)(uid=*)` would not even parse, and `*` alone would match everyone.
    expect(await authenticate(settings, DEFAULT_LDAP_TIMEOUTS, '*)(uid=*', PEOPLE.alice.password)).toBeUndefined();
    expect(await authenticate(settings, DEFAULT_LDAP_TIMEOUTS, '*', PEOPLE.alice.password)).toBeUndefined();
    // An empty password never reaches a bind (slapd would refuse the unauthenticated bind with
    // unwillingToPerform, which would surface as a 502; other servers accept it as anonymous).
    expect(await authenticate(settings, DEFAULT_LDAP_TIMEOUTS, 'alice', '')).toBeUndefined();
  });

  it('refuses a filter that matches several people instead of picking one', async () => {
    const wide = directory({ user_filter: '(|(uid={username})(objectClass=inetOrgPerson))' });
    expect(await authenticate(wide, DEFAULT_LDAP_TIMEOUTS, 'alice', PEOPLE.alice.password)).toBeUndefined();
  });

  it('reads groups with a group search when the groups attribute is empty', async () => {
    const search = directory({ attributes: { username: 'uid', email: 'mail', display_name: 'cn', groups: '' }, group_base_dn: GROUPS_DN });
    expect((await authenticate(search, DEFAULT_LDAP_TIMEOUTS, 'alice', PEOPLE.alice.password))?.groups).toEqual(ALICE_GROUPS);
    expect((await authenticate(search, DEFAULT_LDAP_TIMEOUTS, 'bob', PEOPLE.bob.password))?.groups).toEqual([{ name: 'readers', dn: groupDn('readers') }]);
    expect((await authenticate(search, DEFAULT_LDAP_TIMEOUTS, 'carol', PEOPLE.carol.password))?.groups).toEqual([]);
    const byName = { ...search, group_filter: '(member=uid={username},ou=people,dc=example,dc=test)' };
    expect((await authenticate(byName, DEFAULT_LDAP_TIMEOUTS, 'bob', PEOPLE.bob.password))?.groups.map((g) => g.name)).toEqual(['readers']);
  });
});

describe('LDAP failures', () => {
  it('reports a refused service account, a directory that is down and a bad base DN as ERR_LDAP_UNAVAILABLE', async () => {
    await expect(authenticate(directory({ bind_password: 'not the password' }), DEFAULT_LDAP_TIMEOUTS, 'alice', PEOPLE.alice.password)).rejects.toThrow(/refused the service account/);
    await expect(authenticate(directory({ bind_password: undefined }), DEFAULT_LDAP_TIMEOUTS, 'alice', PEOPLE.alice.password)).rejects.toThrow(/bind password is not set/);
    await expect(authenticate(directory({ address: slapd.deadUrl }), DEFAULT_LDAP_TIMEOUTS, 'alice', PEOPLE.alice.password)).rejects.toMatchObject({ code: 'ERR_LDAP_UNAVAILABLE' });
    await expect(authenticate(directory({ user_base_dn: 'ou=nowhere,dc=example,dc=test' }), DEFAULT_LDAP_TIMEOUTS, 'alice', PEOPLE.alice.password)).rejects.toMatchObject({ code: 'ERR_LDAP_UNAVAILABLE' });
  });

  it('gives up on a directory that accepts the connection and never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      const timeouts = { connectMs: 500, operationMs: 200 };
      await expect(authenticate(directory({ address: `ldap://127.0.0.1:${port}` }), timeouts, 'alice', PEOPLE.alice.password)).rejects.toThrow(/timed out/);
      await expect(authenticate(directory({ address: `ldap://127.0.0.1:${port}`, start_tls: true }), timeouts, 'alice', PEOPLE.alice.password)).rejects.toThrow(/timed out/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('LDAP listing', () => {
  it('lists every person page by page with their groups', async () => {
    const settings = directory();
    const people = await withDirectory(settings, DEFAULT_LDAP_TIMEOUTS, async (session) => {
      await session.serviceBind();
      const out = [];
      for await (const person of listUsers(session, settings, 1)) out.push(person);
      return out;
    });
    expect(people.map((p) => [p.username, p.groups.map((g) => g.name)])).toEqual([
      ['alice', ['admins', 'readers']],
      ['bob', ['readers']],
      ['carol', []],
    ]);
  });

  it('sees the slapd harness as an administrator would change it', async () => {
    await slapd.addMember('admins', 'bob');
    try {
      const client = new Client({ url: slapd.ldapUrl });
      await client.bind(ADMIN_DN, ADMIN_PASSWORD);
      const { searchEntries } = await client.search(personDn('bob'), { scope: 'base', attributes: ['memberOf'] });
      await client.unbind();
      expect(searchEntries[0]?.memberOf).toEqual([groupDn('readers'), groupDn('admins')]);
    } finally {
      await slapd.removeMember('admins', 'bob');
    }
  });
});
