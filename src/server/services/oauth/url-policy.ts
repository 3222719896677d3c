import { isIP } from 'node:net';
import { AppError } from '../../../shared/errors.ts';

/**
 * Which identity-provider URLs pika talks to. `https://` always; plain `http://` only to a
 * loopback address (a provider on the same machine, a test IdP), because tokens and client
 * secrets cross these connections. openid-client refuses `http://` by default; the caller turns
 * that off (`allowInsecureRequests`) only when this check says every URL in use is loopback.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (host.toLowerCase() === 'localhost') return true;
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) {
    const lower = host.toLowerCase();
    return lower === '::1' || /^::ffff:127\./.test(lower);
  }
  return false;
}

/** 'https', or 'http' for an allowed loopback URL; throws ERR_OAUTH_PROVIDER otherwise. */
export function checkProviderUrl(raw: string, field: string): 'https' | 'http' {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw providerError(`${field} is not a URL`, 'invalid_url');
  }
  if (url.protocol === 'https:') return 'https';
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return 'http';
  throw providerError(`${field} must use https:// (plain http:// is allowed only for loopback addresses)`, 'insecure_url');
}

export function providerError(message: string, reason: string): AppError {
  return new AppError('ERR_OAUTH_PROVIDER', message, { details: { reason } });
}
