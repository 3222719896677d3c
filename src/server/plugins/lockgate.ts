import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/errors.ts';
import { sendError } from './error-handler.ts';

/**
 * The lock gate (SPEC §7.3). While the server key is initialized but not unlocked, everything
 * under `/api/v1/`, `/data/` and `/eso/` answers 503 with `X-Pika-Locked: true` and
 * `{"code":"server_locked"}` — including paths that do not exist, because a 404 would tell an
 * ESO-style client that its secret is gone. The reason phrase is `Pika Locked`, the only text ESO
 * surfaces. Sign-in, the boot document, self-service and the key status/unlock calls stay open.
 * Before initialization the gate does nothing.
 */
const GATED = ['/api/v1/', '/data/', '/eso/'];
const OPEN_EXACT = new Set(['/api/v1/info', '/api/v1/me', '/api/v1/key/status', '/api/v1/key/unlock']);
const OPEN_PREFIX = ['/api/v1/me/'];

export function isLockedOut(path: string): boolean {
  if (!GATED.some((prefix) => path.startsWith(prefix))) return false;
  // Anything a proxy could rewrite into another route is never on the open list.
  if (/%|\/\.\.?(\/|$)|\/\//.test(path)) return true;
  return !OPEN_EXACT.has(path) && !OPEN_PREFIX.some((prefix) => path.startsWith(prefix));
}

export function installLockgate(app: FastifyInstance, deps: { readonly isLocked: () => boolean; readonly basePath: string }): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (!deps.isLocked()) {
      done();
      return;
    }
    const url = request.raw.url ?? '';
    const withoutQuery = url.split('?', 1)[0] ?? '';
    const path = deps.basePath !== '' && withoutQuery.startsWith(deps.basePath) ? withoutQuery.slice(deps.basePath.length) : withoutQuery;
    if (!isLockedOut(path)) {
      done();
      return;
    }
    reply.raw.statusMessage = 'Pika Locked';
    void reply.header('x-pika-locked', 'true');
    sendError(request, reply, new AppError('server_locked'));
  });
}
