import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from './support/http.ts';
import { type PikaProcess, REPO_ROOT, startPika, stopAllPika } from './support/server-process.ts';

/**
 * OIDC sign-in as a person does it: the built pika as a process, a real OpenID provider
 * (oidc-provider, in a child process) and Debian's Chromium driven by playwright-core
 * (reference/test-services.md §5, §9). The provider is configured through the settings API.
 */

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CLIENT = { client_id: 'pika-e2e', client_secret: 'e2e-client-secret' };

let pika: PikaProcess;
let idp: { issuer: string; child: ChildProcess };
const profiles: string[] = [];
const contexts: BrowserContext[] = [];

/** Starts the test IdP process and resolves with its issuer once it prints it (no polling). */
function startIdp(redirectUri: string): Promise<{ issuer: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/server/test-support/oidc-provider-main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, OIDC_TEST_CLIENTS: JSON.stringify([{ ...CLIENT, redirect_uris: [redirectUri] }]) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (const line of buffered.split('\n')) {
        if (!line.startsWith('{"issuer"')) continue;
        resolve({ issuer: (JSON.parse(line) as { issuer: string }).issuer, child });
      }
    });
    child.once('exit', (code) => { reject(new Error(`the test IdP exited (${code}) before it was ready:\n${stderr}`)); });
  });
}

async function browser(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'pika-chromium-'));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  contexts.push(context);
  return context;
}

beforeAll(async () => {
  pika = await startPika();
  const admin = await register(pika.baseUrl);
  idp = await startIdp(`${pika.baseUrl}/login/callback/idp`);
  const provider = { name: 'idp', display_name: 'Test IdP', ...CLIENT, issuer_url: idp.issuer, scopes: ['openid', 'profile', 'email', 'groups'], auto_create_user: true, roles_claims: ['groups'] };
  const res = await admin.request('POST', '/api/v1/settings', { auth: { oauth2: [provider] } });
  expect(res.status, res.text()).toBe(200);
});

afterAll(async () => {
  for (const context of contexts) await context.close();
  for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
  if (idp.child.exitCode === null) {
    const exited = new Promise((resolve) => idp.child.once('exit', resolve));
    idp.child.kill('SIGTERM');
    await exited;
  }
  await stopAllPika();
});

describe('OIDC sign-in in Chromium', () => {
  it('clicks through the IdP login and lands on pika signed in', async () => {
    const context = await browser();
    const page = await context.newPage();
    await page.goto(`${pika.baseUrl}/login/oauth2/idp?return_to=/api/v1/info`);
    await page.waitForSelector('#login');
    expect(new URL(page.url()).origin).toBe(idp.issuer);
    await page.fill('#login', 'alice');
    await page.fill('#password', 'alice-pass');
    await Promise.all([page.waitForURL((url) => url.origin === pika.origin && url.pathname === '/api/v1/info'), page.click('#submit')]);

    const me = await page.evaluate(async (base) => {
      const res = await fetch(`${base}/api/v1/me`);
      return { status: res.status, body: (await res.json()) as { user: { username: string; external: boolean; email: string } } };
    }, pika.baseUrl);
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ username: 'alice', external: true, email: 'alice@example.test' });
    const session = (await context.cookies(pika.origin)).find((c) => c.name === 'pika_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(await page.textContent('body')).toContain('"user":"alice"');

    mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'oidc-login.png') });
  });

  it('keeps a wrong password on the IdP page and signs nobody in', async () => {
    const context = await browser();
    const page = await context.newPage();
    await page.goto(`${pika.baseUrl}/login/oauth2/idp`);
    await page.fill('#login', 'alice');
    await page.fill('#password', 'wrong-password');
    await page.click('#submit');
    await page.waitForSelector('#error');
    expect(new URL(page.url()).origin).toBe(idp.issuer);
    expect((await context.cookies(pika.origin)).map((c) => c.name)).not.toContain('pika_session');
  });
});
