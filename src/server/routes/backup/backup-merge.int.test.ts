import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app-harness.ts';

/**
 * Merge restores and unique names: the archive wins, so a server never ends up with two users
 * called `admin` (the usual case: restoring into a fresh server whose first user is `admin`).
 */
const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function start(): Promise<TestApp> {
  const t = await startTestApp();
  apps.push(t);
  return t;
}

describe('merge restore with clashing unique names', () => {
  it('replaces the local user and bundle that share a name with the archive, and ends their sessions', async () => {
    const source = await start();
    const oldAdmin = await source.bootstrapAdmin('admin', 'password-in-the-archive');
    await oldAdmin.post('/api/v1/permissions', { key: 'readers', name: 'From the archive', keys: ['files.read'] });
    const archive = (await oldAdmin.get('/api/v1/backup')).rawPayload;

    const target = await start();
    const newAdmin = await target.bootstrapAdmin('admin', 'password-of-the-new-server');
    await newAdmin.post('/api/v1/permissions', { key: 'readers', name: 'Local', keys: ['files.write'] });
    const res = await target.app.inject({ method: 'POST', url: '/api/v1/backup', headers: { 'content-type': 'application/octet-stream', cookie: newAdmin.cookie ?? '' }, payload: archive });
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ mode: 'merge' });

    // The local admin is gone with its sessions; the archive's admin signs in.
    expect((await newAdmin.get('/api/v1/me')).status).toBe(401);
    await expect(target.login('admin', 'password-of-the-new-server')).rejects.toThrow(/401/);
    const restored = await target.login('admin', 'password-in-the-archive');
    const users = (await restored.get('/api/v1/users')).json;
    expect(users.users.map((u: { username: string }) => u.username)).toEqual(['admin']);
    const bundles = (await restored.get('/api/v1/permissions')).json as { key: string; name: string }[];
    expect(bundles.map((b) => `${b.key}:${b.name}`)).toEqual(['readers:From the archive']);

    // No orphaned records are left behind.
    const userRecords = [];
    for await (const item of target.store.iterate('id/user/')) userRecords.push(item.key);
    expect(userRecords).toHaveLength(1);
  });
});
