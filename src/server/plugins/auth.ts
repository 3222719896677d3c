import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Capability } from '../../shared/capabilities.ts';
import { AppError } from '../../shared/errors.ts';
import type { Operation } from '../services/access/permissions.ts';
import type { Principal } from '../services/access/principal.ts';
import type { PermissionResolver } from '../services/identity/permission-resolver.ts';
import type { SessionService } from '../services/identity/session-service.ts';
import type { TokenService } from '../services/identity/token-service.ts';
import type { IdentityLinks } from '../services/identity/identity-links.ts';
import type { UserService } from '../services/identity/user-service.ts';
import type { SettingsService } from '../services/settings/settings-service.ts';
import { forwardedIdentity } from './forward-auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

export interface AuthDeps {
  readonly sessions: Pick<SessionService, 'validate' | 'revoke'>;
  readonly users: Pick<UserService, 'get'>;
  readonly tokens: Pick<TokenService, 'authenticate' | 'touch'>;
  readonly permissions: Pick<PermissionResolver, 'forUser' | 'forExternal' | 'tokenAccess'>;
  readonly settings: Pick<SettingsService, 'auth'>;
  readonly links: Pick<IdentityLinks, 'find'>;
  readonly cookieName: string;
}

/**
 * Resolves the caller of a request (SPEC §6): a bearer API token when an Authorization header is
 * present (a bad one is refused outright, never silently ignored); else the session cookie
 * (session first, as the seed orders it); else the forward-auth headers of a trusted proxy.
 * Returns undefined for an anonymous caller; handlers decide whether that is allowed.
 */
export function createAuthenticator(deps: AuthDeps) {
  async function fromToken(header: string): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new AppError('ERR_TOKEN_INVALID', 'the Authorization header must be "Bearer pika_…"');
    const token = await deps.tokens.authenticate(match[1]);
    const { perms, validUntil } = await deps.permissions.tokenAccess(token);
    deps.tokens.touch(token.id);
    return { kind: 'token', token, perms, validUntil };
  }

  async function fromSession(cookie: string): Promise<Principal | undefined> {
    const session = await deps.sessions.validate(cookie);
    if (!session) return undefined;
    const user = await deps.users.get(session.record.user_id);
    if (!user || user.disabled) {
      await deps.sessions.revoke(session.handle, session.record.user_id);
      return undefined;
    }
    const { provider, roles = [], subject } = session.record;
    const perms = provider === 'local' ? await deps.permissions.forUser(user) : await deps.permissions.forExternal({ provider, subject, username: user.username, groups: roles, user }, (await deps.settings.auth()).permissions);
    return { kind: 'user', user, sessionHandle: session.handle, perms };
  }

  async function fromGateway(request: FastifyRequest): Promise<Principal | undefined> {
    const auth = await deps.settings.auth();
    const identity = forwardedIdentity(request, auth);
    if (!identity) return undefined;
    const link = await deps.links.find(identity.provider, identity.subject);
    const linked = link ? await deps.users.get(link.user_id) : undefined;
    if (linked?.disabled) return undefined;
    const perms = await deps.permissions.forExternal({ ...identity, username: linked?.username, user: linked }, auth.permissions);
    return { kind: 'external', identity, user: linked, perms };
  }

  async function authenticate(request: FastifyRequest, options: { tokenOnly?: boolean } = {}): Promise<Principal | undefined> {
    const header = request.headers.authorization;
    if (header !== undefined) return fromToken(header);
    if (options.tokenOnly) return undefined;
    const cookie = request.cookies[deps.cookieName];
    const session = cookie ? await fromSession(cookie) : undefined;
    return session ?? fromGateway(request);
  }

  return { authenticate };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

/**
 * Installs caller resolution and CSRF protection on a route scope. A browser sending a
 * state-changing request with our cookie from another site is refused: Sec-Fetch-Site says so
 * directly; otherwise a foreign Origin does. Requests without either header are not from a
 * browser page and carry no ambient cookie risk.
 */
export function installAuth(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    request.principal = await authenticator.authenticate(request);
    // Session cookies and gateway headers both ride along with any browser request: guard both.
    if (request.principal !== undefined && request.principal.kind !== 'token') assertSameOrigin(request);
  });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function assertSameOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') throw new AppError('ERR_CSRF');
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (!sameHost(origin, request.host)) throw new AppError('ERR_CSRF');
}

/**
 * Whether an Origin names the host the request was sent to. Both sides go through URL parsing
 * with the Origin's scheme, so a default port written out on one side only (`Host: example:80`
 * vs `Origin: http://example`) still compares equal. An unparsable or `null` Origin is foreign.
 */
function sameHost(origin: string, host: string): boolean {
  try {
    const from = new URL(origin);
    if (from.protocol !== 'http:' && from.protocol !== 'https:') return false;
    return host !== '' && new URL(`${from.protocol}//${host}`).host === from.host;
  } catch {
    return false;
  }
}

export function requireAuth(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('ERR_UNAUTHENTICATED');
  return request.principal;
}

export function requireCap(request: FastifyRequest, cap: Capability, path?: string, op?: Operation): Principal {
  const principal = requireAuth(request);
  if (!principal.perms.can(cap, path, op)) throw new AppError('ERR_FORBIDDEN', path === undefined ? `requires ${cap}` : `requires ${cap} on "${path}"`);
  return principal;
}

export function requireUser(request: FastifyRequest): Extract<Principal, { kind: 'user' }> {
  const principal = requireAuth(request);
  if (principal.kind !== 'user') throw new AppError('ERR_FORBIDDEN', 'this action needs a signed-in user, not an API token');
  return principal;
}

export function clientIp(request: FastifyRequest): string {
  return request.ip;
}

