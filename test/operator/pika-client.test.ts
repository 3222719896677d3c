/**
 * The operator's pika client against a real pika server (buildApp on a real store, listening on
 * loopback): conditional reads, the locked/not-found distinction, tokens and the change feed.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConfigChange, followChangeFeed } from '../../src/operator/pika/change-feed.ts';
import { createPikaClient, type PikaClient } from '../../src/operator/pika/pika-client.ts';
import { type Client, startTestApp, type TestApp } from '../../src/server/test-support/app-harness.ts';

let t: TestApp;
let admin: Client;
let client: PikaClient;
const calls: string[] = [];

beforeEach(async () => {
  t = await startTestApp();
  admin = await t.bootstrapAdmin();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const token = await admin.post('/api/v1/tokens', { name: 'operator', scopes: [{ path: '**', operations: ['read'] }], capabilities: ['key.unlock', 'tokens.manage'] });
  const { port } = t.app.server.address() as AddressInfo;
  client = createPikaClient({ url: `http://127.0.0.1:${port}`, token: token.json.raw_key }, { onCall: (route, status) => calls.push(`${route}:${status}`) });
});
afterEach(async () => {
  await t.close();
});

describe('pika client', () => {
  it('reads, then re-reads conditionally with the ETag', async () => {
    await admin.post('/api/v1/file/app/config', { meta: { format: 'json' }, content: '{"a":1}' });
    const first = await client.getData({ path: 'app/config' });
    expect(first.kind).toBe('ok');
    if (first.kind !== 'ok') return;
    expect(first.body.toString()).toBe('{"a":1}');
    expect(first.version).toBe(1);
    expect(await client.getData({ path: 'app/config' }, first.etag)).toEqual({ kind: 'not-modified', etag: first.etag });
    await admin.post('/api/v1/file/app/config', { meta: { format: 'json' }, content: '{"a":2}' });
    const changed = await client.getData({ path: 'app/config', format: 'yaml' }, first.etag);
    expect(changed.kind === 'ok' && changed.body.toString()).toBe('a: 2\n');
    expect(calls).toContain('data:304');
  });

  it('tells a confirmed 404 from a locked server and from other errors', async () => {
    expect((await client.getData({ path: 'nope/nothing' })).kind).toBe('not-found');
    expect((await client.getData({ path: 'app/config', version: 'not..valid' })).kind).toBe('error');
    await admin.post('/api/v1/key/initialize', { key: 'operator test server key' });
    await admin.post('/api/v1/key/lock');
    expect(await client.getData({ path: 'nope/nothing' })).toEqual({ kind: 'locked' });
    expect(await client.keyStatus()).toEqual({ initialized: true, unlocked: false, server_id: expect.any(String) });
    await expect(client.unlock('wrong key entirely')).rejects.toMatchObject({ status: 403, code: 'ERR_KEY_WRONG' });
    expect(await client.unlock('operator test server key')).toEqual({ initialized: true, unlocked: true });
  });

  it('mints and revokes tokens; revoking a missing token is not an error', async () => {
    const minted = await client.createToken({ name: 'ptok', scopes: [{ path: 'app/**', operations: ['read'] }] });
    expect(minted.raw_key).toMatch(/^pika_/);
    await client.revokeToken(minted.id);
    await client.revokeToken(minted.id);
    expect((await admin.get('/api/v1/tokens')).json.map((x: { name: string }) => x.name)).not.toContain('ptok');
  });

  it('follows the change feed: resync on connect, then each change as it happens', async () => {
    const changes: ConfigChange[] = [];
    let resyncs = 0;
    let connected!: () => void;
    const ready = new Promise<void>((r) => (connected = r));
    const feed = followChangeFeed(client, {
      onChange: (c) => changes.push(c),
      onResync: () => resyncs++,
      onState: (s) => {
        if (s === 'connected') connected();
      },
    });
    await ready;
    await admin.post('/api/v1/file/app/one', { meta: { format: 'json' }, content: '{}' });
    await admin.post('/api/v1/file/app/one', { meta: { format: 'json' }, content: '{"b":1}' });
    await expect.poll(() => changes.map((c) => `${c.type} ${c.path}`)).toEqual(['config.created app/one', 'config.updated app/one']);
    expect(resyncs).toBe(1);
    await feed.stop();
  });
});
