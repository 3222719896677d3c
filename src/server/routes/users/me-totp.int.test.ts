import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { createUser, dumpStore, expectError, manualClock, mint, PASSWORD, signedInUser } from '../../test-support/identity-fixtures.ts';
import { challengeFor, codePhase, enrollTotp, loginWithCode, passwordPhase, totpCode } from '../../test-support/totp-fixtures.ts';

let t: TestApp;
let admin: Client;
const clock = manualClock();
afterEach(async () => {
  await t.close();
});

async function start(): Promise<void> {
  clock.set(Date.parse('2030-01-01T00:00:00.000Z'));
  t = await startTestApp({ deps: { clock: clock.now } });
  admin = await t.bootstrapAdmin();
}

describe('enrollment (/api/v1/me/totp)', () => {
  it('begins, refuses a wrong code, finishes with ten recovery codes and then refuses to begin again', async () => {
    await start();
    expect((await admin.get('/api/v1/me/totp')).json).toEqual({ enabled: false, recovery_codes_left: 0, pending_enrollment: false });
    const begin = await admin.post('/api/v1/me/totp/begin');
    expect(begin.status).toBe(200);
    const secret = begin.json.secret_base32 as string;
    expect(begin.json).toEqual({ secret_base32: expect.stringMatching(/^[A-Z2-7]{32}$/), otpauth_url: `otpauth://totp/pika:admin?secret=${secret}&issuer=pika&algorithm=SHA1&digits=6&period=30`, period: 30, digits: 6, algorithm: 'SHA1' });
    expect((await admin.get('/api/v1/me/totp')).json).toEqual({ enabled: false, recovery_codes_left: 0, pending_enrollment: true });

    expectError(await admin.post('/api/v1/me/totp/finish', { code: '000000' }), 401, 'ERR_TOTP_INVALID');
    const finish = await admin.post('/api/v1/me/totp/finish', { code: totpCode(secret, clock.now()) });
    expect(finish.status).toBe(200);
    expect(finish.json.recovery_codes).toHaveLength(10);
    for (const code of finish.json.recovery_codes) expect(code).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    expect((await admin.get('/api/v1/me/totp')).json).toEqual({ enabled: true, created_at: '2030-01-01T00:00:00.000Z', recovery_codes_left: 10, pending_enrollment: false });
    expectError(await admin.post('/api/v1/me/totp/begin'), 409, 'ERR_TOTP_ENROLLED');
    // The recovery codes are stored only as hashes.
    const stored = JSON.stringify(await dumpStore(t.store, 'id/totp/'));
    for (const code of finish.json.recovery_codes) expect(stored).not.toContain(code);
  });

  it('refuses finish without begin, bad bodies, anonymous callers and API tokens', async () => {
    await start();
    expectError(await admin.post('/api/v1/me/totp/finish', { code: '123456' }), 409, 'ERR_TOTP_NOT_ENROLLED');
    expectError(await admin.post('/api/v1/me/totp/finish', { code: 123456 }), 400, 'ERR_VALIDATION');
    expectError(await t.request({ method: 'POST', url: '/api/v1/me/totp/begin' }), 401, 'ERR_UNAUTHENTICATED');
    const token = await mint(admin, { scopes: [{ path: '**', operations: ['read'] }] });
    expectError(await t.withToken(token.raw).get('/api/v1/me/totp'), 403, 'ERR_FORBIDDEN');
  });
});

describe('disable and recovery codes', () => {
  it('turns off only with the right password; sign-in is one step again', async () => {
    await start();
    await createUser(admin, 'bob');
    const bob = await t.login('bob', PASSWORD);
    await enrollTotp(bob, clock);
    expectError(await bob.delete('/api/v1/me/totp', { password: 'not my password' }), 401, 'ERR_INVALID_CREDENTIALS');
    expectError(await bob.delete('/api/v1/me/totp'), 400, 'ERR_VALIDATION');
    expect((await bob.get('/api/v1/me/totp')).json.enabled).toBe(true);
    const off = await bob.delete('/api/v1/me/totp', { password: PASSWORD });
    expect(off.status).toBe(204);
    expect(off.body).toBe('');
    expect((await bob.get('/api/v1/me/totp')).json).toEqual({ enabled: false, recovery_codes_left: 0, pending_enrollment: false });
    expect((await passwordPhase(t, 'bob', PASSWORD)).json.user.username).toBe('bob');
    expectError(await bob.delete('/api/v1/me/totp', { password: PASSWORD }), 409, 'ERR_TOTP_NOT_ENROLLED');
  });

  it('regenerates recovery codes with the password; the old ones stop working', async () => {
    await start();
    const { codes: old } = await enrollTotp(admin, clock);
    expectError(await admin.post('/api/v1/me/totp/recovery-codes', { password: 'wrong password' }), 401, 'ERR_INVALID_CREDENTIALS');
    const res = await admin.post('/api/v1/me/totp/recovery-codes', { password: ADMIN.password });
    expect(res.status).toBe(200);
    const fresh = res.json.recovery_codes as string[];
    expect(fresh).toHaveLength(10);
    expect(fresh.some((c) => old.includes(c))).toBe(false);
    expectError(await codePhase(t, await challengeFor(t, 'admin', ADMIN.password), old[0] ?? ''), 401, 'ERR_TOTP_INVALID');
    await loginWithCode(t, 'admin', ADMIN.password, fresh[0] ?? '');
  });

  it('rate limits password re-checks like sign-ins', async () => {
    await start();
    await enrollTotp(admin, clock);
    for (let i = 0; i < 3; i++) expectError(await admin.delete('/api/v1/me/totp', { password: `wrong ${i}` }), 401, 'ERR_INVALID_CREDENTIALS');
    const limited = await admin.delete('/api/v1/me/totp', { password: ADMIN.password });
    expectError(limited, 429, 'ERR_RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('1');
    clock.advance(1_000);
    expect((await admin.delete('/api/v1/me/totp', { password: ADMIN.password })).status).toBe(204);
  });
});

describe('admin reset (DELETE /api/v1/users-totp/:id)', () => {
  it("resets another user's TOTP, refuses your own, and only a superadmin resets a superadmin", async () => {
    await start();
    const { id: carolId, client: carol } = await signedInUser(t, admin, 'carol', [{ key: 'user-admins', keys: ['users.manage'] }]);
    const bobId = await createUser(admin, 'bob');
    const bob = await t.login('bob', PASSWORD);
    const { secret } = await enrollTotp(bob, clock);
    await enrollTotp(admin, clock);
    await enrollTotp(carol, clock);

    expect((await carol.get(`/api/v1/users-totp/${bobId}`)).json).toMatchObject({ enabled: true, recovery_codes_left: 10 });
    // A sign-in half way through when the reset lands cannot be finished.
    const pending = await challengeFor(t, 'bob', PASSWORD);
    expect((await carol.delete(`/api/v1/users-totp/${bobId}`)).status).toBe(204);
    expectError(await codePhase(t, pending, totpCode(secret, clock.now())), 401, 'ERR_TOTP_CHALLENGE');
    expect((await passwordPhase(t, 'bob', PASSWORD)).json.user.username).toBe('bob');
    expectError(await carol.delete(`/api/v1/users-totp/${bobId}`), 409, 'ERR_TOTP_NOT_ENROLLED');

    expectError(await carol.delete(`/api/v1/users-totp/${carolId}`), 403, 'ERR_TOTP_SELF_RESET');
    expectError(await carol.delete('/api/v1/users-totp/admin'), 403, 'ERR_FORBIDDEN');
    expectError(await admin.delete('/api/v1/users-totp/admin'), 403, 'ERR_TOTP_SELF_RESET');
    expect((await admin.delete('/api/v1/users-totp/carol')).status).toBe(204);
    expectError(await admin.delete('/api/v1/users-totp/nobody'), 404, 'ERR_USER_NOT_FOUND');
    expectError(await bob.delete(`/api/v1/users-totp/${carolId}`), 403, 'ERR_FORBIDDEN');
    // Nor through a token the admin minted.
    const token = await mint(admin, { scopes: [{ path: '**', operations: ['*'] }], capabilities: ['users.manage'] });
    expectError(await t.withToken(token.raw).delete('/api/v1/users-totp/admin'), 403, 'ERR_TOTP_SELF_RESET');
    expect((await admin.get('/api/v1/me/totp')).json.enabled).toBe(true);
  });
});

describe('audit', () => {
  it('records enrollment, sign-in factors, disable, regeneration and resets, never a secret, code or password', async () => {
    await start();
    const bobId = await createUser(admin, 'bob');
    const bob = await t.login('bob', PASSWORD);
    const { secret, codes } = await enrollTotp(bob, clock);
    const used: string[] = [];
    const code = totpCode(secret, clock.now());
    used.push(code);
    await loginWithCode(t, 'bob', PASSWORD, code);
    await codePhase(t, await challengeFor(t, 'bob', PASSWORD), '999999');
    await loginWithCode(t, 'bob', PASSWORD, codes[0] ?? '');
    const regenerated = await bob.post('/api/v1/me/totp/recovery-codes', { password: PASSWORD });
    await bob.delete('/api/v1/me/totp', { password: PASSWORD });
    await enrollTotp(bob, clock);
    await admin.delete(`/api/v1/users-totp/${bobId}`);

    const res = await admin.get('/api/v1/audit?_limit=1000');
    const named = (res.json.entries as { action: string; actor: string; target?: string; status: number; detail?: string }[]).filter((e) => /^(totp|login)\./.test(e.action)).reverse();
    expect(named.map((e) => `${e.action} ${e.actor} ${e.status}`)).toEqual([
      'login.register admin 201',
      'login.success bob 200',
      'totp.enabled bob 200',
      'login.totp_required bob 200',
      'login.totp_success bob 200',
      'login.success bob 200',
      'login.totp_required bob 200',
      'login.totp_failure bob 401',
      'login.totp_required bob 200',
      'login.totp_success bob 200',
      'login.success bob 200',
      'totp.recovery_codes_regenerated bob 200',
      'totp.disabled bob 204',
      'totp.enabled bob 200',
      'totp.reset admin 204',
    ]);
    expect(named.find((e) => e.action === 'login.totp_success' && e.detail?.startsWith('recovery_code'))?.detail).toBe('recovery_code; 9 recovery codes left');
    expect(named.at(-1)).toMatchObject({ target: 'bob' });
    const secrets = [secret, PASSWORD, ADMIN.password, '999999', ...used, ...codes, ...(regenerated.json.recovery_codes as string[])];
    const stored = JSON.stringify(await dumpStore(t.store, 'audit/'));
    for (const s of secrets) {
      expect(res.body).not.toContain(s);
      expect(stored).not.toContain(s);
    }
  });
});

describe('deleting an enrolled user', () => {
  it('removes their TOTP enrollment with them', async () => {
    await start();
    const bob = await signedInUser(t, admin, 'totp-bob', []);
    const begin = await bob.client.post('/api/v1/me/totp/begin');
    expect((await bob.client.post('/api/v1/me/totp/finish', { code: totpCode(begin.json.secret_base32, clock.now()) })).status).toBe(200);
    expect(await dumpStore(t.store, `id/totp/${bob.id}`)).toHaveLength(1);
    expect((await admin.delete(`/api/v1/users/${bob.id}`)).status).toBe(200);
    expect(await dumpStore(t.store, `id/totp/${bob.id}`)).toHaveLength(0);
  });
});
