import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

/** An extra GET route on the health server (the sealing key's `/v1/cert.pem`). */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * `/healthz` (the process is alive), `/readyz` (caches synced; a standby replica is ready too,
 * it just does not reconcile) and `/metrics` for Prometheus, plus any `routes` by exact path.
 */
export function startHealthServer(options: { host: string; port: number; registry: Registry; ready: () => boolean; routes?: Readonly<Record<string, ExtraRoute>> }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const extra = options.routes && Object.hasOwn(options.routes, path) ? options.routes[path] : undefined;
    if (extra && (req.method === 'GET' || req.method === 'HEAD')) {
      extra(req, res);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (path === '/readyz') {
      const ready = options.ready();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok' : 'not ready');
    } else if (path === '/metrics') {
      options.registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(body))
        .catch(() => res.writeHead(500).end());
    } else res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      resolve(server);
    });
  });
}
