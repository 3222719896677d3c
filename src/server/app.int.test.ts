import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './test-support/app-harness.ts';

describe('app smoke', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('boots into first-run state, registers an admin, stores a config and serves it with a token', async () => {
    expect((await t.request({ url: '/api/v1/info' })).json.setup_required).toBe(true);
    const admin = await t.bootstrapAdmin();
    const info = await admin.get('/api/v1/info');
    expect(info.json.setup_required).toBeUndefined();
    expect(info.json.is_superadmin).toBe(true);

    const saved = await admin.post('/api/v1/file/myapp/config', { meta: { format: 'yaml' }, content: 'a: 1\n' });
    expect(saved.status).toBe(201);
    const token = await admin.post('/api/v1/tokens', { name: 'ci', scopes: [{ path: 'myapp/**', operations: ['read'] }] });
    expect(token.status).toBe(201);
    const data = await t.withToken(token.json.raw_key).get('/data/myapp/config');
    expect(data.status).toBe(200);
    expect(data.body).toBe('a: 1\n');
    expect(data.headers['content-type']).toBe('application/x-yaml');
  });
});
