import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Serves the built admin console (`web/dist`, SPEC §12) at the base path. Only files that exist
 * get routes (no wildcard), so unknown API paths keep answering with the error catalog. Hashed
 * assets are cached for a year; index.html never, and it carries a strict CSP.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // Vue and CodeMirror set inline style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

/** `web/dist` at the repository root: src/server/plugins and dist/server/plugins are both three levels down. */
export function defaultWebRoot(): string {
  return fileURLToPath(new URL('../../../web/dist', import.meta.url));
}

export async function installWebUi(app: FastifyInstance, options: { root: string; basePath: string }): Promise<boolean> {
  if (!existsSync(join(options.root, 'index.html'))) return false;
  await app.register(fastifyStatic, {
    root: options.root,
    prefix: `${options.basePath}/`,
    wildcard: false,
    index: ['index.html'],
    setHeaders: (reply, path) => {
      if (path.includes(join('assets', ''))) void reply.header('cache-control', 'public, max-age=31536000, immutable');
      else void reply.headers({ 'cache-control': 'no-cache', 'content-security-policy': CSP });
    },
  });
  // `/pika` must become `/pika/` so the console's relative asset URLs resolve under the base
  // path (the router ignores trailing slashes, so the index route alone would answer `/pika`).
  if (options.basePath !== '') {
    app.addHook('onRequest', async (request, reply) => {
      const [path = '', query] = (request.raw.url ?? '').split('?', 2);
      if (path === options.basePath) await reply.redirect(`${options.basePath}/${query === undefined ? '' : `?${query}`}`, 308);
    });
  }
  return true;
}
