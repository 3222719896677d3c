/**
 * Issue 4 acceptance 5–6 against the real process: the server key passphrase never reaches the
 * data directory, the logs (even at trace level) or the process environment; a password file
 * unlocks the server at boot and a wrong one leaves it locked with encryption_config_invalid.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { get, login, register } from './support/http.ts';
import { makeTempDir, startPika, stopAllPika } from './support/server-process.ts';

const KEY = 'e2e server key: correct horse battery staple';
const NEW_KEY = 'e2e rotated key: another long passphrase';

afterEach(async () => {
  await stopAllPika();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('server key on a real process', () => {
  it('keeps the passphrase out of the data dir, the logs and the environment through initialize, rotate, lock and unlock', async () => {
    const dataDir = makeTempDir();
    const pika = await startPika({ dataDir, env: { PIKA_LOG_LEVEL: 'trace' } });
    const admin = await register(pika.baseUrl);
    expect((await admin.request('POST', '/api/v1/key/initialize', { key: KEY })).status).toBe(200);
    expect((await admin.request('POST', '/api/v1/settings', { auth: { oauth2: [{ name: 'idp', client_id: 'pika', client_secret: 'oauth-client-secret-e2e' }] } })).status).toBe(200);
    expect((await admin.request('POST', '/api/v1/key/rotate', { current_key: KEY, new_key: NEW_KEY })).status).toBe(200);
    expect((await admin.request('POST', '/api/v1/key/lock')).status).toBe(200);
    expect((await admin.request('POST', '/api/v1/key/unlock', { key: 'a wrong guess, logged as a failure' })).status).toBe(403);
    expect((await admin.request('POST', '/api/v1/key/unlock', { key: NEW_KEY })).status).toBe(200);
    const environ = readFileSync(`/proc/${pika.pid}/environ`);
    expect((await pika.stop('SIGTERM')).code).toBe(0);

    const logs = pika.stdout() + pika.stderr();
    expect(logs).toContain('/api/v1/key/rotate'); // the requests were logged…
    for (const secret of [KEY, NEW_KEY, 'oauth-client-secret-e2e', 'a wrong guess']) {
      expect(logs.includes(secret), `${secret} in logs`).toBe(false); // …but never their bodies
      expect(environ.includes(Buffer.from(secret)), `${secret} in /proc/pid/environ`).toBe(false);
      for (const file of filesUnder(dataDir)) expect(readFileSync(file).includes(Buffer.from(secret)), `${secret} in ${file}`).toBe(false);
    }
  });

  it('restarts locked; a password file unlocks at boot, a wrong one is reported and stays locked', async () => {
    const dataDir = makeTempDir();
    const first = await startPika({ dataDir });
    const admin = await register(first.baseUrl);
    expect((await admin.request('POST', '/api/v1/key/initialize', { key: KEY })).status).toBe(200);
    await first.stop('SIGTERM');

    const locked = await startPika({ dataDir });
    expect((await get(`${locked.baseUrl}/api/v1/key/status`)).json()).toEqual({ initialized: true, unlocked: false, server_id: expect.any(String) });
    const gated = await get(`${locked.baseUrl}/api/v1/folder`);
    expect(gated.status).toBe(503);
    expect(gated.headers.get('x-pika-locked')).toBe('true');
    await locked.stop('SIGTERM');

    const secretsDir = makeTempDir('pika-secret-');
    const file = join(secretsDir, 'server-key');
    writeFileSync(file, `${KEY}\n`, { mode: 0o600 });
    const unlocked = await startPika({ dataDir, env: { PIKA_ENCRYPTION_PASSWORD_FILE: file } });
    expect((await get(`${unlocked.baseUrl}/api/v1/key/status`)).json()).toEqual({ initialized: true, unlocked: true, server_id: expect.any(String) });
    const session = await login(unlocked.baseUrl);
    expect((await session.request('GET', '/api/v1/folder')).status).toBe(200);
    expect(readFileSync(`/proc/${unlocked.pid}/environ`).includes(Buffer.from(KEY))).toBe(false);
    await unlocked.stop('SIGTERM');
    expect(unlocked.stdout()).not.toContain(KEY);

    writeFileSync(file, 'not the server key at all');
    const wrong = await startPika({ dataDir, env: { PIKA_ENCRYPTION_PASSWORD_FILE: file } });
    const info = (await get(`${wrong.baseUrl}/api/v1/info`)).json<{ encryption_config_invalid?: boolean }>();
    expect(info.encryption_config_invalid).toBe(true);
    expect((await get(`${wrong.baseUrl}/api/v1/key/status`)).json()).toEqual({ initialized: true, unlocked: false, server_id: expect.any(String) });
    expect(wrong.stdout()).toContain('does not hold the server key');
  });
});
