import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { splitGroups } from '../services/access/external-permissions.ts';
import type { ExternalIdentity } from '../services/identity/external-login.ts';
import type { AuthSettings } from '../services/settings/auth-section.ts';

/**
 * Forward-auth (seed 002): a gateway in front of pika (oauth2-proxy, Authelia, Authentik, …)
 * authenticates people and passes who they are in headers. Those headers are believed only when
 * the TCP peer itself is one of the configured trusted proxies — never because of
 * X-Forwarded-For, which any client can send — and ignored otherwise.
 */
const blockLists = new WeakMap<readonly string[], BlockList>();

function trustedList(entries: readonly string[]): BlockList {
  let list = blockLists.get(entries);
  if (!list) {
    list = new BlockList();
    for (const entry of entries) addEntry(list, entry.trim());
    blockLists.set(entries, list);
  }
  return list;
}

function addEntry(list: BlockList, entry: string): void {
  const [address = '', bits] = entry.split('/');
  const family = isIPv6(address) ? 'ipv6' : 'ipv4';
  if (!isIPv4(address) && !isIPv6(address)) return; // validated on save; a stale bad entry trusts nobody
  if (bits === undefined) list.addAddress(address, family);
  else list.addSubnet(address, Number(bits), family);
}

/** The peer address, with IPv4-mapped IPv6 (`::ffff:10.0.0.1`) unwrapped. */
export function peerAddress(request: FastifyRequest): string {
  const raw = request.raw.socket.remoteAddress ?? '';
  return raw.startsWith('::ffff:') && isIPv4(raw.slice(7)) ? raw.slice(7) : raw;
}

export function isTrustedPeer(request: FastifyRequest, trusted: readonly string[]): boolean {
  if (trusted.length === 0) return false;
  const address = peerAddress(request);
  return address !== '' && trustedList(trusted).check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
}

/**
 * Every line of a header, as sent: repeated lines stay separate (Node would join them with ", ",
 * which breaks a separator other than a comma).
 */
function headerLines(request: FastifyRequest, name: string): string[] {
  const wanted = name.toLowerCase();
  const raw = (request.raw as { rawHeaders?: string[] }).rawHeaders;
  if (raw && raw.length > 0) return raw.filter((_, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === wanted);
  const value = request.headers[wanted];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The identity the gateway asserted, or undefined when the strategy does not apply. */
export function forwardedIdentity(request: FastifyRequest, auth: AuthSettings): ExternalIdentity | undefined {
  const header = auth.header;
  if (!header?.enabled || !isTrustedPeer(request, header.trusted_proxies)) return undefined;
  const subject = headerLines(request, header.user_header)[0]?.trim();
  if (!subject) return undefined;
  const email = headerLines(request, header.email_header)[0]?.trim();
  return {
    provider: header.name,
    subject,
    email: email === '' ? undefined : email,
    displayName: headerLines(request, header.display_name_header)[0]?.trim(),
    groups: splitGroups(headerLines(request, auth.permissions.groups_header), auth.permissions.groups_separator),
  };
}
