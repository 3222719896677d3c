import { isIP } from 'node:net';
import { type ConnectionOptions, rootCertificates } from 'node:tls';
import { Client, type Entry, InvalidCredentialsError } from 'ldapts';
import { AppError, isAppError } from '../../../shared/errors.ts';
import type { LdapSettings } from '../settings/auth-section.ts';

/**
 * One conversation with a directory over ldapts: connect (ldap://, ldap:// + StartTLS, or
 * ldaps://), run the caller's steps, always unbind. Every step has a deadline, so a directory
 * that accepts the connection and then says nothing cannot hold a sign-in or a sync forever.
 * Anything that goes wrong below the caller's own logic (refused connection, TLS failure,
 * timeout, the service account refused, an unknown base DN) becomes one error,
 * `ERR_LDAP_UNAVAILABLE` (502), naming the directory and the cause — never a 500.
 */
export type LdapConnection = Pick<LdapSettings, 'address' | 'start_tls' | 'ca_pem' | 'insecure_skip_verify' | 'bind_dn' | 'bind_password'>;

export interface LdapTimeouts {
  /** TCP connect (and the TLS handshake of ldaps://). */
  readonly connectMs: number;
  /** Each LDAP operation, and the StartTLS handshake. */
  readonly operationMs: number;
}

export const DEFAULT_LDAP_TIMEOUTS: LdapTimeouts = { connectMs: 5_000, operationMs: 10_000 };

export interface SearchSpec {
  readonly filter: string;
  readonly attributes: readonly string[];
  /** 0 = no client-side limit. */
  readonly sizeLimit?: number;
}

export interface DirectorySession {
  /** Binds as `bind_dn` (anonymous when it is empty): searches run with the service account's rights. */
  serviceBind(): Promise<void>;
  /** True when `dn` accepts `password`; false when the directory says the credentials are wrong. */
  checkPassword(dn: string, password: string): Promise<boolean>;
  search(base: string, spec: SearchSpec): Promise<Entry[]>;
  /** A paged search (RFC 2696), one page of entries at a time. */
  searchPages(base: string, spec: SearchSpec & { readonly pageSize: number }): AsyncGenerator<Entry[]>;
}

export async function withDirectory<T>(conn: LdapConnection, timeouts: LdapTimeouts, steps: (session: DirectorySession) => Promise<T>): Promise<T> {
  const host = hostOf(conn.address);
  const tlsOptions = tlsOptionsFor(conn, host);
  const secure = conn.address.toLowerCase().startsWith('ldaps://');
  // ldapts speaks TLS from the first byte whenever tlsOptions are given, so ldap:// gets none.
  const client = new Client({ url: conn.address, timeout: timeouts.operationMs, connectTimeout: timeouts.connectMs, strictDN: false, ...(secure ? { tlsOptions } : {}) });
  try {
    if (conn.start_tls && !secure) {
      // ldapts upgrades the socket without a host, so name it here for the certificate check.
      await deadline(client.startTLS({ ...tlsOptions, host, ...(isIP(host) ? {} : { servername: host }) }), timeouts.operationMs, 'StartTLS');
    }
    return await steps(sessionOver(client, conn));
  } catch (err) {
    throw isAppError(err) ? err : unavailable(conn.address, err);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

function sessionOver(client: Client, conn: LdapConnection): DirectorySession {
  return {
    async serviceBind() {
      if (conn.bind_dn === '') return;
      // A bind DN without its password (locked server: sealed secrets are unreadable) would be an
      // anonymous bind that "succeeds"; refuse it as a configuration problem instead.
      const password: unknown = conn.bind_password;
      if (typeof password !== 'string' || password === '') throw unavailable(conn.address, new Error('the bind password is not set or cannot be read (is the server key unlocked?)'));
      try {
        await client.bind(conn.bind_dn, password);
      } catch (err) {
        if (err instanceof InvalidCredentialsError) throw unavailable(conn.address, new Error(`the directory refused the service account ${conn.bind_dn}`));
        throw err;
      }
    },
    async checkPassword(dn, password) {
      // RFC 4513 §5.1.2: a simple bind with a DN and an empty password is an *unauthenticated*
      // bind, which many servers answer with success. It must never count as a sign-in.
      if (password === '') return false;
      try {
        await client.bind(dn, password);
        return true;
      } catch (err) {
        if (err instanceof InvalidCredentialsError) return false;
        throw err;
      }
    },
    async search(base, spec) {
      const result = await client.search(base, { scope: 'sub', filter: spec.filter, attributes: [...spec.attributes], sizeLimit: spec.sizeLimit ?? 0 });
      return result.searchEntries;
    },
    async *searchPages(base, spec) {
      const pages = client.searchPaginated(base, { scope: 'sub', filter: spec.filter, attributes: [...spec.attributes], sizeLimit: spec.sizeLimit ?? 0, paged: { pageSize: spec.pageSize } });
      for await (const page of pages) yield page.searchEntries;
    },
  };
}

/**
 * TLS for ldaps:// and StartTLS. `ca_pem` is trusted *besides* the system roots (Node's `ca`
 * replaces them otherwise); `insecure_skip_verify` turns certificate checks off entirely.
 */
export function tlsOptionsFor(conn: Pick<LdapConnection, 'ca_pem' | 'insecure_skip_verify'>, host: string): ConnectionOptions {
  return {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: !conn.insecure_skip_verify,
    ...(conn.ca_pem ? { ca: [...rootCertificates, conn.ca_pem] } : {}),
    ...(isIP(host) ? {} : { servername: host }),
  };
}

function hostOf(address: string): string {
  try {
    return new URL(address).hostname.replace(/^\[|\]$/g, '');
  } catch {
    throw new AppError('ERR_LDAP_UNAVAILABLE', `LDAP address "${address}" is not a valid ldap:// or ldaps:// URL`);
  }
}

function unavailable(address: string, cause: unknown): AppError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new AppError('ERR_LDAP_UNAVAILABLE', `LDAP directory ${address}: ${reason || 'failed'}`);
}

/** Rejects when `work` has not settled after `ms` (the caller's `finally` closes the socket). */
async function deadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} timed out after ${ms} ms`)); }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
