/**
 * The access area of the console in a real browser (issue 6, points 3–6), under a base path:
 * mint a token with the scope builder and use the copy-once key against /data, revoke it; create
 * a bundle and a user holding it and see, as that user, only what the bundle allows; enroll TOTP
 * on the Account page and sign in with a code; reset it as an admin. axe on every page, both
 * themes, and screenshots in test-results/ui/.
 */
import { createHmac } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Browser, describeViolations, openBrowser, screenshot, seriousViolations } from './support/browser.ts';
import { ADMIN, getData, login, register } from './support/http.ts';
import { startPika, stopAllPika } from './support/server-process.ts';

const BASE_PATH = '/pika';
const ALICE = { username: 'alice', password: 'alice-Password-1' } as const;
const ALICE_NEW_PASSWORD = 'alice-Password-2';

const browsers: Browser[] = [];
afterEach(async () => {
  await Promise.all(browsers.splice(0).map((b) => b.close()));
  await stopAllPika();
});

async function open(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
  const browser = await openBrowser(options);
  browsers.push(browser);
  return browser.page;
}

async function expectAccessible(page: Page, label: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${label}:\n${describeViolations(violations)}`).toEqual([]);
}

/** RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s) for `secret` (base32), `stepOffset` steps from now. */
function totpCode(secret: string, stepOffset = 0): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + stepOffset));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function signIn(page: Page, baseUrl: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByRole('heading', { name: 'Sign in to pika' }).waitFor();
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function navTo(page: Page, label: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('heading', { name: heading, exact: true }).waitFor();
}

async function navLabels(page: Page): Promise<string[]> {
  return (await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).map((t) => t.trim());
}

/** Toasts are feedback, not content: clear them so screenshots show the page. */
async function snap(page: Page, name: string): Promise<void> {
  // Browser-side code as strings: this file is type-checked without the DOM library.
  await page.evaluate(`for (const b of document.querySelectorAll('[role="status"] button[aria-label="Dismiss"]')) b.click()`);
  await screenshot(page, name);
}

async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  await page.getByLabel('Theme').selectOption(theme);
  await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe(theme);
}

describe('console access area', () => {
  it(`manages tokens, bundles, users and two-factor sign-in (under ${BASE_PATH})`, async () => {
    const pika = await startPika({ env: { PIKA_SERVER_BASE_PATH: BASE_PATH } });
    const api = await register(pika.baseUrl);
    await api.save('myapp/config', { format: 'json', content: '{"db":"localhost"}' });
    await api.save('team-a/app', { format: 'json', content: '{"team":"a"}' });
    await api.save('team-b/app', { format: 'json', content: '{"team":"b"}' });

    const admin = await open();
    await admin.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: pika.origin });
    await signIn(admin, pika.baseUrl, ADMIN);
    await admin.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await navLabels(admin)).toEqual(expect.arrayContaining(['Tokens', 'Users', 'Bundles', 'Account']));

    // --- Tokens: scope builder with live example, copy-once key, /data, revoke (keyboard only).
    await navTo(admin, 'Tokens', 'API tokens');
    await admin.getByText('No tokens yet').waitFor();
    await expectAccessible(admin, 'tokens (empty)');
    await admin.getByRole('button', { name: 'New token' }).click();
    await admin.getByLabel('Token name').fill('ci-read');
    await admin.getByLabel('Path pattern').fill('myapp/**');
    expect(await admin.getByRole('checkbox', { name: 'read', exact: true }).isChecked()).toBe(true);
    await admin.getByText('myapp/team/service', { exact: true }).first().waitFor();
    await admin.getByLabel('Try a config path').fill('myapp/config@prod');
    await admin.getByText('The token may read myapp/config@prod').waitFor();
    await admin.getByLabel('Try a config path').fill('team-a/app');
    await admin.getByText('No scope matches team-a/app').waitFor();
    await admin.getByText('How path patterns work').click();
    await expectAccessible(admin, 'tokens (new token form)');
    await snap(admin, 'tokens');
    await admin.getByRole('button', { name: 'Create token' }).click();

    const created = admin.getByRole('dialog', { name: 'Token ci-read created' });
    await created.waitFor();
    await created.getByText('you will not see it again').waitFor();
    const key = await created.getByLabel('API key').inputValue();
    expect(key).toMatch(/^pika_[0-9a-f]{64}$/);
    await created.getByRole('button', { name: 'Copy', exact: true }).click();
    await created.getByRole('button', { name: 'Copied', exact: true }).waitFor();
    expect(await admin.evaluate('navigator.clipboard.readText()')).toBe(key);
    await expectAccessible(admin, 'token created dialog');
    await snap(admin, 'token-created');
    await created.getByRole('button', { name: 'Done, I have copied it' }).click();
    await created.waitFor({ state: 'hidden' });
    await admin.getByRole('row', { name: /ci-read/ }).getByText('myapp/**').waitFor();

    const read = await getData(pika.baseUrl, key, 'myapp/config');
    expect(read.status, read.text()).toBe(200);
    expect(read.json()).toEqual({ db: 'localhost' });
    expect((await getData(pika.baseUrl, key, 'team-a/app')).status).toBe(403);

    await admin.getByRole('button', { name: 'Revoke token ci-read' }).focus();
    await admin.keyboard.press('Enter');
    const confirm = admin.getByRole('dialog', { name: 'Revoke token ci-read?' });
    await confirm.waitFor();
    await expect.poll(() => admin.locator(':focus').textContent()).toBe('Cancel');
    await expectAccessible(admin, 'revoke confirmation');
    await admin.keyboard.press('Tab');
    await expect.poll(() => admin.locator(':focus').textContent()).toBe('Revoke token');
    await admin.keyboard.press('Enter');
    await admin.getByText('No tokens yet').waitFor();
    await admin.getByRole('status').getByText('Token ci-read revoked').waitFor();
    const refused = await getData(pika.baseUrl, key, 'myapp/config');
    expect(refused.status).toBe(401);
    expect(refused.json<{ code: string }>().code).toBe('ERR_TOKEN_INVALID');

    // --- Bundles: files.read on team-a/**; a duplicate key shows its error code in a toast.
    await navTo(admin, 'Bundles', 'Permission bundles');
    await expectAccessible(admin, 'bundles (empty)');
    const createBundle = async () => {
      await admin.getByRole('button', { name: 'New bundle' }).click();
      await admin.getByLabel('Key', { exact: true }).fill('team-a');
      await admin.getByLabel('Name', { exact: true }).fill('Team A');
      await admin.getByRole('checkbox', { name: /^files\.read/ }).check();
      await admin.getByLabel('Patterns for files.read').fill('team-a/**');
    };
    await createBundle();
    await expectAccessible(admin, 'bundles (form)');
    await admin.getByRole('button', { name: 'Create bundle' }).click();
    await admin.getByRole('row', { name: /Team A/ }).getByText('team-a/**').waitFor();
    await createBundle();
    await admin.getByRole('button', { name: 'Create bundle' }).click();
    await admin.getByRole('status').getByText('ERR_BUNDLE_KEY_TAKEN').waitFor();
    await admin.getByRole('button', { name: 'Cancel' }).click();
    await expectAccessible(admin, 'bundles');
    await snap(admin, 'bundles');

    // --- Users: create alice with the bundle; her effective permissions name the bundle.
    await navTo(admin, 'Users', 'Users');
    await admin.getByRole('button', { name: 'New user' }).click();
    await admin.getByLabel('Username', { exact: true }).fill(ALICE.username);
    await admin.getByLabel('Initial password').fill(ALICE.password);
    await admin.getByRole('checkbox', { name: /Team A/ }).check();
    await expectAccessible(admin, 'users (new user form)');
    await admin.getByRole('button', { name: 'Create user' }).click();
    await admin.getByRole('heading', { name: 'alice', exact: true }).waitFor();
    const effective = admin.getByRole('table', { name: 'Effective capabilities of alice' });
    await effective.getByRole('row', { name: /files\.read/ }).getByText('team-a/**').waitFor();
    await effective.getByRole('row', { name: /files\.read/ }).getByText('bundle team-a').waitFor();
    expect(await effective.getByRole('row').count()).toBe(2); // header + files.read
    await expectAccessible(admin, 'user detail');
    await snap(admin, 'user-detail');
    await admin.getByRole('link', { name: '← All users' }).click();
    await admin.getByRole('row', { name: /alice/ }).getByText('team-a').waitFor();
    await expectAccessible(admin, 'users');
    await snap(admin, 'users');

    // --- Alice, in a browser of her own: only team-a, no admin pages.
    const alice = await open();
    await signIn(alice, pika.baseUrl, ALICE);
    await alice.waitForURL(/#\/configs/);
    await alice.getByRole('navigation', { name: 'Main' }).waitFor();
    const labels = await navLabels(alice);
    expect(labels).toContain('Account');
    for (const hidden of ['Tokens', 'Users', 'Bundles']) expect(labels).not.toContain(hidden);
    const root = await alice.evaluate<{ folders: string[]; files: string[] }>(`fetch(new URL('api/v1/folder', document.baseURI)).then((res) => res.json())`);
    expect(root.folders).toEqual(['team-a']);
    await alice.goto(`${pika.baseUrl}/#/tokens`);
    await alice.waitForURL(/#\/about/);

    // --- Alice enrolls TOTP on the Account page, changes her password, signs in with a code.
    await alice.goto(`${pika.baseUrl}/#/configs`);
    await navTo(alice, 'Account', 'Your account');
    await alice.getByText('You sign in with your password only').waitFor();
    await expectAccessible(alice, 'account');
    await alice.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const qr = alice.getByRole('img', { name: 'QR code to add pika to your authenticator app' });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    const secret = await alice.getByLabel('Or type this secret key').inputValue();
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    await expectAccessible(alice, 'account (enrolling)');
    await snap(alice, 'account');
    await alice.getByLabel('Code from the app').fill(totpCode(secret));
    await alice.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    const codes = alice.getByRole('list', { name: 'Recovery codes' });
    await codes.waitFor();
    expect(await codes.getByRole('listitem').count()).toBe(10);
    await alice.getByText('you will not see them again').waitFor();
    await expectAccessible(alice, 'account (recovery codes)');
    await snap(alice, 'account-recovery-codes');
    await alice.getByRole('button', { name: 'I have saved them' }).click();
    await alice.getByText('10 of 10 recovery codes left').waitFor();

    await alice.getByLabel('Current password', { exact: true }).fill(ALICE.password);
    await alice.getByLabel('New password', { exact: true }).fill(ALICE_NEW_PASSWORD);
    await alice.getByLabel('Repeat the new password').fill(ALICE_NEW_PASSWORD);
    await alice.getByRole('button', { name: 'Change password' }).click();
    await alice.getByRole('status').getByText('Password changed').waitFor();

    await alice.getByRole('button', { name: 'Sign out' }).click();
    await alice.getByRole('heading', { name: 'Sign in to pika' }).waitFor();
    await alice.getByLabel('Username').fill(ALICE.username);
    await alice.getByLabel('Password').fill(ALICE_NEW_PASSWORD);
    await alice.getByRole('button', { name: 'Sign in' }).click();
    // The enrollment used this step's code and codes are single-use: take the next one (one
    // step of clock drift is accepted).
    await alice.getByLabel('Code').fill(totpCode(secret, 1));
    await alice.getByRole('button', { name: 'Verify' }).click();
    await alice.waitForURL(/#\/configs/);
    await alice.getByRole('navigation', { name: 'Main' }).waitFor();

    // --- The admin resets alice's second factor from her user page.
    await navTo(admin, 'Users', 'Users');
    await admin.getByRole('link', { name: 'alice', exact: true }).click();
    await admin.getByRole('heading', { name: 'alice', exact: true }).waitFor();
    const totpCard = admin.getByRole('region', { name: 'Two-factor sign-in' });
    await totpCard.getByText('recovery codes left').waitFor();
    await admin.getByRole('row', { name: /local/ }).first().waitFor(); // alice's live session
    await totpCard.getByRole('button', { name: 'Reset two-factor sign-in' }).click();
    await admin.getByRole('dialog', { name: 'Reset two-factor sign-in of alice?' }).getByRole('button', { name: 'Reset', exact: true }).click();
    await totpCard.getByText('Signs in with a password only').waitFor();
    expect((await api.request('GET', '/api/v1/users-totp/alice')).json<{ enabled: boolean }>().enabled).toBe(false);
    await login(pika.baseUrl, { username: ALICE.username, password: ALICE_NEW_PASSWORD }); // one step again

    // --- Dark theme: every page again, axe and screenshots.
    await setTheme(admin, 'dark');
    await expectAccessible(admin, 'user detail (dark)');
    await snap(admin, 'user-detail-dark');
    await navTo(admin, 'Users', 'Users');
    await expectAccessible(admin, 'users (dark)');
    await snap(admin, 'users-dark');
    await navTo(admin, 'Bundles', 'Permission bundles');
    await admin.getByRole('button', { name: 'Edit bundle team-a' }).click();
    await expectAccessible(admin, 'bundles (dark)');
    await snap(admin, 'bundles-dark');
    await navTo(admin, 'Tokens', 'API tokens');
    await admin.getByRole('button', { name: 'New token' }).click();
    await admin.getByLabel('Token name').fill('operator');
    await admin.getByLabel('Path pattern').fill('*/config');
    await admin.getByText('Management capabilities (none)').click();
    await admin.getByRole('checkbox', { name: /^key\.unlock/ }).check();
    await expectAccessible(admin, 'tokens (dark)');
    await snap(admin, 'tokens-dark');
    await admin.getByRole('button', { name: 'Create token' }).click();
    await admin.getByRole('dialog', { name: 'Token operator created' }).waitFor();
    await expectAccessible(admin, 'token created dialog (dark)');
    await snap(admin, 'token-created-dark');
    await admin.getByRole('button', { name: 'Done, I have copied it' }).click();
    await admin.getByRole('row', { name: /operator/ }).getByText('key.unlock').waitFor();

    await setTheme(alice, 'dark');
    await navTo(alice, 'Account', 'Your account');
    await alice.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    await alice.getByRole('img', { name: 'QR code to add pika to your authenticator app' }).waitFor();
    await expectAccessible(alice, 'account (dark)');
    await snap(alice, 'account-dark');
  }, 240_000);

  it('edits and removes: token, bundle, user profile, denies, identities, sessions, own two-factor', async () => {
    const pika = await startPika();
    const api = await register(pika.baseUrl);
    await api.createToken('deploy', [{ path: 'shop/**', operations: ['read', 'write'] }]);
    const bundle = (await api.request('POST', '/api/v1/permissions', { key: 'ops', name: 'Ops', keys: ['files.read'] })).json<{ id: string }>();
    await api.request('POST', '/api/v1/users', { username: 'bob', password: 'bob-Password-1', permission_ids: [bundle.id] });
    await login(pika.baseUrl, { username: 'bob', password: 'bob-Password-1' }); // a live session to end

    const page = await open({ colorScheme: 'dark' });
    await signIn(page, pika.baseUrl, ADMIN);
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    const toast = (text: string) => page.getByRole('status').getByText(text).first().waitFor();

    // Token: edit (rename, another scope), disable, enable.
    await navTo(page, 'Tokens', 'API tokens');
    await page.getByRole('button', { name: 'Edit token deploy' }).click();
    await page.getByLabel('Token name').fill('deploy-shop');
    await page.getByRole('button', { name: 'Add scope' }).click();
    await page.getByLabel('Path pattern').nth(1).fill('shared/*');
    await page.getByRole('button', { name: 'Save token' }).click();
    await toast('Token deploy-shop saved');
    await page.getByRole('row', { name: /deploy-shop/ }).getByText('shared/*').waitFor();
    await page.getByRole('button', { name: 'Disable token deploy-shop' }).click();
    await page.getByRole('row', { name: /deploy-shop/ }).getByText('disabled').waitFor();
    await page.getByRole('button', { name: 'Enable token deploy-shop' }).click();
    await page.getByRole('row', { name: /deploy-shop/ }).getByText('active').waitFor();
    const [token] = (await api.request('GET', '/api/v1/tokens')).json<{ name: string; scopes: { path: string }[]; active: boolean }[]>();
    expect(token).toMatchObject({ name: 'deploy-shop', active: true, scopes: [{ path: 'shop/**' }, { path: 'shared/*' }] });

    // Bundle: restrict files.read to shop/**.
    await navTo(page, 'Bundles', 'Permission bundles');
    await page.getByRole('button', { name: 'Edit bundle ops' }).click();
    await page.getByLabel('Patterns for files.read').fill('shop/**');
    await page.getByRole('button', { name: 'Save bundle' }).click();
    await page.getByRole('row', { name: /Ops/ }).getByText('shop/**').waitFor();

    // User: profile, denies, identities, sessions, delete.
    await navTo(page, 'Users', 'Users');
    await page.getByRole('link', { name: 'bob', exact: true }).click();
    await page.getByRole('heading', { name: 'bob', exact: true }).waitFor();
    await page.getByRole('table', { name: 'Effective capabilities of bob' }).getByText('shop/**').waitFor();
    await page.getByLabel('Display name').fill('Bob Builder');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await toast('bob saved');
    await page.getByText('Deny capabilities (none)').click();
    await page.getByRole('checkbox', { name: /^files\.read/ }).check();
    await page.getByRole('button', { name: 'Save denies' }).click();
    await page.getByText('No capabilities: this user can sign in but see nothing.').waitFor();
    await page.getByLabel('Provider').fill('oidc');
    await page.getByLabel('Subject').fill('bob-sub-1');
    await page.getByRole('button', { name: 'Link identity' }).click();
    await page.getByRole('cell', { name: 'bob-sub-1', exact: true }).waitFor();
    await expectAccessible(page, 'user detail with identity and session (dark)');
    await page.getByRole('button', { name: 'Unlink oidc identity bob-sub-1' }).click();
    await page.getByRole('dialog', { name: 'Unlink this identity?' }).getByRole('button', { name: 'Unlink' }).click();
    await page.getByRole('cell', { name: 'bob-sub-1', exact: true }).waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: /^End session from/ }).click();
    await page.getByRole('dialog', { name: 'End this session?' }).getByRole('button', { name: 'End session' }).click();
    await page.getByText('Not signed in anywhere.').waitFor();
    const bob = (await api.request('GET', '/api/v1/users/bob')).json<{ display_name: string; denied_capabilities: string[] }>();
    expect(bob).toMatchObject({ display_name: 'Bob Builder', denied_capabilities: ['files.read'] });
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog', { name: 'Delete bob?' }).getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
    expect((await api.request('GET', '/api/v1/users/bob')).status).toBe(404);

    // Own two-factor: enroll, new recovery codes, turn off (both need the password).
    await navTo(page, 'Account', 'Your account');
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const secret = await page.getByLabel('Or type this secret key').inputValue();
    await page.getByLabel('Code from the app').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByLabel('Your password (needed for both actions)').fill('wrong password');
    await page.getByRole('button', { name: 'New recovery codes' }).click();
    await toast('ERR_INVALID_CREDENTIALS');
    await page.getByLabel('Your password (needed for both actions)').fill(ADMIN.password);
    await page.getByRole('button', { name: 'New recovery codes' }).click();
    await page.getByRole('list', { name: 'Recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByLabel('Your password (needed for both actions)').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Turn off', exact: true }).click();
    await page.getByRole('dialog', { name: 'Turn off two-factor sign-in?' }).getByRole('button', { name: 'Turn off' }).click();
    await page.getByText('You sign in with your password only').waitFor();
    await expectAccessible(page, 'account after turning two-factor off (dark)');
  }, 120_000);
});
