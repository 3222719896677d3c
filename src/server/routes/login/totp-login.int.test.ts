import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { cookieOf, createUser, dumpStore, expectError, manualClock, PASSWORD } from '../../test-support/identity-fixtures.ts';
import { challengeFor, codePhase, enrollTotp, loginWithCode, passwordPhase, totpCode } from '../../test-support/totp-fixtures.ts';

let t: TestApp;
let admin: Client;
const clock = manualClock();
afterEach(async () => {
  await t.close();
});

/** An app with bob enrolled in TOTP; bob's enrollment session is returned as well. */
async function start(env: Record<string, string> = {}) {
  clock.set(Date.parse('2030-01-01T00:00:00.000Z'));
  t = await startTestApp({ deps: { clock: clock.now }, env });
  admin = await t.bootstrapAdmin();
  const bobId = await createUser(admin, 'bob');
  const bob = await t.login('bob', PASSWORD);
  const { secret, codes } = await enrollTotp(bob, clock);
  return { bobId, bob, secret, codes };
}

describe('two-phase sign-in', () => {
  it('answers a correct password with totp_required and no cookie, then signs in with the code', async () => {
    const { secret } = await start();
    const first = await passwordPhase(t, 'bob', PASSWORD);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ phase: 'totp_required', totp_session_id: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), strategy: 'local', expires_in: 300 });
    expect(first.headers['set-cookie']).toBeUndefined();
    // The store names the challenge by a hash, never by the id the client holds.
    const stored = await dumpStore(t.store, 'id/totpchallenge/');
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(first.json.totp_session_id);

    const second = await codePhase(t, first.json.totp_session_id, totpCode(secret, clock.now()));
    expect(second.status, second.body).toBe(200);
    expect(second.json.user.username).toBe('bob');
    const me = await t.request({ url: '/api/v1/me', cookie: cookieOf(second) });
    expect(me.json.user.username).toBe('bob');
    // Single use: the same challenge cannot mint a second session.
    expectError(await codePhase(t, first.json.totp_session_id, totpCode(secret, clock.now() + 30_000)), 401, 'ERR_TOTP_CHALLENGE');
    expect(await dumpStore(t.store, 'id/totpchallenge/')).toEqual([]);
  });

  it('still refuses a wrong password with the same 401 as before, and users without TOTP sign in in one step', async () => {
    await start();
    expectError(await passwordPhase(t, 'bob', 'not the password'), 401, 'ERR_INVALID_CREDENTIALS');
    const res = await passwordPhase(t, 'admin', ADMIN.password);
    expect(res.status).toBe(200);
    expect(res.json.user.username).toBe('admin');
    expect(cookieOf(res)).toMatch(/^pika_session=/);
  });

  it('refuses a code that was already used (replay), also within the skew window', async () => {
    const { secret } = await start();
    const code = totpCode(secret, clock.now());
    await loginWithCode(t, 'bob', PASSWORD, code);
    const again = await challengeFor(t, 'bob', PASSWORD);
    expectError(await codePhase(t, again, code), 401, 'ERR_TOTP_INVALID');
    // The previous step's code is older than the one used: refused too, though inside ±1 step.
    clock.advance(30_000);
    expectError(await codePhase(t, again, totpCode(secret, clock.now() - 30_000)), 401, 'ERR_TOTP_INVALID');
    expect((await codePhase(t, again, totpCode(secret, clock.now()))).status).toBe(200);
  });

  it('accepts one step of clock skew either way, not two', async () => {
    const { secret } = await start();
    const id = await challengeFor(t, 'bob', PASSWORD);
    expectError(await codePhase(t, id, totpCode(secret, clock.now() + 60_000)), 401, 'ERR_TOTP_INVALID');
    expect((await codePhase(t, id, totpCode(secret, clock.now() + 30_000))).status).toBe(200);
  });

  it('signs in with a recovery code exactly once', async () => {
    const { codes } = await start();
    const code = codes[0] ?? '';
    const client = await loginWithCode(t, 'bob', PASSWORD, code.toUpperCase());
    expect((await client.get('/api/v1/me/totp')).json).toMatchObject({ enabled: true, recovery_codes_left: 9 });
    const again = await challengeFor(t, 'bob', PASSWORD);
    const reused = await codePhase(t, again, code);
    expectError(reused, 401, 'ERR_TOTP_INVALID');
    expect(reused.json.details).toEqual({ attempts_left: 4 });
    expect((await codePhase(t, again, codes[1] ?? '')).status).toBe(200);
  });

  it('closes a challenge after five wrong codes; wrong codes count toward the sign-in limits', async () => {
    const { secret } = await start();
    const id = await challengeFor(t, 'bob', PASSWORD);
    for (let i = 0; i < 3; i++) expectError(await codePhase(t, id, '000000'), 401, 'ERR_TOTP_INVALID');
    // Default user_soft is 3: the fourth try must wait, and says how long.
    const limited = await codePhase(t, id, totpCode(secret, clock.now()));
    expectError(limited, 429, 'ERR_RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('1');
    clock.advance(1_000);
    expectError(await codePhase(t, id, '000000'), 401, 'ERR_TOTP_INVALID');
    clock.advance(2_000);
    const last = await codePhase(t, id, '000000');
    expectError(last, 401, 'ERR_TOTP_INVALID');
    expect(last.json.details).toEqual({ attempts_left: 0 });
    clock.advance(4_000);
    expectError(await codePhase(t, id, totpCode(secret, clock.now())), 401, 'ERR_TOTP_CHALLENGE');
    // A full sign-in later clears the counters.
    clock.advance(8_000);
    await loginWithCode(t, 'bob', PASSWORD, totpCode(secret, clock.now()));
    expectError(await codePhase(t, await challengeFor(t, 'bob', PASSWORD), '000000'), 401, 'ERR_TOTP_INVALID');
  });

  it('expires a challenge after five minutes', async () => {
    const { secret } = await start();
    const id = await challengeFor(t, 'bob', PASSWORD);
    clock.advance(5 * 60_000);
    expectError(await codePhase(t, id, totpCode(secret, clock.now())), 401, 'ERR_TOTP_CHALLENGE');
    expect(await dumpStore(t.store, 'id/totpchallenge/')).toEqual([]);
  });

  it('refuses unknown challenges, challenges of a disabled user and malformed bodies', async () => {
    const { secret, bobId } = await start();
    expectError(await codePhase(t, 'x'.repeat(43), '123456'), 401, 'ERR_TOTP_CHALLENGE');
    const id = await challengeFor(t, 'bob', PASSWORD);
    expect((await admin.patch(`/api/v1/users/${bobId}`, { disabled: true })).status).toBe(200);
    expectError(await codePhase(t, id, totpCode(secret, clock.now())), 401, 'ERR_TOTP_CHALLENGE');
    for (const body of [{ totp_session_id: id }, { totp_session_id: id, code: '123456', username: 'bob' }, { username: 'bob', code: '123456' }, { totp_session_id: 'bad id!', code: '123456' }]) {
      expectError(await t.request({ method: 'POST', url: '/login/pass/local', body }), 400, 'ERR_VALIDATION');
    }
  });

  it('refuses the code phase from a foreign origin', async () => {
    const { secret } = await start();
    const id = await challengeFor(t, 'bob', PASSWORD);
    expectError(await codePhase(t, id, totpCode(secret, clock.now()), { origin: 'https://evil.example' }), 403, 'ERR_CSRF');
    expect((await codePhase(t, id, totpCode(secret, clock.now()))).status).toBe(200);
  });

  it('works while the server is locked: the TOTP secret is not sealed with the server key', async () => {
    const { secret } = await start();
    expect((await admin.post('/api/v1/key/initialize', { key: 'a long server key 123' })).status).toBe(200);
    expect((await admin.post('/api/v1/key/lock')).status).toBe(200);
    const bob = await loginWithCode(t, 'bob', PASSWORD, totpCode(secret, clock.now()));
    expect((await bob.get('/api/v1/me/totp')).json.enabled).toBe(true);
    expect((await bob.get('/api/v1/users')).status).toBe(503);
  });
});
