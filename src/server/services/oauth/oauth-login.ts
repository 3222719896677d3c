import * as client from 'openid-client';
import { AppError } from '../../../shared/errors.ts';
import type { ExternalIdentity, ExternalLogin } from '../identity/external-login.ts';
import type { UserRecord } from '../identity/identity-records.ts';
import type { OAuthProviderSettings } from '../settings/auth-section.ts';
import type { SettingsService } from '../settings/settings-service.ts';
import type { FlowStore, PendingFlow } from './flow-store.ts';
import { type Claims, identityFromClaims } from './identity-claims.ts';
import { errorToken, loginFailure } from './login-failure.ts';
import type { ProviderClient, ProviderClients } from './provider-clients.ts';
import type { UpstreamTokens } from './upstream-revocation.ts';

export interface OAuthLoginDeps {
  readonly settings: Pick<SettingsService, 'auth'>;
  readonly externalLogin: Pick<ExternalLogin, 'resolveUser'>;
  readonly flows: Pick<FlowStore, 'save' | 'consume'>;
  readonly clients: ProviderClients;
}

/** The query of the callback the IdP sends the browser to. */
export interface CallbackParams {
  readonly code?: string | undefined;
  readonly state?: string | undefined;
  readonly iss?: string | undefined;
  readonly error?: string | undefined;
}

export interface CompletedLogin {
  readonly user: UserRecord;
  readonly how: 'linked' | 'email' | 'created';
  readonly identity: ExternalIdentity;
  readonly returnTo: string;
  readonly tokens: UpstreamTokens;
  readonly client: ProviderClient;
}

export type OAuthLogin = ReturnType<typeof createOAuthLogin>;

const LINK_REASONS: Partial<Record<string, string>> = { ERR_EXTERNAL_NOT_LINKED: 'not_linked', ERR_ACCOUNT_DISABLED: 'account_disabled', ERR_USERNAME_TAKEN: 'username_taken' };

/**
 * The authorization-code flow with openid-client (seed 002, upstream-pika.md §1.2, §8.4):
 * `begin` makes the IdP URL (state, nonce, PKCE S256 unless `disable_pkce`) and remembers the
 * flow; `complete` checks the returning browser, exchanges the code, reads the claims and maps
 * the identity to a pika user fail-closed. Providers are read from the settings on every call,
 * so adding, changing or removing one needs no restart.
 */
export function createOAuthLogin(deps: OAuthLoginDeps) {
  async function provider(name: string): Promise<OAuthProviderSettings> {
    const { oauth2 } = await deps.settings.auth();
    deps.clients.retain(oauth2.map((p) => p.name));
    const found = oauth2.find((p) => p.name === name);
    if (!found) throw new AppError('ERR_ROUTE_NOT_FOUND', `no OAuth2 provider named "${name}"`);
    return found;
  }

  /** The authorization URL to send the browser to. */
  async function begin(name: string, input: { redirectUri: string; returnTo: string; browserCookie: string }): Promise<string> {
    const settings = await provider(name);
    const target = await deps.clients.clientFor(settings);
    const verifier = settings.disable_pkce ? undefined : client.randomPKCECodeVerifier();
    // A nonce only where an ID token will be validated: plain OAuth2 providers have none.
    const nonce = target.oidc && settings.scopes.includes('openid') ? client.randomNonce() : undefined;
    const state = await deps.flows.save({ provider: name, redirect_uri: input.redirectUri, return_to: input.returnTo, code_verifier: verifier, nonce }, input.browserCookie);
    const params: Record<string, string> = { redirect_uri: input.redirectUri, scope: settings.scopes.join(' '), state };
    if (verifier !== undefined) {
      params.code_challenge = await client.calculatePKCECodeChallenge(verifier);
      params.code_challenge_method = 'S256';
    }
    if (nonce !== undefined) params.nonce = nonce;
    return client.buildAuthorizationUrl(target.config, params).href;
  }

  async function complete(name: string, query: CallbackParams, browserCookie: string | undefined): Promise<CompletedLogin> {
    const settings = await provider(name);
    if (query.state === undefined || query.state === '') throw loginFailure('ERR_OAUTH_STATE', 'state_missing');
    const outcome = await deps.flows.consume(query.state, name, browserCookie);
    if (!outcome.ok) throw loginFailure('ERR_OAUTH_STATE', outcome.reason);
    const flow = outcome.flow;
    if (query.error !== undefined) throw loginFailure('ERR_EXTERNAL_LOGIN_FAILED', `idp_error:${errorToken(query.error)}`, `the identity provider refused the sign-in (${errorToken(query.error)})`);
    if (query.code === undefined || query.code === '') throw loginFailure('ERR_EXTERNAL_LOGIN_FAILED', 'code_missing', 'the identity provider sent no authorization code');
    const target = await deps.clients.clientFor(settings);
    const tokens = await exchange(target, flow, { ...query, code: query.code, state: query.state });
    const idToken = tokens.claims() as Claims | undefined;
    const userinfo = target.userinfoEndpoint === undefined ? undefined : await readUserinfo(target, tokens.access_token, idToken);
    const identity = identityFromClaims(name, { idToken, userinfo }, settings.roles_claims);
    if (!identity) throw loginFailure('ERR_EXTERNAL_LOGIN_FAILED', 'no_subject', 'the identity provider did not name the user (no sub or id claim)');
    const upstream = { access_token: tokens.access_token, refresh_token: tokens.refresh_token };
    try {
      const { user, how } = await deps.externalLogin.resolveUser(identity, { autoCreate: settings.auto_create_user, linkByVerifiedEmail: settings.link_by_verified_email });
      return { user, how, identity, returnTo: flow.return_to, tokens: upstream, client: target };
    } catch (err) {
      const reason = err instanceof AppError ? LINK_REASONS[err.code] : undefined;
      if (!(err instanceof AppError) || reason === undefined) throw err;
      throw loginFailure(err.code, reason, err.message, { subject: `${name}:${identity.subject}` });
    }
  }

  return { begin, complete };
}

/**
 * The code for tokens. RFC 9207 `iss` is checked for OIDC providers; plain OAuth2 has no issuer
 * to compare with, and its mix-up protection is the per-provider redirect URI
 * (`/login/callback/<name>`), so the parameter is left out there.
 */
async function exchange(target: ProviderClient, flow: PendingFlow, query: CallbackParams & { code: string; state: string }) {
  const callback = new URL(flow.redirect_uri);
  callback.searchParams.set('code', query.code);
  callback.searchParams.set('state', query.state);
  if (target.oidc && query.iss !== undefined) callback.searchParams.set('iss', query.iss);
  try {
    return await client.authorizationCodeGrant(target.config, callback, {
      pkceCodeVerifier: flow.code_verifier,
      expectedState: query.state,
      expectedNonce: flow.nonce,
      idTokenExpected: flow.nonce !== undefined,
    });
  } catch (err) {
    throw loginFailure('ERR_EXTERNAL_LOGIN_FAILED', 'exchange_failed', `the code exchange failed: ${describe(err)}`);
  }
}

/**
 * Userinfo claims. With an ID token, openid-client's fetchUserInfo checks that userinfo speaks of
 * the same `sub`. Without one (plain OAuth2), the response is read as it is — GitHub-style APIs
 * answer with `id` rather than `sub`, which fetchUserInfo would reject.
 */
async function readUserinfo(target: ProviderClient, accessToken: string, idToken: Claims | undefined): Promise<Claims> {
  try {
    if (typeof idToken?.sub === 'string') return await client.fetchUserInfo(target.config, accessToken, idToken.sub);
    const response = await client.fetchProtectedResource(target.config, accessToken, new URL(target.userinfoEndpoint ?? ''), 'GET', undefined, new Headers({ accept: 'application/json' }));
    if (!response.ok) throw new Error(`userinfo answered HTTP ${response.status}`);
    const body: unknown = await response.json();
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('userinfo did not answer with a JSON object');
    return body as Claims;
  } catch (err) {
    throw loginFailure('ERR_EXTERNAL_LOGIN_FAILED', 'userinfo_failed', `reading userinfo failed: ${describe(err)}`);
  }
}

/** An openid-client failure in words, with the IdP's OAuth2 error code when it sent one. */
function describe(err: unknown): string {
  if (err instanceof client.ResponseBodyError) return `${err.message} (${errorToken(err.error)})`;
  return err instanceof Error ? err.message : String(err);
}
