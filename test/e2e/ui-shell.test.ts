/**
 * The console shell in a real browser (issue 6): first run, sign-in, the lock screen, base path,
 * accessibility of each screen, and screenshots for people to look at.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Browser, describeViolations, openBrowser, screenshot, seriousViolations } from './support/browser.ts';
import { login } from './support/http.ts';
import { startPika, stopAllPika } from './support/server-process.ts';

let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await stopAllPika();
});

async function expectAccessible(label: string): Promise<void> {
  const violations = await seriousViolations(browser!.page);
  expect(violations, `${label}:\n${describeViolations(violations)}`).toEqual([]);
}

describe('console shell', () => {
  for (const basePath of ['', '/pika']) {
    it(`runs first-run setup, signs in and out, and shows the unlock screen when locked${basePath ? ` (under ${basePath})` : ''}`, async () => {
      const pika = await startPika({ env: basePath ? { PIKA_SERVER_BASE_PATH: basePath } : {} });
      browser = await openBrowser();
      const { page } = browser;
      await page.goto(`${pika.baseUrl}/`);
      await page.getByRole('heading', { name: 'Welcome to pika' }).waitFor();
      await expectAccessible('setup');
      if (!basePath) await screenshot(page, 'setup');
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password (at least 8 characters)').fill('e2e-Admin-passphrase-7f3c');
      await page.getByLabel('Repeat the password').fill('e2e-Admin-passphrase-7f3c');
      await page.getByRole('button', { name: 'Create administrator' }).click();
      await page.getByRole('heading', { name: 'Configurations' }).waitFor();
      await expect.poll(() => page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(true);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to pika' }).waitFor();
      await expectAccessible('login');
      if (!basePath) await screenshot(page, 'login');
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill('wrong password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('ERR_INVALID_CREDENTIALS');
      await page.getByLabel('Password').fill('e2e-Admin-passphrase-7f3c');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Configurations' }).waitFor();

      // Lock the server behind the page's back: the next request must land on the unlock screen.
      const session = await login(pika.baseUrl);
      expect((await session.request('POST', '/api/v1/key/initialize', { key: 'e2e server key for the shell' })).status).toBe(200);
      expect((await session.request('POST', '/api/v1/key/lock')).status).toBe(200);
      await page.reload();
      await page.getByRole('heading', { name: 'The server is locked' }).waitFor();
      await expectAccessible('unlock');
      if (!basePath) await screenshot(page, 'unlock');
      await page.getByLabel('Server key').fill('e2e server key for the shell');
      await page.getByRole('button', { name: 'Unlock' }).click();
      await page.getByRole('heading', { name: 'Configurations' }).waitFor();
    });
  }
});
