import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type InteractionDetails } from 'oidc-provider';

/**
 * A real OpenID provider (panva's `oidc-provider`, OpenID-certified) on a free loopback port, for
 * the OAuth2 sign-in tests (reference/test-services.md §5): a login form that checks passwords
 * (`#login`, `#password`, `#submit`), automatic consent, PKCE required per client, revocation
 * and introspection on. It counts revocation requests and remembers issued access tokens so a
 * test can prove pika revoked them.
 */
export interface TestAccount {
  readonly password: string;
  readonly sub: string;
  readonly email?: string;
  readonly email_verified?: boolean;
  readonly preferred_username?: string;
  readonly name?: string;
  /** The name the ID token carries, different from userinfo's so a test can tell the sources apart. */
  readonly id_token_name?: string;
  readonly groups?: readonly string[];
  readonly resource_access?: Readonly<Record<string, { roles: string[] | string }>>;
}

/** alice: verified email, preferred_username, groups and Keycloak-style client roles; bob: unverified email only; carol: a bare subject. */
export const TEST_ACCOUNTS: Readonly<Record<string, TestAccount>> = {
  alice: {
    password: 'alice-pass',
    sub: 'sub-alice',
    email: 'alice@example.test',
    email_verified: true,
    preferred_username: 'alice',
    name: 'Alice Liddell',
    id_token_name: 'Alice (ID token)',
    groups: ['admins', 'readers'],
    resource_access: { pika: { roles: ['editor', 'viewer'] }, account: { roles: 'manage-account' } },
  },
  bob: { password: 'bob-pass', sub: 'sub-bob', email: 'bob.smith@example.test', email_verified: false, name: 'Bob Smith', groups: ['readers'] },
  carol: { password: 'carol-pass', sub: 'sub-carol' },
};

export interface TestClient {
  readonly client_id: string;
  /** Absent: a public client (token endpoint auth `none`). */
  readonly client_secret?: string;
  readonly redirect_uris: readonly string[];
  /** Whether the IdP insists on PKCE for this client (default true). */
  readonly pkce?: boolean;
  readonly token_auth_method?: 'client_secret_basic' | 'client_secret_post';
}

export interface TestIdpOptions {
  readonly clients: readonly TestClient[];
  readonly accounts?: Readonly<Record<string, TestAccount>>;
  /** Serve a userinfo endpoint (default true); off, claims come from the ID token only. */
  readonly userinfo?: boolean;
}

export interface TestIdp {
  readonly issuer: string;
  /** Access tokens the token endpoint issued, oldest first. */
  readonly issuedAccessTokens: readonly string[];
  /** How each token request authenticated the client, oldest first. */
  readonly tokenAuthMethods: readonly ('basic' | 'post' | 'none')[];
  /** Revocation requests answered so far. */
  readonly revocations: number;
  /** Resolves once `count` revocation requests have been answered (event-driven, no polling). */
  waitForRevocations(count: number): Promise<void>;
  /** Whether the IdP still knows this access token (what introspection reports as `active`). */
  isActive(accessToken: string): Promise<boolean>;
  close(): Promise<void>;
}

let signingKey: JsonWebKey | undefined;

export async function startTestIdp(options: TestIdpOptions): Promise<TestIdp> {
  const accounts = options.accounts ?? TEST_ACCOUNTS;
  const bySub = new Map(Object.values(accounts).map((a) => [a.sub, a]));
  // RSA key generation is the slow part of a start: one key per test process is plenty.
  signingKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  // The issuer names the port, so the server listens before the provider exists.
  const route: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const server = createServer((req, res) => route.handler?.(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const pkce = new Set(options.clients.filter((c) => c.pkce !== false).map((c) => c.client_id));
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.client_id,
      ...(c.client_secret === undefined ? { token_endpoint_auth_method: 'none' } : { client_secret: c.client_secret, token_endpoint_auth_method: c.token_auth_method ?? 'client_secret_basic' }),
      redirect_uris: [...c.redirect_uris],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })),
    jwks: { keys: [{ ...signingKey, kid: 'k1', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: ['test-cookie-secret'] },
    pkce: { required: (_ctx: unknown, client: { clientId: string }) => pkce.has(client.clientId) },
    // Claims go into the ID token too (as Keycloak and Google do), not only to userinfo.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true, allowedPolicy: () => true },
      userinfo: { enabled: options.userinfo ?? true },
    },
    // Explicit lifetimes (seconds) keep oidc-provider from printing a notice per default.
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups', 'resource_access'] },
    findAccount: (_ctx: unknown, sub: string) => {
      const account = bySub.get(sub);
      return account && { accountId: sub, claims: (use: string) => claimsOf(account, use) };
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  });

  const issued: string[] = [];
  const tokenAuthMethods: ('basic' | 'post' | 'none')[] = [];
  let revocations = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  provider.use(async (ctx, next) => {
    const basic = ctx.headers.authorization?.startsWith('Basic ') === true;
    await next();
    const body = ctx.body as { access_token?: unknown } | undefined;
    if (ctx.path === '/token' && ctx.method === 'POST') tokenAuthMethods.push(basic ? 'basic' : ctx.oidc?.params?.client_secret === undefined ? 'none' : 'post');
    if (ctx.path === '/token' && ctx.status === 200 && typeof body?.access_token === 'string') issued.push(body.access_token);
    if (ctx.path === '/token/revocation' && ctx.method === 'POST') {
      revocations++;
      for (const waiter of waiters.filter((w) => w.count <= revocations)) waiter.resolve();
    }
  });
  const callback = provider.callback();
  route.handler = (req, res) => {
    interact(provider, accounts, req, res, callback).catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  };

  return {
    issuer,
    issuedAccessTokens: issued,
    tokenAuthMethods,
    get revocations() {
      return revocations;
    },
    waitForRevocations: (count) => (revocations >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve }))),
    isActive: async (token) => (await provider.AccessToken.find(token)) !== undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => { resolve(); });
      }),
  };
}

function claimsOf(account: TestAccount, use: string): Record<string, unknown> {
  return {
    sub: account.sub,
    name: use === 'id_token' ? (account.id_token_name ?? account.name) : account.name,
    preferred_username: account.preferred_username,
    email: account.email,
    email_verified: account.email === undefined ? undefined : (account.email_verified ?? false),
    groups: account.groups,
    resource_access: account.resource_access,
  };
}

/** The IdP's own pages: a password-checking sign-in form and automatic consent; everything else is oidc-provider. */
async function interact(provider: Provider, accounts: Readonly<Record<string, TestAccount>>, req: IncomingMessage, res: ServerResponse, next: (req: IncomingMessage, res: ServerResponse) => void): Promise<void> {
  const match = /^\/interaction\/([^/?]+)(\/login)?/.exec(req.url ?? '');
  if (!match) {
    next(req, res);
    return;
  }
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    if (req.method === 'POST' && match[2] !== undefined) {
      const form = await readForm(req);
      const login = form.get('login') ?? '';
      const account = Object.hasOwn(accounts, login) ? accounts[login] : undefined;
      if (!account || account.password !== form.get('password')) {
        res.writeHead(401, { 'content-type': 'text/html' }).end(page('Sign-in', '<p id="error">Invalid credentials</p>'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
      return;
    }
    const form = `<form method="post" action="/interaction/${details.uid}/login"><input name="login" id="login"><input name="password" id="password" type="password"><button id="submit" type="submit">Sign in</button></form>`;
    res.writeHead(200, { 'content-type': 'text/html' }).end(page('Sign-in', form));
    return;
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grantConsent(provider, details) } }, { mergeWithLastSubmission: true });
}

async function grantConsent(provider: Provider, details: InteractionDetails): Promise<string> {
  const grant = (details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId: details.session?.accountId, clientId: details.params.client_id });
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  return grant.save();
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}
