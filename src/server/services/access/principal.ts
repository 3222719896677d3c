import type { ExternalIdentity } from '../identity/external-login.ts';
import type { TokenRecord, UserRecord } from '../identity/identity-records.ts';
import type { Permissions } from './permissions.ts';

/**
 * Who is calling: a signed-in user (session cookie, local or from an external strategy), an API
 * token, or a person a trusted gateway vouched for (forward-auth headers, optionally linked to a
 * pika user).
 */
export type Principal =
  | { readonly kind: 'user'; readonly user: UserRecord; readonly sessionHandle: string; readonly perms: Permissions }
  | { readonly kind: 'external'; readonly identity: ExternalIdentity; readonly user: UserRecord | undefined; readonly perms: Permissions }
  | { readonly kind: 'token'; readonly token: TokenRecord; readonly perms: Permissions; /** Epoch ms when the token or an ancestor expires. */ readonly validUntil: number };

export function actorName(principal: Principal | undefined): string {
  if (!principal) return 'anonymous';
  if (principal.kind === 'user') return principal.user.username;
  if (principal.kind === 'external') return principal.user?.username ?? `${principal.identity.provider}:${principal.identity.subject}`;
  return `token:${principal.token.name}`;
}

export function actorType(principal: Principal | undefined): 'user' | 'token' | 'anonymous' {
  if (!principal) return 'anonymous';
  return principal.kind === 'token' ? 'token' : 'user';
}
