/**
 * The configurations area of the console in a real browser (issue 6, point 2): tree, dialogs,
 * the CodeMirror editor with live validation, Ctrl+S, versions and constraints, variants,
 * inheritance with the live preview, the copy-ready curl checked against /data, the 409 dialog,
 * deep links, keyboard use of the tree, and the same at a base path. axe on every state and
 * screenshots (both themes) in test-results/ui/.
 */
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Browser, describeViolations, openBrowser, screenshot, seriousViolations } from './support/browser.ts';
import { ADMIN, getData, register, type Session } from './support/http.ts';
import { startPika, stopAllPika } from './support/server-process.ts';

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

async function signIn(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByRole('heading', { name: 'Sign in to pika' }).waitFor();
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Configurations', exact: true }).waitFor();
}

const editor = (page: Page) => page.locator('.cm-content');
const validation = (page: Page) => page.getByTestId('validation');
const tree = (page: Page) => page.getByRole('tree', { name: 'Configs', exact: true });
const tab = (page: Page, name: string) => page.getByRole('tab', { name, exact: true }).click();

/** Screenshots without the transient toasts in front. */
async function shot(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Dismiss' }).evaluateAll((buttons) => { for (const b of buttons) (b as unknown as { click(): void }).click(); });
  await screenshot(page, name);
}

/** Replaces the editor's text as one input (no auto-indent or bracket closing in between). */
async function setContent(page: Page, text: string): Promise<void> {
  await editor(page).click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.insertText(text);
}

async function editorText(page: Page): Promise<string> {
  return (await editor(page).locator('.cm-line').allInnerTexts()).join('\n').replace(/\u200b/g, '').replace(/\s+$/, '');
}

async function saveWithKeyboard(page: Page, version: number): Promise<void> {
  await page.keyboard.press('ControlOrMeta+s');
  await page.getByText(`Saved version ${version}`).first().waitFor();
  await expect.poll(() => page.locator('.badge').textContent()).toBe(`v${version}`);
}

async function createConfig(page: Page, path: string, format: string): Promise<void> {
  await page.getByRole('button', { name: 'New config' }).click();
  const dialog = page.getByRole('dialog', { name: 'New config' });
  await dialog.getByLabel('Path').fill(path);
  await dialog.getByLabel('Format').selectOption(format);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('heading', { name: path }).waitFor();
  await editor(page).waitFor();
}

/** Runs the page's curl command with fetch: the URL it names and the header, with a real token. */
async function runCurl(page: Page, token: string): Promise<{ url: string; status: number; body: string }> {
  const command = (await page.getByTestId('curl').textContent()) ?? '';
  const match = /^curl -H "Authorization: Bearer \$PIKA_TOKEN" '([^']+)'$/.exec(command.trim());
  expect(match, command).not.toBeNull();
  const url = match![1]!;
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { url, status: res.status, body: await res.text() };
}

describe('configurations console', () => {
  it('creates, edits, validates, saves, versions, variants, inherits, previews, copies curl and resolves a 409', async () => {
    const pika = await startPika();
    const api: Session = await register(pika.baseUrl);
    await api.save('shared/base', { format: 'json', content: '{"db":{"host":"h","port":5432},"name":"base"}' });
    await api.save('shared/tls', { format: 'yaml', content: 'ca: pem\n' });
    const token = await api.createToken('ui-configs');
    const page = await open();
    await signIn(page, pika.baseUrl);

    // The tree: folders load as they open; arrow keys and Enter work.
    await tree(page).getByRole('treeitem', { name: 'shared/' }).waitFor();
    await tree(page).getByRole('treeitem', { name: 'shared/' }).click();
    await tree(page).getByRole('treeitem', { name: 'base' }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'shared/base' }).waitFor();
    expect(page.url()).toMatch(/#\/configs\/shared\/base$/);
    await expect.poll(() => editorText(page)).toContain('"name":"base"');
    await page.getByLabel('Filter').fill('tls');
    await expect.poll(() => tree(page).getByRole('treeitem').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))).toEqual(['d:shared', 'f:shared/tls']);
    await page.getByLabel('Filter').fill('');
    await expectAccessible(page, 'tree');
    await shot(page, 'configs-tree');

    // New config dialog: path feedback, then a YAML config (version 1).
    await page.getByRole('button', { name: 'New config' }).click();
    const dialog = page.getByRole('dialog', { name: 'New config' });
    await dialog.getByLabel('Path').fill('myapp/con@fig');
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('reserved for variants');
    await expectAccessible(page, 'new config dialog');
    await shot(page, 'configs-new-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await createConfig(page, 'myapp/config', 'yaml');
    expect(await api.versions('myapp/config')).toEqual([1]);

    // Live validation: bad YAML is marked with its line, fixing it clears the marker, Ctrl+S saves v2.
    await setContent(page, 'db:\n  port: [1, 2\nname: x\n');
    await expect.poll(() => validation(page).textContent(), { timeout: 5000 }).toMatch(/Line \d+, column \d+: YAML/);
    await page.locator('.cm-lintRange-error').first().waitFor();
    expect(await page.getByRole('button', { name: /^Save/ }).isEnabled()).toBe(true);
    await page.locator('.tree-col .dirty').waitFor();
    await expectAccessible(page, 'editor with a syntax error');
    await setContent(page, 'db:\n  port: 6432\n');
    await expect.poll(() => validation(page).textContent()).toContain('Valid YAML');
    await expect.poll(() => page.locator('.cm-lintRange-error').count()).toBe(0);
    await saveWithKeyboard(page, 2);
    expect((await api.fileBytes('myapp/config', 2)).toString()).toBe('db:\n  port: 6432\n');
    await expect.poll(() => page.getByText('● Unsaved changes').count()).toBe(0);
    await expectAccessible(page, 'editor');
    await shot(page, 'configs-editor');

    // A version with a constraint (set before saving), another constraint edited afterwards.
    await page.getByLabel('App version constraint for the next save').fill('>= 1.0.0');
    await setContent(page, 'db:\n  port: 7000\n');
    await saveWithKeyboard(page, 3);
    await tab(page, 'Versions');
    const v2 = page.getByRole('listitem', { name: 'Version 2' });
    await v2.getByLabel('Constraint of v2').fill('^0.9.0');
    await v2.getByRole('button', { name: 'Set' }).click();
    await page.getByText('Version 2 now targets ^0.9.0').waitFor();
    const history = (await api.request('GET', '/api/v1/versions/myapp/config')).json<{ version: number; constraint: string }[]>();
    expect(history.map((v) => [v.version, v.constraint])).toEqual([[1, ''], [2, '^0.9.0'], [3, '>= 1.0.0']]);
    expect((await getData(pika.baseUrl, token, 'myapp/config', { query: 'version=0.9.5' })).text()).toBe('db:\n  port: 6432\n');
    // Load an old version read-only, then delete version 1.
    await page.getByRole('listitem', { name: 'Version 1' }).getByRole('button', { name: 'View' }).click();
    await page.getByText('Viewing version 1 (read-only).').waitFor();
    await expect.poll(() => editorText(page)).toBe('{}');
    await expectAccessible(page, 'versions');
    await shot(page, 'configs-versions');
    await page.getByRole('button', { name: 'Back to the draft' }).click();
    await expect.poll(() => editorText(page)).toContain('port: 7000');
    await page.getByRole('listitem', { name: 'Version 1' }).getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('dialog', { name: 'Delete version 1?' }).getByRole('button', { name: 'Delete version' }).click();
    await page.getByText('Deleted version 1').waitFor();
    const afterDelete = (await api.request('GET', '/api/v1/versions/myapp/config')).json<{ version: number; deleted: boolean }[]>();
    expect(afterDelete.find((v) => v.version === 1)?.deleted).toBe(true);

    // A variant that inherits the base; switch to it and back.
    await tab(page, 'Details');
    await page.getByLabel('New variant name').fill('prod');
    await page.getByRole('button', { name: 'Add variant' }).click();
    await page.getByText('Created variant prod').waitFor();
    await expect.poll(() => page.url()).toMatch(/#\/configs\/myapp\/config\?variant=prod$/);
    await tree(page).getByRole('treeitem', { name: '@prod' }).waitFor();
    await setContent(page, 'db:\n  host: prod-db\n');
    await saveWithKeyboard(page, 2);
    expect((await getData(pika.baseUrl, token, 'myapp/config', { query: 'variant=prod' })).text()).toBe('db:\n  port: 7000\n  host: prod-db\n');
    await page.getByRole('link', { name: 'myapp/config (base)' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/configs\/myapp\/config$/);

    // Inheritance through the file picker; the preview follows the draft before it is saved.
    await tab(page, 'Preview');
    await expect.poll(() => page.getByTestId('preview').textContent()).toBe('db:\n  port: 7000\n');
    await tab(page, 'Inheritance');
    await page.getByRole('button', { name: 'Add source' }).click();
    await page.getByRole('button', { name: 'Browse…' }).click();
    const picker = page.getByRole('dialog', { name: 'Choose a config to inherit' });
    await picker.getByRole('treeitem', { name: 'shared/' }).click();
    await picker.getByRole('treeitem', { name: 'base' }).click();
    await picker.waitFor({ state: 'hidden' });
    expect(await page.getByLabel('Source (path or path@variant)').inputValue()).toBe('shared/base');
    await page.getByLabel('Paths to keep (comma-separated, optional)').fill('db');
    await expectAccessible(page, 'inheritance');
    await shot(page, 'configs-inheritance');
    await tab(page, 'Preview');
    await expect.poll(() => page.getByTestId('preview').textContent()).toBe('db:\n  host: h\n  port: 7000\n');
    await expect.poll(() => page.getByText('Built from shared/base').count()).toBe(1);
    await setContent(page, 'db:\n  port: 7001\nextra: true\n');
    await expect.poll(() => page.getByTestId('preview').textContent()).toBe('db:\n  host: h\n  port: 7001\nextra: true\n');
    await expectAccessible(page, 'preview');
    await shot(page, 'configs-preview');
    await saveWithKeyboard(page, 4);

    // The curl snippet, run with a real token, returns what /data returns.
    await page.getByLabel('Show as').selectOption('json');
    await page.getByLabel('Version (number, app version, or empty for latest)').fill('4');
    const curl = await runCurl(page, token);
    expect(curl.url).toBe(`${pika.baseUrl}/data/myapp/config?version=4&format=json`);
    expect(curl.status).toBe(200);
    expect(curl.body).toBe((await getData(pika.baseUrl, token, 'myapp/config', { query: 'version=4&format=json' })).text());
    expect(JSON.parse(curl.body)).toEqual({ db: { host: 'h', port: 7001 }, extra: true });

    // 409: someone saves behind the page's back; keep mine overwrites on top of theirs.
    await setContent(page, 'db:\n  port: 8000\n');
    await api.save('myapp/config', { format: 'yaml', content: 'theirs: 1\n', expectedVersion: 4 });
    await page.keyboard.press('ControlOrMeta+s');
    const conflict = page.getByRole('dialog', { name: 'Someone saved this config first' });
    await conflict.waitFor();
    await conflict.getByText('Show their version 5').click();
    await expect.poll(() => conflict.getByLabel('Their version').textContent()).toBe('theirs: 1\n');
    await expectAccessible(page, 'conflict dialog');
    await shot(page, 'configs-conflict');
    await conflict.getByRole('button', { name: 'Keep mine (overwrite)' }).click();
    await page.getByText('Saved version 6').waitFor();
    expect((await api.fileBytes('myapp/config', 6)).toString()).toBe('db:\n  port: 8000\n');
    // …and reload theirs replaces the draft.
    await setContent(page, 'db:\n  port: 9000\n');
    await api.save('myapp/config', { format: 'yaml', content: 'theirs: 2\n', expectedVersion: 6 });
    await page.getByRole('button', { name: /^Save/ }).click();
    await conflict.getByRole('button', { name: 'Reload theirs' }).click();
    await conflict.waitFor({ state: 'hidden' });
    await expect.poll(() => editorText(page)).toBe('theirs: 2');
    await expect.poll(() => page.locator('.badge').textContent()).toBe('v7');
    await expect.poll(() => page.getByText('● Unsaved changes').count()).toBe(0);

    // Leaving a dirty draft asks first; Discard goes back to the saved version.
    await setContent(page, 'dirty: true\n');
    await tree(page).getByRole('treeitem', { name: 'base', exact: true }).click();
    const leave = page.getByRole('dialog', { name: 'Discard unsaved changes?' });
    await leave.getByRole('button', { name: 'Cancel' }).click();
    await leave.waitFor({ state: 'hidden' });
    expect(page.url()).toMatch(/#\/configs\/myapp\/config$/);
    expect(await editorText(page)).toBe('dirty: true');
    await page.getByRole('button', { name: 'Discard', exact: true }).click();
    await expect.poll(() => editorText(page)).toBe('theirs: 2');

    // Format conversion goes through the server.
    await tab(page, 'Details');
    await page.getByLabel('Format', { exact: true }).selectOption('json');
    await expect.poll(() => editorText(page)).toBe('{\n  "theirs": 2\n}');
    await saveWithKeyboard(page, 8);
    expect((await api.request('GET', '/api/v1/file/myapp/config')).json<{ meta: { format: string } }>().meta.format).toBe('json');

    // Deep link to a variant restores it; dark theme screenshots.
    await page.goto(`${pika.baseUrl}/#/configs/myapp/config?variant=prod`);
    await page.reload();
    await page.getByRole('heading', { name: 'myapp/config@prod' }).waitFor();
    await expect.poll(() => tree(page).getByRole('treeitem', { name: '@prod' }).getAttribute('aria-current')).toBe('page');
    await page.getByLabel('Theme').selectOption('dark');
    await expect.poll(() => editorText(page)).toContain('prod-db');
    await expectAccessible(page, 'editor (dark)');
    await shot(page, 'configs-editor-dark');
    await tab(page, 'Preview');
    await page.getByTestId('preview').waitFor();
    await expectAccessible(page, 'preview (dark)');
    await shot(page, 'configs-preview-dark');
    await tab(page, 'Versions');
    await page.getByRole('listitem', { name: 'Version 1' }).waitFor();
    await expectAccessible(page, 'versions (dark)');
    await shot(page, 'configs-versions-dark');

    // Delete from the tree with the keyboard, after a confirmation.
    await tree(page).getByRole('treeitem', { name: '@prod' }).focus();
    await page.keyboard.press('Delete');
    const confirm = page.getByRole('dialog', { name: 'Delete myapp/config@prod?' });
    await expectAccessible(page, 'delete confirmation (dark)');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted variant prod of myapp/config').waitFor();
    await expect.poll(() => page.url()).toMatch(/#\/configs\/myapp\/config$/);
    expect((await getData(pika.baseUrl, token, 'myapp/config', { query: 'variant=prod' })).status).toBe(404);
  });

  it('works under a base path: create, edit, save, curl matches /data', async () => {
    const pika = await startPika({ env: { PIKA_SERVER_BASE_PATH: '/pika' } });
    const api = await register(pika.baseUrl);
    const token = await api.createToken('ui-configs-base-path');
    const page = await open({ colorScheme: 'dark' });
    await signIn(page, pika.baseUrl);
    await page.getByText('0 folders, 0 configs.').waitFor();
    await expectAccessible(page, 'empty tree (dark)');

    await page.getByRole('button', { name: 'New folder' }).click();
    const folderDialog = page.getByRole('dialog', { name: 'New folder' });
    await folderDialog.getByLabel('Path').fill('team/apps');
    await folderDialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'team/apps/' }).waitFor();
    await createConfig(page, 'team/apps/web', 'toml');
    await setContent(page, 'name = "web"\nport = = 1\n');
    await expect.poll(() => validation(page).textContent(), { timeout: 5000 }).toMatch(/Line 2, column \d+: TOML/);
    await setContent(page, 'name = "web"\n[db]\nport = 5432\n');
    await expect.poll(() => validation(page).textContent()).toContain('Valid TOML');
    await saveWithKeyboard(page, 2);
    await tab(page, 'Preview');
    await expect.poll(() => page.getByTestId('preview').textContent()).toBe('name = "web"\n[db]\nport = 5432\n');
    await page.getByLabel('Show as').selectOption('yaml');
    const curl = await runCurl(page, token);
    expect(curl.url).toBe(`${pika.origin}/pika/data/team/apps/web?format=yaml`);
    expect(curl.status).toBe(200);
    expect(curl.body).toBe((await getData(pika.baseUrl, token, 'team/apps/web', { query: 'format=yaml' })).text());
    expect(curl.body).toBe('name: web\ndb:\n  port: 5432\n');
    await expectAccessible(page, 'preview under /pika (dark)');
  });
});
