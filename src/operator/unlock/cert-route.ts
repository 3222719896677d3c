import type { ExtraRoute } from '../runtime/health-server.ts';
import type { SealingKeyring } from './sealing-keys.ts';

/** Re-read the sealing Secret at most this often for the route (another replica may have renewed). */
const REFRESH_MS = 60_000;

/**
 * `GET /v1/cert.pem` on the operator's health port: the public half of the newest sealing key, as
 * SPKI PEM (`-----BEGIN PUBLIC KEY-----`; the name follows kubeseal's `--fetch-cert`). Public by
 * nature: it only lets someone seal to the operator. `X-Pika-Key-Id` names the key; `pika seal`
 * computes the same id from the PEM itself.
 */
export function certRoute(keyring: Pick<SealingKeyring, 'refresh' | 'newest'>): ExtraRoute {
  return (req, res) => {
    keyring
      .refresh(REFRESH_MS)
      .catch(() => undefined) // the cached key is still right if the Secret cannot be read just now
      .then(() => {
        const newest = keyring.newest();
        if (!newest) {
          res.writeHead(503, { 'content-type': 'text/plain' }).end('no sealing key loaded yet');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-pem-file', 'cache-control': 'no-cache', 'x-pika-key-id': newest.kid });
        res.end(req.method === 'HEAD' ? undefined : newest.publicPem);
      })
      .catch(() => res.writeHead(500).end());
  };
}
