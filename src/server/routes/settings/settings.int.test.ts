/**
 * The settings document and its sealed secrets (SPEC §7.2, issue 4 acceptance 4–6).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyManager } from '../../barrier/key-manager.ts';
import { revealSecrets } from '../../services/settings/secret-fields.ts';
import { openDiskStore } from '../../storage/level-store.ts';
import type { Store } from '../../storage/store.ts';
import { ADMIN, startTestApp, type TestApp } from '../../test-support/app-harness.ts';

const KEY = 'correct horse battery staple';
const NEW_KEY = 'a brand new server passphrase';
const provider = (name: string, secret?: string) => ({ name, client_id: `${name}-client`, ...(secret === undefined ? {} : { client_secret: secret }) });

let dir = '';
const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function boot(options: { wrapStore?: (s: Store) => Store; env?: Record<string, string> } = {}): Promise<TestApp> {
  dir ||= mkdtempSync(join(tmpdir(), 'pika-settings-'));
  const t = await startTestApp({ dir, ...options });
  apps.push(t);
  return t;
}

async function closeAll(): Promise<void> {
  for (const a of apps.splice(0)) await a.close();
}

async function storedAuth(t: TestApp): Promise<string> {
  const entry = await t.store.get('settings/auth');
  return entry ? new TextDecoder().decode(entry.value) : '';
}

/** Opens the data dir directly and decrypts the auth section, as a later process would. */
async function revealAuthOffline(passphrase: string): Promise<unknown> {
  const store = await openDiskStore(join(dir, 'store'), { sync: false });
  try {
    const keys = createKeyManager({ store, clock: Date.now, kdfCost: { N: 2 ** 10, r: 8, p: 1 }, resealers: () => [] });
    await keys.load();
    await keys.unlock(passphrase);
    const entry = await store.get('settings/auth');
    return revealSecrets(JSON.parse(new TextDecoder().decode(entry!.value)), keys.readKeys(), 'pika/settings/auth');
  } finally {
    await store.close();
  }
}

describe('settings document', () => {
  it('masks secrets, keeps blank ones, clears on request and matches list items by name', async () => {
    const t = await boot();
    const admin = await t.bootstrapAdmin();
    const initial = await admin.get('/api/v1/settings');
    expect(initial.json.event_log).toEqual({ disabled: false });
    expect(initial.json.auth).toMatchObject({ oauth2: [], user_sync: [], permissions: { enforce: false, mapping: {} }, rate_limit: { enabled: true } });

    const set = await admin.post('/api/v1/settings', { auth: { oauth2: [provider('google', 'g-secret'), provider('github', 'gh-secret')] } });
    expect(set.status).toBe(200);
    expect(set.json.auth.oauth2[0]).toMatchObject({ name: 'google', client_secret_set: true });
    expect(set.body).not.toContain('g-secret');
    expect(JSON.stringify((await admin.get('/api/v1/settings')).json)).not.toContain('secret"');

    // Reordered, one secret left blank, the other cleared: nothing is mixed up.
    await admin.post('/api/v1/settings', { auth: { oauth2: [{ ...provider('github'), clear_client_secret: true }, provider('google', '')] } });
    const after = (await admin.get('/api/v1/settings')).json.auth.oauth2;
    expect(after).toEqual([expect.objectContaining({ name: 'github', client_secret_set: false }), expect.objectContaining({ name: 'google', client_secret_set: true })]);
    expect(await storedAuth(t)).toContain('"$plain":"g-secret"');
    expect(await storedAuth(t)).not.toContain('gh-secret');
  });

  it('validates sections and needs settings.manage', async () => {
    const t = await boot();
    const admin = await t.bootstrapAdmin();
    expect((await admin.post('/api/v1/settings', { auth: { oauth2: [{ name: 'x' }] } })).status).toBe(400);
    expect((await admin.post('/api/v1/settings', { nope: {} })).status).toBe(400);
    expect((await admin.post('/api/v1/settings', {})).json.code).toBe('ERR_VALIDATION');
    await admin.post('/api/v1/users', { username: 'bob', password: 'bob-password' });
    const bob = await t.login('bob', 'bob-password');
    expect((await bob.get('/api/v1/settings')).status).toBe(403);
  });

  it('resets a section to its defaults with action remove', async () => {
    const t = await boot();
    const admin = await t.bootstrapAdmin();
    await admin.post('/api/v1/settings', { event_log: { disabled: true } });
    const reset = await admin.post('/api/v1/settings', { action: 'remove', event_log: {} });
    expect(reset.json.event_log).toEqual({ disabled: false });
  });

  it('seals existing plaintext secrets on initialize, field by field', async () => {
    const t = await boot();
    const admin = await t.bootstrapAdmin();
    await admin.post('/api/v1/settings', { auth: { oauth2: [provider('a', 'secret-a'), provider('b', 'secret-b')] } });
    expect(await storedAuth(t)).toContain('secret-a');
    await admin.post('/api/v1/key/initialize', { key: KEY });
    const stored = await storedAuth(t);
    expect(stored).not.toContain('secret-a');
    expect(stored).not.toContain('$plain');
    expect(stored.match(/"\$sealed"/g)).toHaveLength(2);
    // A new secret written after initialization is sealed straight away.
    await admin.post('/api/v1/settings', { auth: { oauth2: [provider('a', ''), provider('b', ''), provider('c', 'secret-c')] } });
    expect(await storedAuth(t)).not.toContain('secret-c');
    await closeAll();
    expect(await revealAuthOffline(KEY)).toMatchObject({ oauth2: [{ client_secret: 'secret-a' }, { client_secret: 'secret-b' }, { client_secret: 'secret-c' }] });
  });

  it('finishes an interrupted rotation on the next unlock without losing a secret', async () => {
    // A store that fails the first settings write after the key record changed: the crash point.
    let armed = false;
    let sawNewKeyRecord = false;
    const faulty = (store: Store): Store => ({
      ...store,
      batch: (ops, conditions) => {
        if (armed && ops.some((o) => o.key === 'sys/key')) sawNewKeyRecord = true;
        if (armed && sawNewKeyRecord && ops.some((o) => o.key.startsWith('settings/'))) {
          armed = false;
          return Promise.reject(new Error('simulated crash while re-sealing'));
        }
        return store.batch(ops, conditions);
      },
    });
    const t = await boot({ wrapStore: faulty });
    const admin = await t.bootstrapAdmin();
    await admin.post('/api/v1/settings', { auth: { oauth2: [provider('a', 'secret-a')], ldap: { address: 'ldap://x', user_base_dn: 'dc=x', bind_password: 'bind-pw' } } });
    await admin.post('/api/v1/key/initialize', { key: KEY });
    armed = true;
    const rotate = await admin.post('/api/v1/key/rotate', { current_key: KEY, new_key: NEW_KEY });
    expect(rotate.status).toBe(500);
    expect(rotate.json.code).toBe('ERR_KEY_ROTATION_FAILED');
    expect(sawNewKeyRecord).toBe(true);
    await closeAll();

    const next = await boot();
    const again = await next.login(ADMIN.username, ADMIN.password);
    expect((await again.post('/api/v1/key/unlock', { key: KEY })).json.code).toBe('ERR_KEY_WRONG');
    expect((await again.post('/api/v1/key/unlock', { key: NEW_KEY })).status).toBe(200);
    expect((await again.get('/api/v1/settings')).json.auth.oauth2[0].client_secret_set).toBe(true);
    await closeAll();
    expect(await revealAuthOffline(NEW_KEY)).toMatchObject({ oauth2: [{ client_secret: 'secret-a' }], ldap: { bind_password: 'bind-pw' } });
  });

  it('never writes the passphrase, or a secret, to the data directory in the clear', async () => {
    const t = await boot();
    const admin = await t.bootstrapAdmin();
    await admin.post('/api/v1/key/initialize', { key: KEY });
    await admin.post('/api/v1/settings', { auth: { oauth2: [provider('a', 'the-oauth-client-secret')] } });
    await admin.post('/api/v1/key/rotate', { current_key: KEY, new_key: NEW_KEY });
    await admin.post('/api/v1/key/lock');
    await admin.post('/api/v1/key/unlock', { key: NEW_KEY });
    await closeAll();
    const files = readdirSync(join(dir, 'store'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = readFileSync(join(file.parentPath, file.name));
      for (const needle of [KEY, NEW_KEY, 'the-oauth-client-secret']) expect(bytes.includes(Buffer.from(needle)), `${needle} in ${file.name}`).toBe(false);
    }
  });
});

describe('encryption.password_file', () => {
  it('unlocks at boot with the right passphrase and reports a wrong one in /api/v1/info', async () => {
    const t = await boot();
    const admin = await t.bootstrapAdmin();
    await admin.post('/api/v1/key/initialize', { key: KEY });
    await closeAll();
    const file = join(dir, 'passphrase');

    writeFileSync(file, `${KEY}\n`);
    const good = await boot({ env: { PIKA_ENCRYPTION_PASSWORD_FILE: file } });
    expect((await good.request({ url: '/api/v1/key/status' })).json).toEqual({ initialized: true, unlocked: true, server_id: expect.any(String) });
    expect((await good.request({ url: '/api/v1/info' })).json.encryption_config_invalid).toBeUndefined();
    await closeAll();

    writeFileSync(file, 'definitely the wrong passphrase');
    const bad = await boot({ env: { PIKA_ENCRYPTION_PASSWORD_FILE: file } });
    expect((await bad.request({ url: '/api/v1/key/status' })).json).toEqual({ initialized: true, unlocked: false, server_id: expect.any(String) });
    expect((await bad.request({ url: '/api/v1/info' })).json.encryption_config_invalid).toBe(true);
    await closeAll();

    const missing = await boot({ env: { PIKA_ENCRYPTION_PASSWORD_FILE: join(dir, 'nope') } });
    expect((await missing.request({ url: '/api/v1/info' })).json.encryption_config_invalid).toBe(true);
  });

  it('initializes a fresh install from the file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pika-settings-'));
    const file = join(dir, 'passphrase');
    writeFileSync(file, KEY);
    const t = await boot({ env: { PIKA_ENCRYPTION_PASSWORD_FILE: file } });
    expect((await t.request({ url: '/api/v1/key/status' })).json).toEqual({ initialized: true, unlocked: true, server_id: expect.any(String) });
  });
});
