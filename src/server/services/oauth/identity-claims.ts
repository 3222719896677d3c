import type { ExternalIdentity } from '../identity/external-login.ts';
import { rolesFromClaims } from './roles-claims.ts';

export type Claims = Readonly<Record<string, unknown>>;

/**
 * The external identity one sign-in proves. Claims come from the ID token and, when the provider
 * has a userinfo endpoint, from userinfo; userinfo wins for the identity fields (it is the
 * provider's current view, and some providers put only `sub` in the ID token). The subject is the
 * ID token's `sub` (openid-client already checked that userinfo agrees); plain OAuth2 providers
 * without an ID token name the person by userinfo's `sub`, or `id` (GitHub-style APIs).
 */
export function identityFromClaims(provider: string, sources: { idToken?: Claims | undefined; userinfo?: Claims | undefined }, rolesClaims: readonly string[]): ExternalIdentity | undefined {
  const claims: Claims = { ...sources.idToken, ...sources.userinfo };
  const subject = subjectOf(sources.idToken?.sub) ?? subjectOf(sources.userinfo?.sub) ?? subjectOf(sources.userinfo?.id);
  if (subject === undefined) return undefined;
  return {
    provider,
    subject,
    email: text(claims.email, 320),
    // Only a JSON `true` counts: a provider that sends "true" as a string or omits the claim has
    // not vouched for the address, and verified-email linking must fail closed.
    emailVerified: claims.email_verified === true,
    preferredUsername: text(claims.preferred_username, 256),
    displayName: text(claims.name, 256),
    groups: rolesFromClaims(claims, rolesClaims),
  };
}

function subjectOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  return value !== '' && value.length <= 255 ? value : undefined;
}

function text(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed.slice(0, max);
}
