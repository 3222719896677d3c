/**
 * `/v1/cert.pem` on the operator's health server: the newest sealing key's public half, re-read
 * from the Secret at most once a minute, 503 before any key is loaded; other routes unchanged.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startHealthServer } from '../runtime/health-server.ts';
import { certRoute } from './cert-route.ts';
import type { SealingKey } from './sealing-keys.ts';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => {
    if (server) server.close(() => { resolve(); });
    else resolve();
  });
  server = undefined;
});

async function serve(keyring: Parameters<typeof certRoute>[0]): Promise<string> {
  server = await startHealthServer({ host: '127.0.0.1', port: 0, registry: new Registry(), ready: () => true, routes: { '/v1/cert.pem': certRoute(keyring) } });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('/v1/cert.pem', () => {
  it('serves the newest public key with its key id, and refreshes with a one-minute cache', async () => {
    const asked: number[] = [];
    let newest: Pick<SealingKey, 'kid' | 'publicPem'> | undefined;
    const url = await serve({
      refresh: async (maxAgeMs?: number) => {
        asked.push(maxAgeMs ?? 0);
        newest = { kid: 'kid-2', publicPem: '-----BEGIN PUBLIC KEY-----\nnewest\n-----END PUBLIC KEY-----\n' };
        return [];
      },
      newest: () => newest as SealingKey | undefined,
    });
    const response = await fetch(`${url}/v1/cert.pem`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-pika-key-id')).toBe('kid-2');
    expect(response.headers.get('content-type')).toBe('application/x-pem-file');
    expect(await response.text()).toContain('newest');
    expect(asked).toEqual([60_000]);
    expect((await fetch(`${url}/v1/cert.pem`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // Not a prototype property of the route table.
    expect((await fetch(`${url}/constructor`)).status).toBe(404);
  });

  it('answers 503 before a key is loaded, and serves the cached key when the Secret cannot be read', async () => {
    const cache: { newest?: Pick<SealingKey, 'kid' | 'publicPem'> } = {};
    const url = await serve({ refresh: () => Promise.reject(new Error('apiserver down')), newest: () => cache.newest as SealingKey | undefined });
    expect((await fetch(`${url}/v1/cert.pem`)).status).toBe(503);
    cache.newest = { kid: 'kid-1', publicPem: 'cached' };
    expect(await (await fetch(`${url}/v1/cert.pem`)).text()).toBe('cached');
  });
});
