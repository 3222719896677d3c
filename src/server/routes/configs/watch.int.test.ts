import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { mintToken, save, startWithAdmin } from '../../test-support/config-fixtures.ts';
import { SseClient as Watch } from '../../test-support/sse-client.ts';

/** `GET /api/v1/watch` over real HTTP (SPEC §4 "Change feed"). */
describe('watch (SSE change feed)', () => {
  let t: TestApp;
  let admin: Client;
  let base: string;
  let adminToken: string;
  const open: Watch[] = [];

  beforeEach(async () => {
    ({ t, admin } = await startWithAdmin());
    adminToken = (await mintToken(admin, [{ path: '**', operations: ['*'] }])).raw;
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const w of open.splice(0)) w.close();
    await t.close();
  });

  async function watch(query = '', headers: Record<string, string> = {}, token = adminToken): Promise<Watch> {
    const w = await Watch.open(`${base}/api/v1/watch${query}`, { authorization: `Bearer ${token}`, ...headers });
    open.push(w);
    expect(w.response.status).toBe(200);
    expect(w.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    return w;
  }

  it('streams created, updated and deleted events with increasing ids', async () => {
    const w = await watch();
    expect(await w.expectEvent('ready')).toEqual({ revision: 0 });
    await save(admin, 'app/x', { content: '{}' });
    await save(admin, 'app/x', { content: '{"a":1}' });
    await save(admin, 'app/x', { content: '{}', variant: 'prod' });
    await admin.delete('/api/v1/file/app/x?version=2');
    await admin.delete('/api/v1/file/app/x');

    const events = [];
    for (let i = 0; i < 6; i++) events.push(await w.change());
    expect(events.map((e) => e.revision)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.map(({ type, path, variant, version }) => ({ type, path, variant, version }))).toEqual([
      { type: 'config.created', path: 'app/x', variant: undefined, version: 1 },
      { type: 'config.updated', path: 'app/x', variant: undefined, version: 2 },
      { type: 'config.created', path: 'app/x', variant: 'prod', version: 1 },
      { type: 'config.deleted', path: 'app/x', variant: undefined, version: 2 },
      { type: 'config.deleted', path: 'app/x', variant: undefined, version: undefined },
      { type: 'config.deleted', path: 'app/x', variant: 'prod', version: undefined },
    ]);
    expect(events[0]?.user).toBe('admin');
    expect(Date.parse(events[0]?.timestamp ?? '')).not.toBeNaN();
  });

  it('reports constraint changes as updates and a folder delete as one deletion per file', async () => {
    await save(admin, 'f/a', { content: '{}' });
    await save(admin, 'f/a', { content: '{}', variant: 'prod' });
    await save(admin, 'f/sub/b', { content: '{}' });
    const w = await watch('', { 'last-event-id': '3' });
    await w.expectEvent('ready');
    await admin.patch('/api/v1/versions/f/a', { version: 1, constraint: '>=1.0.0' });
    expect(await w.change()).toMatchObject({ type: 'config.updated', path: 'f/a', version: 1, revision: 4 });
    expect((await admin.delete('/api/v1/folder/f')).json).toEqual({ deleted: 3 });
    const deleted = [await w.change(), await w.change(), await w.change()];
    expect(deleted.map((e) => [e.type, e.path, e.variant ?? '', e.revision])).toEqual([
      ['config.deleted', 'f/a', '', 5],
      ['config.deleted', 'f/a', 'prod', 6],
      ['config.deleted', 'f/sub/b', '', 7],
    ]);
  });

  it('filters by prefix', async () => {
    const w = await watch('?prefix=a/');
    await w.expectEvent('ready');
    await save(admin, 'b/x', { content: '{}' });
    await save(admin, 'ab/x', { content: '{}' });
    await save(admin, 'a/x', { content: '{}' });
    expect(await w.change()).toMatchObject({ path: 'a/x', revision: 3 });
  });

  it('shows only paths the caller may read', async () => {
    const scoped = (await mintToken(admin, [{ path: 'a/**' }])).raw;
    const w = await watch('', {}, scoped);
    await w.expectEvent('ready');
    await save(admin, 'b/secret', { content: '{}' });
    await save(admin, 'a/x', { content: '{}' });
    expect(await w.change()).toMatchObject({ path: 'a/x', revision: 2 });
  });

  it('replays exactly the missed events after Last-Event-ID, then continues live', async () => {
    for (const path of ['r/1', 'r/2', 'r/3', 'r/4']) await save(admin, path, { content: '{}' });
    const w = await watch('', { 'last-event-id': '2' });
    expect(await w.change()).toMatchObject({ path: 'r/3', revision: 3 });
    expect(await w.change()).toMatchObject({ path: 'r/4', revision: 4 });
    expect(await w.expectEvent('ready')).toEqual({ revision: 4 });
    await save(admin, 'r/5', { content: '{}' });
    expect(await w.change()).toMatchObject({ path: 'r/5', revision: 5 });

    const since = await watch('?since=3');
    expect(await since.change()).toMatchObject({ revision: 4 });
    expect(await since.change()).toMatchObject({ revision: 5 });
    expect(await since.expectEvent('ready')).toEqual({ revision: 5 });

    const upToDate = await watch('', { 'last-event-id': '5' });
    expect(await upToDate.expectEvent('ready')).toEqual({ revision: 5 });
  });

  it('sends reset when resuming from a revision it never had, then streams new events', async () => {
    await save(admin, 'r/1', { content: '{}' });
    const w = await watch('', { 'last-event-id': '999' });
    expect(await w.expectEvent('reset')).toEqual({ revision: 1 });
    expect(await w.expectEvent('ready')).toEqual({ revision: 1 });
    await save(admin, 'r/2', { content: '{}' });
    expect(await w.change()).toMatchObject({ path: 'r/2', revision: 2 });
  });

  it('refuses a bad Last-Event-ID and an anonymous caller', async () => {
    const bad = await fetch(`${base}/api/v1/watch`, { headers: { authorization: `Bearer ${adminToken}`, 'last-event-id': 'abc' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('ERR_VALIDATION');
    const anonymous = await fetch(`${base}/api/v1/watch`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { code: string }).code).toBe('ERR_UNAUTHENTICATED');
  });
});
