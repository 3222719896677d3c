import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';

/**
 * A token is bounded by its creator's rights, so only its creator (or a superadmin) may change
 * it: otherwise a tokens.manage holder could widen an admin's token and borrow the admin's rights.
 */
describe('who may change a token', () => {
  let t: TestApp;
  let admin: Client;
  let deployer: Client;

  beforeEach(async () => {
    t = await startTestApp();
    admin = await t.bootstrapAdmin();
    const bundle = await admin.post('/api/v1/permissions', { key: 'deploy', name: 'Deploy', keys: ['files.read', 'files.write', 'tokens.manage'], key_patterns: { 'files.read': ['myapp/**'], 'files.write': ['myapp/**'] } });
    await admin.post('/api/v1/users', { username: 'deployer', password: 'deployer-password', permission_ids: [bundle.json.id] });
    deployer = await t.login('deployer', 'deployer-password');
  });
  afterEach(async () => {
    await t.close();
  });

  it("refuses to widen someone else's token, but lets the creator and a superadmin edit", async () => {
    const adminToken = await admin.post('/api/v1/tokens', { name: 'ci', scopes: [{ path: '**', operations: ['read'] }] });
    const widen = await deployer.patch(`/api/v1/tokens/${adminToken.json.id}`, { scopes: [{ path: '**', operations: ['*'] }] });
    expect(widen.status).toBe(403);
    expect(widen.json.code).toBe('ERR_FORBIDDEN');
    const still = await t.withToken(adminToken.json.raw_key).post('/api/v1/file/team-a/x', { meta: { format: 'json' }, content: '{}' });
    expect(still.status).toBe(403);

    const own = await deployer.post('/api/v1/tokens', { name: 'mine', scopes: [{ path: 'myapp/**', operations: ['read'] }] });
    expect((await deployer.patch(`/api/v1/tokens/${own.json.id}`, { name: 'renamed' })).json.name).toBe('renamed');
    expect((await admin.patch(`/api/v1/tokens/${own.json.id}`, { active: false })).json.active).toBe(false);
    // Revoking is not an escalation: any tokens.manage holder may.
    expect((await deployer.delete(`/api/v1/tokens/${adminToken.json.id}`)).status).toBe(200);
  });
});
