/**
 * The settings area of the console in a real browser (issue 6, point 4): authentication
 * strategies (an OIDC provider with a write-only client secret, the permission mapping, user sync
 * with run-now and status), the server key (initialize after "saved it?", lock → unlock screen,
 * unlock, rotate, and the unlock screen offering initialize), backup download with and without a
 * password and a merge restore, and the audit log filtered by actor and action. axe on every page
 * in both themes; screenshots in test-results/ui/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Browser, describeViolations, openBrowser, screenshot, SCREENSHOTS, seriousViolations } from './support/browser.ts';
import { ADMIN, get, register, type Session, tryLogin } from './support/http.ts';
import { freePort, makeTempDir, startPika, stopAllPika } from './support/server-process.ts';

const CLIENT_SECRET = 'e2e-oidc-client-secret-9c1f7a';
const FIRST_KEY = 'e2e first server key 4b7d';
const SECOND_KEY = 'e2e rotated server key 8e2a';
const BOB = { username: 'auditor-bob', password: 'bob-Password-77' } as const;

const browsers: Browser[] = [];
afterEach(async () => {
  await Promise.all(browsers.splice(0).map((b) => b.close()));
  await stopAllPika();
});

async function open(): Promise<Page> {
  const browser = await openBrowser();
  browsers.push(browser);
  return browser.page;
}

async function expectAccessible(page: Page, label: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${label}:\n${describeViolations(violations)}`).toEqual([]);
}

/** axe and a screenshot in the light theme, then the same in the dark theme (back to light after). */
async function checkBothThemes(page: Page, label: string, shot: string): Promise<void> {
  await settle(page);
  await expectAccessible(page, `${label} (light)`);
  await screenshot(page, shot);
  await page.getByLabel('Theme').selectOption('dark');
  await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe('dark');
  await expectAccessible(page, `${label} (dark)`);
  await screenshot(page, `${shot}-dark`);
  await page.getByLabel('Theme').selectOption('light');
}

/** Dismisses the toasts and scrolls to the top, so a full-page screenshot shows the page itself. */
async function settle(page: Page): Promise<void> {
  const dismiss = page.getByRole('button', { name: 'Dismiss' });
  while ((await dismiss.count()) > 0) await dismiss.first().click({ timeout: 1_000 }).catch(() => undefined);
  await page.evaluate('window.scrollTo(0, 0)');
}

async function signIn(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByRole('heading', { name: 'Sign in to pika' }).waitFor();
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

async function openSettings(page: Page, sub: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'Authentication', exact: true }).waitFor();
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: sub, exact: true }).click();
  await page.getByRole('heading', { name: heading, exact: true, level: 1 }).waitFor();
}

async function toast(page: Page, text: string | RegExp): Promise<void> {
  await page.locator('.toast').filter({ hasText: text }).first().waitFor();
}

/** The parts of `GET /api/v1/settings` the assertions read. */
interface AuthView {
  oauth2: Record<string, unknown>[];
  permissions: Record<string, unknown>;
  user_sync: Record<string, unknown>[];
  rate_limit: { ip_soft: number };
  header?: Record<string, unknown>;
}

async function authSettings(session: Session): Promise<AuthView> {
  const reply = await session.request('GET', '/api/v1/settings');
  expect(reply.status, reply.text()).toBe(200);
  return reply.json<{ auth: AuthView }>().auth;
}

async function downloadBytes(page: Page, click: () => Promise<void>): Promise<{ bytes: Buffer; download: Download }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await download.path();
  return { bytes: readFileSync(path), download };
}

describe('settings screens', () => {
  it('edits authentication: an OIDC provider with a write-only secret, the permission mapping, user sync run-now and status', async () => {
    const pika = await startPika();
    const admin = await register(pika.baseUrl);
    const page = await open();
    await signIn(page, pika.baseUrl);
    await openSettings(page, 'Authentication', 'Authentication');
    await expectAccessible(page, 'authentication (empty)');

    // An OIDC provider with a client secret: afterwards the console shows "Stored", never the secret.
    const oidc = page.locator('#oidc');
    await oidc.getByRole('button', { name: 'Add provider' }).click();
    await oidc.getByLabel('Name', { exact: true }).fill('corp-sso');
    await oidc.getByLabel('Button label').fill('Corporate SSO');
    await oidc.getByLabel('Client ID').fill('pika-console');
    await oidc.getByLabel('Client secret', { exact: true }).fill(CLIENT_SECRET);
    await oidc.getByLabel('Issuer URL (OIDC discovery)').fill('https://idp.example.com/realms/corp');
    await oidc.getByLabel('Role claims').fill('groups\nrealm_access.roles');
    await expect.poll(() => oidc.locator('code.uri').textContent()).toBe(`${pika.baseUrl}/login/callback/corp-sso`);
    await expectAccessible(page, 'provider form');
    await oidc.screenshot({ path: `${SCREENSHOTS}/settings-auth-provider-form.png` });
    await oidc.getByRole('button', { name: 'Add provider' }).click();
    await toast(page, 'Provider “corp-sso” added.');
    const row = oidc.getByRole('row').filter({ hasText: 'corp-sso' });
    await expect.poll(() => row.textContent()).toContain('Stored');
    let auth = await authSettings(admin);
    expect(auth.oauth2).toEqual([expect.objectContaining({ name: 'corp-sso', display_name: 'Corporate SSO', client_id: 'pika-console', client_secret_set: true, roles_claims: ['groups', 'realm_access.roles'] })]);
    expect(JSON.stringify(auth)).not.toContain(CLIENT_SECRET);

    // Editing with the secret left blank keeps it; the form shows it as stored and empty.
    await oidc.getByRole('button', { name: 'Edit provider corp-sso' }).click();
    const secretInput = oidc.getByLabel('Client secret', { exact: true });
    expect(await secretInput.inputValue()).toBe('');
    expect(await oidc.locator('.sub-card').textContent()).toContain('Stored');
    await oidc.getByLabel('Button label').fill('Corporate single sign-on');
    await oidc.getByRole('button', { name: 'Save provider' }).click();
    await toast(page, 'Provider “corp-sso” saved.');
    auth = await authSettings(admin);
    expect(auth.oauth2[0]).toMatchObject({ display_name: 'Corporate single sign-on', client_secret_set: true });
    expect(await page.content()).not.toContain(CLIENT_SECRET);
    const values = await page.locator('input').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value));
    expect(values).not.toContain(CLIENT_SECRET);
    expect((await get(`${pika.baseUrl}/login/info`)).json<{ strategies: { name: string }[] }>().strategies.map((s) => s.name)).toContain('corp-sso');

    // The permission mapping: enforce, and one group → two capabilities.
    const permissions = page.locator('#permissions');
    await permissions.getByLabel('Enforce the mapping').check();
    await permissions.getByRole('button', { name: 'Add group' }).click();
    await permissions.getByLabel('Group, role or scope').fill('pika-editors');
    const caps = permissions.getByRole('group', { name: 'Capabilities for pika-editors' });
    await caps.getByLabel('files.read').check();
    await caps.getByLabel('files.write').check();
    await permissions.getByLabel('Superadmins').fill('header:root');
    await permissions.getByRole('button', { name: 'Save' }).click();
    await toast(page, 'Permission mapping saved.');
    auth = await authSettings(admin);
    expect(auth.permissions).toMatchObject({ enforce: true, superadmins: ['header:root'], mapping: { 'pika-editors': ['files.read', 'files.write'] } });
    // The other parts were sent back unchanged: the provider and its secret are still there.
    expect(auth.oauth2[0]).toMatchObject({ name: 'corp-sso', client_secret_set: true });

    // User sync: a source whose directory is down; "Run now" reports the error and the status shows it.
    const closedPort = await freePort();
    const sync = page.locator('#user-sync');
    await sync.getByRole('button', { name: 'Add source' }).click();
    await sync.getByLabel('Source id').fill('people');
    await sync.getByLabel('Display name', { exact: true }).fill('Corporate directory');
    await sync.getByLabel('Directory address').fill(`ldap://127.0.0.1:${closedPort}`);
    await sync.getByLabel('Bind password', { exact: true }).fill('e2e-bind-password');
    await sync.getByLabel('User base DN').fill('ou=people,dc=example,dc=com');
    await sync.getByRole('button', { name: 'Add source' }).click();
    await toast(page, 'User-sync source “people” saved.');
    await expect.poll(() => sync.getByRole('row').filter({ hasText: 'Corporate directory' }).textContent()).toContain('Never run');
    await sync.getByRole('button', { name: 'Run now (people)' }).click();
    await toast(page, 'ERR_LDAP_UNAVAILABLE');
    await expect.poll(() => sync.getByRole('row').filter({ hasText: 'Corporate directory' }).textContent()).toContain('Failed');
    expect((await authSettings(admin)).user_sync[0]).toMatchObject({ id: 'people', ldap: { bind_password_set: true } });

    // The rate limits save on their own: an unsaved edit in another card survives it.
    const forwardAuth = page.locator('#forward-auth');
    await forwardAuth.getByLabel('User header').fill('X-Forwarded-User');
    const limits = page.locator('#rate-limits');
    await limits.getByLabel('Per address: backoff after').fill('5');
    await limits.getByRole('button', { name: 'Save' }).click();
    await toast(page, 'Rate limits saved.');
    expect((await authSettings(admin)).rate_limit.ip_soft).toBe(5);
    expect(await forwardAuth.getByLabel('User header').inputValue()).toBe('X-Forwarded-User');
    expect((await authSettings(admin)).header).toBeUndefined();

    await checkBothThemes(page, 'authentication', 'settings-auth');

    // About: version, key state, capabilities.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'About', exact: true }).click();
    await page.getByRole('heading', { name: 'About pika' }).waitFor();
    await expect.poll(() => page.locator('dl').textContent()).toContain('off (secrets are stored in plain text)');
    await expectAccessible(page, 'about');
    await screenshot(page, 'about');
  });

  it('sets up the server key with a "saved it?" confirmation, locks, unlocks and rotates it', async () => {
    const pika = await startPika();
    const admin = await register(pika.baseUrl);
    const page = await open();
    await signIn(page, pika.baseUrl);

    // Before a key exists the unlock screen offers to set one up.
    await page.goto(`${pika.baseUrl}/#/unlock`);
    await page.getByRole('heading', { name: 'The server key is not set up' }).waitFor();
    await expectAccessible(page, 'unlock (no key)');
    await screenshot(page, 'unlock-no-key');
    await page.getByRole('link', { name: 'Set up the server key' }).click();
    await page.getByRole('heading', { name: 'Server key', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Turn on encryption at rest' }).waitFor();
    await expectAccessible(page, 'server key (not set up)');

    await page.getByLabel('New server key', { exact: true }).fill(FIRST_KEY);
    await page.getByLabel('Repeat the new server key', { exact: true }).fill(FIRST_KEY);
    await page.getByRole('button', { name: 'Initialize encryption…' }).click();
    const saved = page.getByRole('dialog', { name: 'Did you save the server key?' });
    await saved.waitFor();
    await expectAccessible(page, 'saved-it dialog');
    await screenshot(page, 'settings-key-saved-it');
    const confirm = saved.getByRole('button', { name: 'Initialize encryption' });
    expect(await confirm.isDisabled()).toBe(true);
    // Escape backs out without doing anything.
    await page.keyboard.press('Escape');
    await saved.waitFor({ state: 'hidden' });
    expect((await get(`${pika.baseUrl}/api/v1/key/status`)).json()).toEqual({ initialized: false, unlocked: false, server_id: expect.any(String) });
    await page.getByRole('button', { name: 'Initialize encryption…' }).click();
    await saved.getByLabel('I saved the server key somewhere safe, outside this server.').check();
    await confirm.click();
    await toast(page, 'Encryption at rest is on');
    await page.getByText('On · unlocked').waitFor();
    expect((await get(`${pika.baseUrl}/api/v1/key/status`)).json()).toEqual({ initialized: true, unlocked: true, server_id: expect.any(String) });
    await checkBothThemes(page, 'server key', 'settings-key');

    // Lock: the console lands on the unlock screen; unlocking returns to the key page.
    await page.getByRole('button', { name: 'Lock now…' }).click();
    await page.getByRole('dialog', { name: 'Lock the server now?' }).getByRole('button', { name: 'Lock now' }).click();
    await page.getByRole('heading', { name: 'The server is locked' }).waitFor();
    expect((await get(`${pika.baseUrl}/api/v1/key/status`)).json()).toEqual({ initialized: true, unlocked: false, server_id: expect.any(String) });
    await expectAccessible(page, 'unlock (locked)');
    await page.getByLabel('Server key').fill('not the key at all');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('ERR_KEY_WRONG');
    await page.getByLabel('Server key').fill(FIRST_KEY);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Server key', level: 1 }).waitFor();
    await page.getByText('On · unlocked').waitFor();

    // Rotate, confirming the new key is saved; then only the new key unlocks.
    await page.getByLabel('Current server key').fill(FIRST_KEY);
    await page.getByLabel('New server key', { exact: true }).fill(SECOND_KEY);
    await page.getByLabel('Repeat the new server key', { exact: true }).fill(SECOND_KEY);
    await page.getByRole('button', { name: 'Rotate…' }).click();
    const rotate = page.getByRole('dialog', { name: 'Did you save the new key?' });
    await rotate.getByLabel('I saved the new server key somewhere safe.').check();
    await rotate.getByRole('button', { name: 'Rotate the key' }).click();
    await toast(page, 'The server key was rotated.');
    expect(await page.getByLabel('Current server key').inputValue()).toBe('');
    expect((await admin.request('POST', '/api/v1/key/lock')).status).toBe(200);
    expect((await admin.request('POST', '/api/v1/key/unlock', { key: FIRST_KEY })).status).toBe(403);
    expect((await admin.request('POST', '/api/v1/key/unlock', { key: SECOND_KEY })).status).toBe(200);
  });

  it('shows prominently that the unlock file did not work', async () => {
    const dataDir = makeTempDir();
    const first = await startPika({ dataDir });
    const admin = await register(first.baseUrl);
    expect((await admin.request('POST', '/api/v1/key/initialize', { key: FIRST_KEY })).status).toBe(200);
    await first.stop();
    const file = join(makeTempDir(), 'unlock-key');
    writeFileSync(file, 'a wrong key in the file\n');
    const pika = await startPika({ dataDir, env: { PIKA_ENCRYPTION_PASSWORD_FILE: file } });
    const page = await open();
    // Locked: the console opens on the unlock screen, which says why and offers to sign in first.
    await page.goto(`${pika.baseUrl}/`);
    await page.getByRole('heading', { name: 'The server is locked' }).waitFor();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('Automatic unlock failed');
    await expectAccessible(page, 'unlock with the config warning');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'The server is locked' }).waitFor();
    await page.getByLabel('Server key').fill(FIRST_KEY);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByRole('heading', { name: 'Authentication', exact: true }).waitFor();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('The configured password file did not unlock the server.');
    await expectAccessible(page, 'authentication with the config warning');
  });

  it('downloads backups with and without a password, restores one in merge mode, and filters the audit log (under /pika)', async () => {
    const pika = await startPika({ env: { PIKA_SERVER_BASE_PATH: '/pika' } });
    const admin = await register(pika.baseUrl);
    expect((await admin.request('POST', '/api/v1/users', BOB)).status).toBe(201);
    expect((await tryLogin(pika.baseUrl, BOB)).status).toBe(200);
    await admin.save('team/app', { format: 'json', content: '{"greeting":"hello"}' });
    const page = await open();
    await signIn(page, pika.baseUrl);
    await openSettings(page, 'Backup and restore', 'Backup and restore');
    await expectAccessible(page, 'backup');

    const plain = await downloadBytes(page, () => page.getByRole('button', { name: 'Download backup' }).click());
    expect(plain.bytes.subarray(0, 8).toString('latin1')).toBe('PIKABAK\0');
    expect(plain.bytes[10]! & 1).toBe(0);
    expect(plain.download.suggestedFilename()).toMatch(/^pika-backup-\d{8}-\d{6}\.pikabak$/);
    await toast(page, /Backup pika-backup-.*downloaded/);

    await page.getByLabel('Archive password (optional)').fill('e2e backup pässword');
    await page.getByLabel('Repeat the archive password').fill('e2e backup pässword');
    const sealed = await downloadBytes(page, () => page.getByRole('button', { name: 'Download backup' }).click());
    expect(sealed.bytes.subarray(0, 8).toString('latin1')).toBe('PIKABAK\0');
    expect(sealed.bytes[10]! & 1).toBe(1);

    // Lose the config, then bring it back by restoring the encrypted archive in merge mode.
    expect((await admin.request('DELETE', '/api/v1/file/team/app')).status).toBe(200);
    expect((await admin.request('GET', '/api/v1/file/team/app')).status).toBe(404);
    await page.getByLabel('Archive (.pikabak)').setInputFiles({ name: sealed.download.suggestedFilename(), mimeType: 'application/octet-stream', buffer: sealed.bytes });
    await page.getByText('encrypted: the password is needed').waitFor();
    await page.getByLabel('Archive password', { exact: true }).fill('e2e backup pässword');
    await expect.poll(() => page.getByRole('radio', { name: 'Merge' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore in merge mode?' });
    await dialog.waitFor();
    await expectAccessible(page, 'restore dialog');
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await toast(page, /Restored \d+ entries \(merge\)\./);
    expect((await admin.request('GET', '/api/v1/file/team/app')).status).toBe(200);

    // The plain archive, inspected in the browser before uploading.
    await page.getByLabel('Archive (.pikabak)').setInputFiles({ name: plain.download.suggestedFilename(), mimeType: 'application/octet-stream', buffer: plain.bytes });
    await page.getByText('not encrypted').waitFor();
    await checkBothThemes(page, 'backup', 'settings-backup');

    // The audit log: by actor, then by actor and action; filters live in the URL.
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    const table = page.getByRole('table', { name: 'Audit log entries, newest first' });
    await table.waitFor();
    await expectAccessible(page, 'audit');
    await page.getByLabel('Actor').fill(BOB.username);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.url()).toContain(`actor=${BOB.username}`);
    await expect.poll(async () => columnOf(table, 2)).toEqual([BOB.username]);
    expect(await columnOf(table, 1)).toContain('login.success');

    await page.getByLabel('Actor').fill('admin');
    await page.getByLabel('Action contains').fill('/api/v1/backup');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(async () => columnOf(table, 2)).toEqual(['admin']);
    const actions = await columnOf(table, 1, false);
    expect(actions).toContain('GET /api/v1/backup');
    expect(actions).toContain('POST /api/v1/backup');
    expect(actions.every((a) => a.includes('/api/v1/backup'))).toBe(true);
    await checkBothThemes(page, 'audit', 'audit');

    // Clicking an action filters by it.
    await table.getByRole('button', { name: 'POST /api/v1/backup' }).first().click();
    await expect.poll(async () => columnOf(table, 1)).toEqual(['POST /api/v1/backup']);
  });
});

/** The distinct (or all) texts of one column's buttons/cells, without the actor type suffix. */
async function columnOf(table: ReturnType<Page['getByRole']>, index: number, distinct = true): Promise<string[]> {
  const texts = await table.locator(`tbody tr td:nth-child(${index + 1}) button`).allTextContents();
  const clean = texts.map((t) => t.trim());
  return distinct ? [...new Set(clean)] : clean;
}
