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

export function installRequestContext(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('cross-origin-opener-policy', 'same-origin');
    if (!reply.hasHeader('cache-control') && isApiPath(request)) void reply.header('cache-control', 'no-store');
    done(null, payload);
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
