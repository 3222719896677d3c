import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../shared/errors.ts';
import { grantPermissions, type Permissions } from '../services/access/permissions.ts';
import { handleClientError, sendError } from './error-handler.ts';

/**
 * The optional public port (SPEC §7.3, `server.public_port`): a second listener in front of the
 * same app that serves only `/data/*`, `/eso/*` and `/healthz`; every other route answers 404
 * there. The listener hands its requests to the app's own router, so hooks, the lock gate and
 * every check run exactly as on the main port; requests are marked as having arrived publicly.
 * Configs matching `server.public_paths` may be read there without a token.
 */
const arrivedPublic = new WeakSet<IncomingMessage>();

export function isPublicRequest(request: FastifyRequest): boolean {
  return arrivedPublic.has(request.raw);
}

function servedPublicly(path: string): boolean {
  return path.startsWith('/data/') || path.startsWith('/eso/') || path === '/healthz';
}

/** Refuses, on the public port, every route that is not meant for it (404, as if it did not exist). */
export function installPublicSurface(app: FastifyInstance, deps: { readonly basePath: string }): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (!isPublicRequest(request)) {
      done();
      return;
    }
    // The matched route's pattern, so nothing a URL trick routes elsewhere gets through; for
    // unmatched URLs the path decides (the not-found and lock-gate answers stay as on the main port).
    const url = request.routeOptions.url ?? (request.raw.url ?? '').split('?', 1)[0] ?? '';
    const path = deps.basePath !== '' && url.startsWith(`${deps.basePath}/`) ? url.slice(deps.basePath.length) : url;
    if (servedPublicly(path)) {
      done();
      return;
    }
    sendError(request, reply, new AppError('ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${url} on the public port`));
  });
}

/**
 * What a caller without a token may read on the public port: `files.read` on the `public_paths`
 * patterns (doublestar globs, like permission bundles). Nothing anywhere else.
 */
export function publicReader(publicPaths: readonly string[]): (request: FastifyRequest) => Permissions | undefined {
  if (publicPaths.length === 0) return () => undefined;
  const perms = grantPermissions(new Map([['files.read', [...publicPaths]]]));
  return (request) => (isPublicRequest(request) ? perms : undefined);
}

export interface PublicListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Opens the public port in front of a ready app; close it before the app. */
export async function listenPublic(app: FastifyInstance, options: { readonly host: string; readonly port: number }): Promise<PublicListener> {
  const server = createServer((req, res) => {
    arrivedPublic.add(req);
    app.routing(req, res);
  });
  server.on('clientError', handleClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
