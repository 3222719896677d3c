import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { createUser, expectError, manualClock, PASSWORD } from '../../test-support/identity-fixtures.ts';
import { passwordPhase } from '../../test-support/totp-fixtures.ts';

let t: TestApp;
let admin: Client;
const clock = manualClock();
afterEach(async () => {
  await t.close();
});

async function start(env: Record<string, string> = {}): Promise<void> {
  clock.set(Date.parse('2030-01-01T00:00:00.000Z'));
  t = await startTestApp({ deps: { clock: clock.now }, env });
  admin = await t.bootstrapAdmin();
  await createUser(admin, 'bob');
  await createUser(admin, 'alice');
}

async function setLimits(limits: Record<string, unknown>): Promise<void> {
  const res = await admin.post('/api/v1/settings', { auth: { rate_limit: limits } });
  expect(res.status, res.body).toBe(200);
}

const wrong = (username: string, headers?: Record<string, string>) => passwordPhase(t, username, 'not the password', headers);

async function auditEntries(action: string): Promise<{ actor: string; ip: string; detail?: string }[]> {
  return (await admin.get(`/api/v1/audit?action=${action}&_limit=1000`)).json.entries;
}

describe('login rate limiting', () => {
  it('backs off per address after the soft limit with 429 and Retry-After, whoever is tried', async () => {
    await start();
    for (const name of ['u1', 'u2', 'u3']) expectError(await wrong(name), 401, 'ERR_INVALID_CREDENTIALS');
    const limited = await passwordPhase(t, 'bob', PASSWORD);
    expectError(limited, 429, 'ERR_RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.headers['set-cookie']).toBeUndefined();
    clock.advance(999);
    expectError(await passwordPhase(t, 'bob', PASSWORD), 429, 'ERR_RATE_LIMITED');
    clock.advance(1);
    expect((await passwordPhase(t, 'bob', PASSWORD)).status).toBe(200);
    // The success cleared the address: three more failures are free again.
    for (const name of ['u1', 'u2', 'u3']) expectError(await wrong(name), 401, 'ERR_INVALID_CREDENTIALS');
    expect((await auditEntries('login.rate_limited')).map((e) => [e.actor, e.ip, e.detail])).toEqual([
      ['bob', '127.0.0.1', 'ip limit'],
      ['bob', '127.0.0.1', 'ip limit'],
    ]);
  });

  it('blocks an address at the hard limit until the window has passed', async () => {
    await start();
    await setLimits({ ip_soft: 100, ip_hard: 4, window_minutes: 10 });
    for (let i = 0; i < 4; i++) {
      expectError(await wrong(`u${i}`), 401, 'ERR_INVALID_CREDENTIALS');
      clock.advance(60_000);
    }
    const limited = await wrong('u9');
    expectError(limited, 429, 'ERR_RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe(String(10 * 60 - 4 * 60));
    clock.advance(6 * 60_000);
    expectError(await wrong('u9'), 401, 'ERR_INVALID_CREDENTIALS');
  });

  it('limits a username on its own, without locking other users out', async () => {
    await start();
    await setLimits({ ip_soft: 100, ip_hard: 100, user_soft: 2, user_hard: 3 });
    for (const name of ['bob', 'BOB', 'Bob']) {
      expectError(await wrong(name), 401, 'ERR_INVALID_CREDENTIALS');
      clock.advance(60_000);
    }
    const limited = await passwordPhase(t, 'bob', PASSWORD);
    expectError(limited, 429, 'ERR_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBe(15 * 60 - 3 * 60);
    expect((await passwordPhase(t, 'alice', PASSWORD)).status).toBe(200);
    expect((await auditEntries('login.rate_limited'))[0]).toMatchObject({ actor: 'bob', detail: 'user limit' });
  });

  it('limits refused registrations too', async () => {
    await start();
    const register = () => t.request({ method: 'POST', url: '/login/register/local', body: { username: 'mallory', password: PASSWORD, password_confirm: PASSWORD } });
    for (let i = 0; i < 3; i++) expectError(await register(), 409, 'ERR_SETUP_DONE');
    const limited = await register();
    expectError(limited, 429, 'ERR_RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('1');
  });

  it('applies changed settings without a restart, and can be turned off', async () => {
    await start();
    await setLimits({ ip_soft: 1, ip_hard: 1, window_minutes: 1 });
    expectError(await wrong('u1'), 401, 'ERR_INVALID_CREDENTIALS');
    expectError(await wrong('u2'), 429, 'ERR_RATE_LIMITED');
    await setLimits({ enabled: false });
    for (let i = 0; i < 10; i++) expectError(await wrong(`u${i}`), 401, 'ERR_INVALID_CREDENTIALS');
    await setLimits({ ip_soft: 2, ip_hard: 2 });
    expectError(await wrong('u1'), 401, 'ERR_INVALID_CREDENTIALS');
    expectError(await wrong('u2'), 401, 'ERR_INVALID_CREDENTIALS');
    expectError(await wrong('u3'), 429, 'ERR_RATE_LIMITED');
  });
});

describe('client address behind proxies', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    await start();
    await setLimits({ ip_soft: 2, ip_hard: 2, user_soft: 100, user_hard: 100 });
    expectError(await wrong('u1', { 'x-forwarded-for': '198.51.100.1' }), 401, 'ERR_INVALID_CREDENTIALS');
    expectError(await wrong('u2', { 'x-forwarded-for': '198.51.100.2' }), 401, 'ERR_INVALID_CREDENTIALS');
    expectError(await wrong('u3', { 'x-forwarded-for': '198.51.100.3' }), 429, 'ERR_RATE_LIMITED');
    expect((await auditEntries('login.failure')).map((e) => e.ip)).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('counts the forwarded client address when the peer is a trusted proxy', async () => {
    await start({ PIKA_SERVER_TRUSTED_PROXIES: '127.0.0.1' });
    await setLimits({ ip_soft: 2, ip_hard: 2, user_soft: 100, user_hard: 100 });
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    expectError(await wrong('u1', from('198.51.100.1')), 401, 'ERR_INVALID_CREDENTIALS');
    expectError(await wrong('u2', from('198.51.100.1')), 401, 'ERR_INVALID_CREDENTIALS');
    expectError(await wrong('u3', from('198.51.100.1')), 429, 'ERR_RATE_LIMITED');
    expectError(await wrong('u3', from('198.51.100.2')), 401, 'ERR_INVALID_CREDENTIALS');
    expect((await passwordPhase(t, 'admin', ADMIN.password)).status).toBe(200);
    expect((await auditEntries('login.failure')).map((e) => e.ip)).toEqual(['198.51.100.2', '198.51.100.1', '198.51.100.1']);
  });
});
