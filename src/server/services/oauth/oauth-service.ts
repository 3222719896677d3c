import type { ExternalLogin } from '../identity/external-login.ts';
import type { SettingsService } from '../settings/settings-service.ts';
import type { Store } from '../../storage/store.ts';
import { createFlowStore } from './flow-store.ts';
import { createOAuthLogin } from './oauth-login.ts';
import { createProviderClients } from './provider-clients.ts';
import { createUpstreamRevoker } from './upstream-revocation.ts';

export type OAuthService = ReturnType<typeof createOAuthService>;

/**
 * OAuth2/OIDC sign-in as one service for the routes: pending flows in the store, openid-client
 * configurations cached per provider settings, the flow itself, and best-effort revocation of the
 * IdP's tokens afterwards.
 */
export function createOAuthService(deps: {
  readonly store: Pick<Store, 'get' | 'batch' | 'iterate'>;
  readonly clock: () => number;
  readonly settings: Pick<SettingsService, 'auth'>;
  readonly externalLogin: Pick<ExternalLogin, 'resolveUser'>;
}) {
  const flows = createFlowStore({ store: deps.store, clock: deps.clock });
  const login = createOAuthLogin({ settings: deps.settings, externalLogin: deps.externalLogin, flows, clients: createProviderClients({ clock: deps.clock }) });
  const revoker = createUpstreamRevoker();
  return { begin: login.begin, complete: login.complete, revokeLater: revoker.revokeLater, drain: revoker.drain, pruneFlows: flows.prune };
}
