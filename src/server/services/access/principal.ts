import type { TokenRecord, UserRecord } from '../identity/identity-records.ts';
import type { Permissions } from './permissions.ts';

/** Who is calling: a signed-in user (session cookie) or an API token. */
export type Principal =
  | { readonly kind: 'user'; readonly user: UserRecord; readonly sessionHandle: string; readonly perms: Permissions }
  | { readonly kind: 'token'; readonly token: TokenRecord; readonly perms: Permissions; /** Epoch ms when the token or an ancestor expires. */ readonly validUntil: number };

export function actorName(principal: Principal | undefined): string {
  if (!principal) return 'anonymous';
  return principal.kind === 'user' ? principal.user.username : `token:${principal.token.name}`;
}

export function actorType(principal: Principal | undefined): 'user' | 'token' | 'anonymous' {
  return principal?.kind ?? 'anonymous';
}
