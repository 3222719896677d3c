import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../plugins/error-handler.ts';
import { allPermissions } from '../../services/access/permissions.ts';
import type { Principal } from '../../services/access/principal.ts';
import { type ChangeFeed, createChangeFeed } from '../../services/configs/change-feed.ts';
import type { TokenRecord } from '../../services/identity/identity-records.ts';
import { openDiskStore } from '../../storage/level-store.ts';
import type { Store } from '../../storage/store.ts';
import { SseClient } from '../../test-support/sse-client.ts';
import { registerWatchRoutes } from './watch-routes.ts';

/**
 * Replay edge cases of the watch route that need a small page size or a pruned feed: the route
 * over a real change feed on a disk store, with an all-permitted caller.
 */
describe('watch replay', () => {
  let dir: string;
  let store: Store;
  let feed: ChangeFeed;
  let app: FastifyInstance;
  let base: string;
  let subscribed = 0;
  let unsubscribed: Promise<void>;
  const clients: SseClient[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pika-watch-'));
    store = await openDiskStore(join(dir, 'store'), { sync: false });
    feed = createChangeFeed({ store, clock: Date.now, retain: 3 });
    let markUnsubscribed = () => {};
    unsubscribed = new Promise((resolve) => (markUnsubscribed = resolve));
    // Counts subscriptions so a test can see the route let go of the feed.
    const countingFeed = {
      since: feed.since,
      current: feed.current,
      subscribe: (listener: Parameters<ChangeFeed['subscribe']>[0]) => {
        subscribed++;
        const stop = feed.subscribe(listener);
        return () => {
          subscribed--;
          markUnsubscribed();
          stop();
        };
      },
    };
    app = Fastify({ forceCloseConnections: true });
    installErrorHandling(app);
    const principal: Principal = { kind: 'token', token: { name: 'test' } as TokenRecord, perms: allPermissions(), validUntil: Number.POSITIVE_INFINITY };
    app.decorateRequest('principal', undefined);
    app.addHook('onRequest', async (request) => {
      request.principal = principal;
    });
    registerWatchRoutes(app, { feed: countingFeed, replayPageSize: 2 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function append(...paths: string[]): Promise<void> {
    const prepared = await feed.prepare(paths.map((path) => ({ type: 'config.updated', path })));
    await store.batch(prepared.ops, prepared.conditions);
    feed.publish(prepared.events);
  }

  async function watch(lastEventId: string): Promise<SseClient> {
    const client = await SseClient.open(`${base}/api/v1/watch`, { 'last-event-id': lastEventId });
    clients.push(client);
    return client;
  }

  it('replays page after page until it has caught up', async () => {
    await append('p/2', 'p/3', 'p/4', 'p/5', 'p/6', 'p/7');
    const w = await watch('1');
    const revisions = [];
    for (let i = 0; i < 5; i++) revisions.push((await w.change()).revision);
    expect(revisions).toEqual([2, 3, 4, 5, 6]);
    expect(await w.expectEvent('ready')).toEqual({ revision: 6 });
    await append('p/8');
    expect((await w.change()).revision).toBe(7);
  });

  it('sends reset, then what is left, when the missed events were pruned', async () => {
    await append('a', 'b', 'c', 'd', 'e');
    expect(await feed.prune()).toBe(2);
    const w = await watch('1');
    expect(await w.expectEvent('reset')).toEqual({ revision: 5 });
    expect((await w.change()).revision).toBe(3);
    expect((await w.change()).revision).toBe(4);
    expect((await w.change()).revision).toBe(5);
    expect(await w.expectEvent('ready')).toEqual({ revision: 5 });
  });

  it('lets go of the feed when the client disconnects', async () => {
    const w = await watch('0');
    expect(await w.expectEvent('ready')).toEqual({ revision: 0 });
    expect(subscribed).toBe(1);
    w.close();
    await unsubscribed;
    expect(subscribed).toBe(0);
  });
});
