import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { OAuthProviderSettings } from '../settings/auth-section.ts';
import { checkProviderUrl, providerError } from './url-policy.ts';

/** An openid-client configuration for one provider, and what kind of provider it is. */
export interface ProviderClient {
  readonly config: client.Configuration;
  /**
   * OIDC: the issuer is known (discovery), so ID tokens are validated and a nonce is sent.
   * Plain OAuth2 (explicit URLs, no issuer): identity comes from userinfo only.
   */
  readonly oidc: boolean;
  readonly userinfoEndpoint: string | undefined;
  readonly revocationEndpoint: string | undefined;
}

export type ProviderClients = ReturnType<typeof createProviderClients>;

const DISCOVERY_TTL_MS = 60 * 60_000;
const TIMEOUT_SECONDS = 10;

/**
 * Builds and caches the openid-client configuration per provider. The cache key is a fingerprint
 * of the provider's whole settings (secret included, hashed), so a settings change takes effect
 * on the next sign-in without a restart; discovered metadata is refreshed hourly. Failures are
 * not cached: a provider that was down is retried on the next attempt.
 */
export function createProviderClients(deps: { readonly clock: () => number }) {
  const cache = new Map<string, { fingerprint: string; expiresAt: number; client: Promise<ProviderClient> }>();

  function clientFor(provider: OAuthProviderSettings): Promise<ProviderClient> {
    const fingerprint = createHash('sha256').update(JSON.stringify(provider)).digest('hex');
    const hit = cache.get(provider.name);
    if (hit?.fingerprint === fingerprint && hit.expiresAt > deps.clock()) return hit.client;
    const entry = { fingerprint, expiresAt: deps.clock() + DISCOVERY_TTL_MS, client: build(provider) };
    cache.set(provider.name, entry);
    entry.client.catch(() => {
      if (cache.get(provider.name) === entry) cache.delete(provider.name);
    });
    return entry.client;
  }

  /** Forgets providers that are no longer configured (called with the current names). */
  function retain(names: readonly string[]): void {
    for (const name of cache.keys()) if (!names.includes(name)) cache.delete(name);
  }

  return { clientFor, retain };
}

async function build(provider: OAuthProviderSettings): Promise<ProviderClient> {
  const auth = clientAuth(provider);
  if (provider.issuer_url !== undefined) return discover(provider, provider.issuer_url, auth);
  if (provider.auth_url === undefined || provider.token_url === undefined) {
    throw providerError(`provider "${provider.name}" needs issuer_url (discovery) or both auth_url and token_url`, 'incomplete_settings');
  }
  // Without an issuer no ID token can be validated, so userinfo is the only source of identity.
  if (provider.userinfo_url === undefined) throw providerError(`provider "${provider.name}" has no issuer_url, so it needs userinfo_url to learn who signed in`, 'incomplete_settings');
  checkProviderUrl(provider.auth_url, 'auth_url');
  const metadata: client.ServerMetadata = {
    // Never compared: plain OAuth2 has no issuer to check (see withoutIdToken and the callback).
    issuer: new URL(provider.auth_url).origin,
    authorization_endpoint: provider.auth_url,
    token_endpoint: provider.token_url,
    userinfo_endpoint: provider.userinfo_url,
  };
  const config = new client.Configuration(metadata, provider.client_id, undefined, auth);
  config[client.customFetch] = withoutIdToken(provider.token_url);
  return finish(config, false);
}

async function discover(provider: OAuthProviderSettings, issuerUrl: string, auth: client.ClientAuth): Promise<ProviderClient> {
  const insecure = checkProviderUrl(issuerUrl, 'issuer_url') === 'http';
  let config: client.Configuration;
  try {
    // allowInsecureRequests only for a loopback issuer (url-policy.ts); every discovered URL is
    // checked again in finish(), so a loopback issuer cannot point pika at a remote http host.
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- deprecated only to discourage casual use; scoped to loopback
    config = await client.discovery(new URL(issuerUrl), provider.client_id, undefined, auth, { execute: insecure ? [client.allowInsecureRequests] : [], timeout: TIMEOUT_SECONDS });
  } catch (err) {
    throw providerError(`discovery of ${issuerUrl} failed: ${err instanceof Error ? err.message : String(err)}`, 'discovery_failed');
  }
  const overrides = {
    ...(provider.auth_url === undefined ? {} : { authorization_endpoint: provider.auth_url }),
    ...(provider.token_url === undefined ? {} : { token_endpoint: provider.token_url }),
    ...(provider.userinfo_url === undefined ? {} : { userinfo_endpoint: provider.userinfo_url }),
  };
  // Explicit URLs next to issuer_url replace the discovered ones (an IdP behind a rewriting proxy).
  if (Object.keys(overrides).length > 0) {
    // serverMetadata() mixes helper functions into the metadata; a Configuration takes only data.
    const discovered = Object.fromEntries(Object.entries(config.serverMetadata()).filter(([, value]) => typeof value !== 'function')) as client.ServerMetadata;
    config = new client.Configuration({ ...discovered, ...overrides }, provider.client_id, undefined, auth);
  }
  return finish(config, true);
}

function finish(config: client.Configuration, oidc: boolean): ProviderClient {
  const meta = config.serverMetadata();
  const urls: [string, string | undefined][] = [
    ['authorization_endpoint', meta.authorization_endpoint],
    ['token_endpoint', meta.token_endpoint],
    ['userinfo_endpoint', meta.userinfo_endpoint],
    ['revocation_endpoint', meta.revocation_endpoint],
    ['jwks_uri', meta.jwks_uri],
  ];
  let insecure = false;
  for (const [field, url] of urls) if (url !== undefined && checkProviderUrl(url, field) === 'http') insecure = true;
  if (meta.authorization_endpoint === undefined || meta.token_endpoint === undefined) throw providerError('the provider advertises no authorization or token endpoint', 'incomplete_metadata');
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- see discover(): only when every URL in use is loopback
  if (insecure) client.allowInsecureRequests(config);
  config.timeout = TIMEOUT_SECONDS;
  return { config, oidc, userinfoEndpoint: meta.userinfo_endpoint, revocationEndpoint: meta.revocation_endpoint };
}

/** Token endpoint authentication per `token_auth_method`; a provider without a secret is a public client (PKCE only). */
function clientAuth(provider: OAuthProviderSettings): client.ClientAuth {
  // The schema types secrets loosely (they are sealed objects at rest); revealed, they are strings.
  const secret: unknown = provider.client_secret;
  if (typeof secret !== 'string' || secret === '') return client.None();
  return provider.token_auth_method === 'post' ? client.ClientSecretPost(secret) : client.ClientSecretBasic(secret);
}

/**
 * Plain OAuth2 providers have no known issuer, so an ID token they add to the token response
 * cannot be validated (its `iss` is unverifiable) — and openid-client would reject it. It is
 * dropped before openid-client sees it; identity then comes from userinfo.
 */
function withoutIdToken(tokenEndpoint: string): client.CustomFetch {
  const target = new URL(tokenEndpoint);
  return async (url, options) => {
    const response = await fetch(url, options);
    const called = new URL(url);
    if (!response.ok || called.origin !== target.origin || called.pathname !== target.pathname) return response;
    const body = (await response.json()) as Record<string, unknown>;
    delete body.id_token;
    return new Response(JSON.stringify(body), { status: response.status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
  };
}
