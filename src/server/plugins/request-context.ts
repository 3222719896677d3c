import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Request ids and response headers every reply carries (SPEC §14, §6 hardening).
 * A caller's `X-Request-Id` is kept only if it is short and plain, so it cannot inject into logs.
 */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Ids are a random per-process prefix plus a counter: unique across restarts and replicas without
 * paying for random bytes on every request (the /data hot path).
 */
const PREFIX = randomBytes(6).toString('base64url');
let counter = 0;

export function genRequestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const incoming = req.headers['x-request-id'];
  if (typeof incoming === 'string' && SAFE_ID.test(incoming)) return incoming;
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${PREFIX}-${counter.toString(36)}`;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};
/** API answers are never cached by intermediaries unless a route says otherwise (/data does). */
const API_HEADERS = { ...SECURITY_HEADERS, 'cache-control': 'no-store' };

/**
 * Sets every static response header once, as the request arrives: routes and error handlers may
 * override them later, and no extra onSend hook runs on the hot path.
 */
export function installRequestContext(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(isApiPath(request) ? API_HEADERS : SECURITY_HEADERS);
    void reply.header('x-request-id', request.id);
    done();
  });
}

function isApiPath(request: FastifyRequest): boolean {
  const url = request.url;
  return url.includes('/api/') || url.includes('/data/') || url.includes('/login/') || url.includes('/eso/');
}

/** Query parameters whose values never reach a log line. */
const SECRET_PARAMS = /([?&](?:encryption_password|password|token|key|code|state)=)[^&]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
}
