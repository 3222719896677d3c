import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Attribute, Change, Client } from 'ldapts';
import { ADMIN_DN, ADMIN_PASSWORD, configLdif, groupDn, initialEntries, type Person, personDn, personEntry } from './slapd-ldif.ts';

export * from './slapd-ldif.ts';

/**
 * A private OpenLDAP slapd for one test file (reference/test-services.md §4): its own cn=config
 * in a temp dir, ldap:// and ldaps:// on free loopback ports, a self-signed certificate, the
 * memberOf overlay, and the people and groups of slapd-ldif.ts. Start it in `beforeAll`, stop it
 * in `afterAll`; the helpers change the directory the way an administrator would.
 */
export interface Slapd {
  readonly ldapUrl: string;
  readonly ldapsUrl: string;
  /** The self-signed certificate, which is its own CA. */
  readonly caPem: string;
  /** A URL on which nothing listens (a directory that is down). */
  readonly deadUrl: string;
  addPerson(person: Person, groups?: readonly string[]): Promise<void>;
  removePerson(uid: string): Promise<void>;
  setAttribute(uid: string, attribute: string, value: string): Promise<void>;
  addMember(group: string, uid: string): Promise<void>;
  removeMember(group: string, uid: string): Promise<void>;
  stop(): Promise<void>;
}

const READY_DEADLINE_MS = 10_000;

export async function startSlapd(): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'pika-slapd-'));
  mkdirSync(join(dir, 'slapd.d'));
  mkdirSync(join(dir, 'data'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  writeFileSync(join(dir, 'config.ldif'), configLdif(dir));
  execFileSync('slapadd', ['-n', '0', '-F', join(dir, 'slapd.d'), '-l', join(dir, 'config.ldif')], { stdio: 'pipe' });

  const [ldapPort, ldapsPort, deadPort] = [await freePort(), await freePort(), await freePort()];
  const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
  // `-d 0` keeps slapd in the foreground, so it is our child and dies by our PID.
  const child = spawn('slapd', ['-F', join(dir, 'slapd.d'), '-h', `${ldapUrl}/ ${ldapsUrl}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  try {
    await waitUntilReady(ldapUrl, child, () => stderr);
    await asAdmin(ldapUrl, async (c) => {
      for (const entry of initialEntries()) await c.add(entry.dn, entry.attributes);
    });
  } catch (err) {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const admin = <T>(fn: (client: Client) => Promise<T>) => asAdmin(ldapUrl, fn);
  return {
    ldapUrl,
    ldapsUrl,
    caPem: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    deadUrl: `ldap://127.0.0.1:${deadPort}`,
    addPerson: (person, groups = []) =>
      admin(async (c) => {
        const entry = personEntry(person);
        await c.add(entry.dn, entry.attributes);
        for (const group of groups) await c.modify(groupDn(group), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [entry.dn] }) }));
      }),
    removePerson: (uid) => admin((c) => c.del(personDn(uid))),
    setAttribute: (uid, attribute, value) => admin((c) => c.modify(personDn(uid), new Change({ operation: 'replace', modification: new Attribute({ type: attribute, values: [value] }) }))),
    addMember: (group, uid) => admin((c) => c.modify(groupDn(group), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [personDn(uid)] }) }))),
    removeMember: (group, uid) => admin((c) => c.modify(groupDn(group), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [personDn(uid)] }) }))),
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function asAdmin<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url, timeout: 5_000, connectTimeout: 5_000 });
  try {
    await client.bind(ADMIN_DN, ADMIN_PASSWORD);
    return await fn(client);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** Polls an anonymous root-DSE read until it answers, or fails at the deadline (slapd exited or hung). */
async function waitUntilReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}: ${log()}`);
    const client = new Client({ url, timeout: 1_000, connectTimeout: 1_000 });
    try {
      await client.search('', { scope: 'base', attributes: ['namingContexts'] });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`slapd not ready after ${READY_DEADLINE_MS} ms: ${String(err)} ${log()}`);
    } finally {
      await client.unbind().catch(() => undefined);
    }
    await delay(20); // poll interval, bounded by the deadline above
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  child.kill('SIGTERM');
  await exited;
}

/** A port the OS just handed out on 127.0.0.1 (closed again; slapd binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}
