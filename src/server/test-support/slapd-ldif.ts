import { createHash, randomBytes } from 'node:crypto';

/**
 * The configuration and the starting directory of the test slapd (reference/test-services.md
 * §4): a private cn=config with the memberOf and refint overlays, TLS from a self-signed
 * certificate, and a small DIT — people alice, bob and carol; groups admins (alice) and readers
 * (alice, bob). carol is in no group, so "no groups" has a subject too.
 */
export const BASE_DN = 'dc=example,dc=test';
export const PEOPLE_DN = `ou=people,${BASE_DN}`;
export const GROUPS_DN = `ou=groups,${BASE_DN}`;
export const ADMIN_DN = `cn=admin,${BASE_DN}`;
export const ADMIN_PASSWORD = 'adminpw';

export interface Person {
  readonly uid: string;
  readonly password: string;
  readonly cn: string;
  readonly mail?: string;
}

export const PEOPLE: Record<'alice' | 'bob' | 'carol', Person> = {
  alice: { uid: 'alice', password: 'alice-secret-1', cn: 'Alice Liddell', mail: 'alice@example.test' },
  bob: { uid: 'bob', password: 'bob-secret-22', cn: 'Bob Builder', mail: 'bob@example.test' },
  carol: { uid: 'carol', password: 'carol-secret-333', cn: 'Carol Danvers', mail: 'carol@example.test' },
};

export const GROUPS: Record<'admins' | 'readers', readonly string[]> = {
  admins: ['alice'],
  readers: ['alice', 'bob'],
};

export const personDn = (uid: string) => `uid=${uid},${PEOPLE_DN}`;
export const groupDn = (cn: string) => `cn=${cn},${GROUPS_DN}`;

/** `{SSHA}` as slappasswd makes it, so the directory never holds a plaintext password. */
export function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

export function configLdif(dir: string): string {
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/slapd.pid
olcArgsFile: ${dir}/slapd.args
olcTLSCertificateFile: ${dir}/cert.pem
olcTLSCertificateKeyFile: ${dir}/key.pem

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: refint

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file:///etc/ldap/schema/nis.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
olcRootPW: ${ssha(ADMIN_PASSWORD)}

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: ${dir}/data
olcSuffix: ${BASE_DN}
olcRootDN: ${ADMIN_DN}
olcRootPW: ${ssha(ADMIN_PASSWORD)}
olcDbMaxSize: 104857600
olcDbIndex: objectClass eq
olcDbIndex: uid,cn,mail eq,sub
olcDbIndex: member,memberOf eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by self read by users read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member
olcRefintAttribute: memberOf
`;
}

/** Entries to add (in order) once slapd runs: the overlays only see entries added online. */
export function initialEntries(): { dn: string; attributes: Record<string, string | string[]> }[] {
  return [
    { dn: BASE_DN, attributes: { objectClass: ['dcObject', 'organization'], dc: 'example', o: 'Example' } },
    { dn: PEOPLE_DN, attributes: { objectClass: 'organizationalUnit', ou: 'people' } },
    { dn: GROUPS_DN, attributes: { objectClass: 'organizationalUnit', ou: 'groups' } },
    ...Object.values(PEOPLE).map(personEntry),
    ...Object.entries(GROUPS).map(([cn, members]) => ({ dn: groupDn(cn), attributes: { objectClass: 'groupOfNames', cn, member: members.map(personDn) } })),
  ];
}

export function personEntry(person: Person): { dn: string; attributes: Record<string, string | string[]> } {
  const surname = person.cn.split(' ').at(-1) ?? person.uid;
  return {
    dn: personDn(person.uid),
    attributes: { objectClass: 'inetOrgPerson', uid: person.uid, cn: person.cn, sn: surname, userPassword: ssha(person.password), ...(person.mail === undefined ? {} : { mail: person.mail }) },
  };
}
