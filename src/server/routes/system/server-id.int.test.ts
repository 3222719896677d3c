/**
 * The stable server id (`server_id` in /api/v1/info and /api/v1/key/status): made once, kept in
 * the store, the same after a restart, answered while locked, carried by backups (docs/backup.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemKeys } from '../../storage/keys.ts';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const apps: TestApp[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dir?: string): Promise<TestApp> {
  const t = await startTestApp(dir === undefined ? {} : { dir });
  apps.push(t);
  return t;
}

async function stop(t: TestApp): Promise<void> {
  await t.close();
  apps.splice(apps.indexOf(t), 1);
}

async function ids(t: TestApp): Promise<{ info: string; status: string }> {
  const info = await t.request({ url: '/api/v1/info' });
  const status = await t.request({ url: '/api/v1/key/status' });
  expect(info.status).toBe(200);
  expect(status.status).toBe(200);
  return { info: info.json.server_id as string, status: status.json.server_id as string };
}

async function backup(client: Client): Promise<Buffer> {
  const res = await client.get('/api/v1/backup');
  expect(res.status).toBe(200);
  return res.rawPayload;
}

async function restore(t: TestApp, client: Client, archive: Buffer, query = ''): Promise<void> {
  const res = await t.app.inject({ method: 'POST', url: `/api/v1/backup${query}`, headers: { 'content-type': 'application/octet-stream', cookie: client.cookie ?? '' }, payload: archive });
  expect(res.statusCode, res.body).toBe(200);
}

describe('server id', () => {
  it('is a random UUID, the same in /api/v1/info and /api/v1/key/status, different per data dir', async () => {
    const a = await start();
    const b = await start();
    const first = await ids(a);
    expect(first.info).toMatch(UUID);
    expect(first.status).toBe(first.info);
    expect((await ids(b)).info).not.toBe(first.info);
  });

  it('survives restarts and is answered while locked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pika-serverid-'));
    dirs.push(dir);
    const t = await start(dir);
    const { info: id } = await ids(t);
    const admin = await t.bootstrapAdmin();
    expect((await admin.post('/api/v1/key/initialize', { key: 'a long enough server key' })).status).toBe(200);
    await stop(t);
    const again = await start(dir);
    expect((await again.request({ url: '/api/v1/key/status' })).json).toEqual({ initialized: true, unlocked: false, server_id: id });
    expect((await again.request({ url: '/api/v1/info' })).json.server_id).toBe(id);
    expect((await again.request({ url: '/api/v1/folder' })).status).toBe(503);
  });

  it('is carried by a backup: restoring into the same or another server brings the id along', async () => {
    const source = await start();
    const sourceAdmin = await source.bootstrapAdmin();
    const { info: sourceId } = await ids(source);
    const archive = await backup(sourceAdmin);

    const target = await start();
    const targetAdmin = await target.bootstrapAdmin();
    expect((await ids(target)).info).not.toBe(sourceId);
    await restore(target, targetAdmin, archive, '?wipe=true');
    expect(await ids(target)).toEqual({ info: sourceId, status: sourceId });

    // The source restored from its own backup keeps its id.
    await restore(source, sourceAdmin, archive);
    expect((await ids(source)).info).toBe(sourceId);
  });

  it('stays when a restored archive has no id (a backup from before ids existed), in merge and wipe mode', async () => {
    const old = await start();
    const oldAdmin = await old.bootstrapAdmin();
    await old.store.batch([{ type: 'del', key: systemKeys.serverId }]);
    const archive = await backup(oldAdmin);

    const t = await start();
    const admin = await t.bootstrapAdmin();
    const { info: id } = await ids(t);
    await restore(t, admin, archive);
    expect((await ids(t)).info).toBe(id);
    const relogged = await t.login('admin', 'correct horse battery');
    await restore(t, relogged, archive, '?wipe=true');
    expect((await ids(t)).info).toBe(id);
    expect((await t.store.get(systemKeys.serverId))?.value).toBeDefined();
  });
});
