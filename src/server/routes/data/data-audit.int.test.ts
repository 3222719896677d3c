import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';

describe('/data read audit', () => {
  let t: TestApp;
  let admin: Client;
  beforeEach(async () => {
    t = await startTestApp();
    admin = await t.bootstrapAdmin();
    await admin.post('/api/v1/file/app/config', { meta: { format: 'json' }, content: '{"a":1}' });
  });
  afterEach(async () => {
    await t.close();
  });

  const entries = async () => (await admin.get('/api/v1/audit?action=/data')).json.entries as { actor: string; status: number; target: string }[];

  it('records served, not-modified and refused reads, sampled per caller and outcome', async () => {
    const token = await admin.post('/api/v1/tokens', { name: 'reader', scopes: [{ path: 'app/**', operations: ['read'] }] });
    const reader = t.withToken(token.json.raw_key);
    const first = await reader.get('/data/app/config');
    await reader.get('/data/app/config');
    await reader.get('/data/app/config', { 'if-none-match': String(first.headers.etag) });
    await admin.patch(`/api/v1/tokens/${token.json.id}`, { active: false });
    expect((await reader.get('/data/app/config')).status).toBe(403);
    expect((await t.withToken(`pika_${'0'.repeat(64)}`).get('/data/app/config')).status).toBe(401);

    const seen = await entries();
    const summary = seen.map((e) => `${e.actor} ${e.status} ${e.target}`).sort();
    expect(summary).toEqual(['anonymous 401 /data/app/config', 'anonymous 403 /data/app/config', 'token:reader 200 app/config', 'token:reader 304 app/config']);
  });
});
