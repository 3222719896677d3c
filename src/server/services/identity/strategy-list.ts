import type { AuthSettings } from '../settings/auth-section.ts';

/** What the sign-in page shows: one entry per strategy a person can start (seed 002). */
export interface StrategyInfo {
  name: string;
  kind: 'password' | 'oauth2';
  label: string;
  url: string;
  fields: string[];
  register?: { url: string; fields: string[] };
  collapsed?: boolean;
}

/**
 * Local sign-in is always listed (it always works, SPEC §6); LDAP and every OAuth2 provider are
 * listed when configured. Forward-auth is not: the gateway signs people in, not this page.
 */
export function listStrategies(auth: AuthSettings, basePath: string): StrategyInfo[] {
  const strategies: StrategyInfo[] = [
    {
      name: 'local',
      kind: 'password',
      label: 'Username and password',
      url: `${basePath}/login/pass/local`,
      fields: ['username', 'password'],
      register: { url: `${basePath}/login/register/local`, fields: ['username', 'password', 'password_confirm'] },
      collapsed: auth.local.login_form_collapsed,
    },
  ];
  if (auth.ldap?.enabled) strategies.push({ name: auth.ldap.name, kind: 'password', label: auth.ldap.label, url: `${basePath}/login/pass/${auth.ldap.name}`, fields: ['username', 'password'] });
  for (const provider of auth.oauth2) {
    strategies.push({ name: provider.name, kind: 'oauth2', label: provider.display_name ?? provider.name, url: `${basePath}/login/oauth2/${provider.name}`, fields: [] });
  }
  return strategies;
}
