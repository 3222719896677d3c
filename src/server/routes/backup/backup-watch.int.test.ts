import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestApp } from '../../test-support/app-harness.ts';
import { mintToken, save, startWithAdmin } from '../../test-support/config-fixtures.ts';
import { SseClient } from '../../test-support/sse-client.ts';

/**
 * A restore replaces configs without change events, so watchers must re-read: connected ones get
 * `event: reset` at once, and one resuming from a revision before the restore gets `reset` too,
 * never a replay of a history that no longer matches the data.
 */
const apps: TestApp[] = [];
const watchers: SseClient[] = [];
afterEach(async () => {
  for (const w of watchers.splice(0)) w.close();
  for (const a of apps.splice(0)) await a.close();
});

describe('watchers across a restore', () => {
  it('get reset live and on resume, then changes continue after the new revision', async () => {
    const source = await startWithAdmin();
    apps.push(source.t);
    await save(source.admin, 'restored/one', { content: '{"from":"backup"}' });
    const archive = (await source.admin.get('/api/v1/backup')).rawPayload;

    // Its own admin name: a merge restore replaces a local user whose name the archive uses.
    const { t, admin } = await startWithAdmin({}, 'target-admin');
    apps.push(t);
    const token = (await mintToken(admin, [{ path: '**' }])).raw;
    await save(admin, 'local/a', { content: '{}' });
    await save(admin, 'local/b', { content: '{}' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const watch = async (headers: Record<string, string> = {}) => {
      const w = await SseClient.open(`${base}/api/v1/watch`, { authorization: `Bearer ${token}`, ...headers });
      watchers.push(w);
      return w;
    };

    const live = await watch();
    expect(await live.expectEvent('ready')).toEqual({ revision: 2 });
    const restored = await t.app.inject({ method: 'POST', url: '/api/v1/backup', headers: { 'content-type': 'application/octet-stream', cookie: admin.cookie ?? '' }, payload: archive });
    expect(restored.statusCode, restored.body).toBe(200);

    // The new revision is past both histories (this server's 2, the archive's 1).
    const reset = await live.frame();
    expect(reset).toEqual({ id: '3', event: 'reset', data: JSON.stringify({ revision: 3 }) });

    // Resuming from before the restore: nothing to replay, so reset, even with no new events.
    const resumed = await watch({ 'last-event-id': '2' });
    expect(await resumed.expectEvent('reset')).toEqual({ revision: 3 });
    await resumed.expectEvent('ready');
    const fromReset = await watch({ 'last-event-id': '3' });
    expect(await fromReset.expectEvent('ready')).toEqual({ revision: 3 });

    await save(admin, 'restored/one', { content: '{"edited":true}' });
    for (const w of [live, resumed, fromReset]) expect(await w.change()).toMatchObject({ path: 'restored/one', type: 'config.updated', revision: 4 });
    expect((await admin.get('/api/v1/versions/restored/one')).json).toHaveLength(2);
  });
});
