import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import type { AuditService } from '../../services/audit/audit-service.ts';
import type { SessionService } from '../../services/identity/session-service.ts';
import { failureReason } from '../../services/oauth/login-failure.ts';
import type { CallbackParams } from '../../services/oauth/oauth-login.ts';
import type { OAuthService } from '../../services/oauth/oauth-service.ts';
import { safeReturnTo } from '../../services/oauth/return-to.ts';
import { errors } from '../common-schemas.ts';
import { UserSchema, userView } from '../users/user-schemas.ts';

export interface OAuthRouteDeps {
  readonly oauth: Pick<OAuthService, 'begin' | 'complete' | 'revokeLater' | 'drain'>;
  readonly sessions: Pick<SessionService, 'create'>;
  readonly audit: Pick<AuditService, 'record'>;
  /** The session cookie options app.ts builds (the same ones password login uses). */
  readonly cookie: { readonly name: string; readonly secure: boolean; readonly sameSite: 'lax' | 'strict' | 'none'; readonly path: string; readonly maxAgeSeconds: number };
  readonly basePath: string;
}

const ProviderParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
const StartQuery = Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 4096, description: 'a relative path under the base path to land on after sign-in' })) });
const CallbackQuery = Type.Object(
  {
    code: Type.Optional(Type.String({ maxLength: 8192 })),
    state: Type.Optional(Type.String({ maxLength: 512 })),
    iss: Type.Optional(Type.String({ maxLength: 2048 })),
    error: Type.Optional(Type.String({ maxLength: 512 })),
    error_description: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: true },
);
const Redirect = Type.Null({ description: 'redirect (Location header)' });
const Started = Type.Object({ authorization_url: Type.String({ description: 'where to send the browser' }) });
const SignedIn = Type.Object({ user: UserSchema, return_to: Type.String() });
const BINDING_TTL_SECONDS = 600;
const BINDING_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/**
 * OAuth2/OIDC sign-in over browser redirects (seed 002, upstream-pika.md §1.2):
 * `GET /login/oauth2/<name>` sends the browser to the IdP, `GET /login/callback/<name>` takes it
 * back, signs it in with the same session cookie as password login and returns it to
 * `return_to`. A refused sign-in never answers 500 to the browser: it lands on the base path with
 * `?login_error=<code>`. A client that asks for JSON (`Accept: application/json`, a single-page
 * app using fetch) gets JSON instead of redirects: the authorization URL, the signed-in user, or
 * the catalog error. Every callback is audited, without codes, tokens or state.
 */
export function registerOAuthRoutes(app: FastifyInstance, deps: OAuthRouteDeps): void {
  const home = `${deps.basePath}/`;
  // Binds a flow to the browser that started it. Lax even when the session cookie is Strict:
  // the IdP's redirect back is a cross-site top-level navigation, which Strict would not carry.
  const binding = { name: `${deps.cookie.name}_oauth`, path: `${deps.basePath}/login/` };

  app.get(
    '/login/oauth2/:name',
    { schema: { tags: ['login'], summary: 'Start an OAuth2/OIDC sign-in: redirect to the identity provider (JSON clients get the URL)', params: ProviderParams, querystring: StartQuery, response: { 200: Started, 302: Redirect, ...errors(404, 429, 502) } } },
    async (request, reply) => {
      const { name } = request.params as { name: string };
      const existing = request.cookies[binding.name];
      const browserCookie = existing !== undefined && BINDING_FORMAT.test(existing) ? existing : randomBytes(32).toString('base64url');
      let location: string;
      try {
        location = await deps.oauth.begin(name, {
          redirectUri: `${request.protocol}://${request.host}${deps.basePath}/login/callback/${encodeURIComponent(name)}`,
          returnTo: safeReturnTo((request.query as { return_to?: string }).return_to, deps.basePath),
          browserCookie,
        });
      } catch (err) {
        return refuse(request, reply, name, err);
      }
      // Reusing the cookie keeps sign-ins started in two tabs of one browser both valid.
      reply.setCookie(binding.name, browserCookie, { path: binding.path, httpOnly: true, secure: deps.cookie.secure, sameSite: deps.cookie.sameSite === 'none' ? 'none' : 'lax', maxAge: BINDING_TTL_SECONDS });
      return wantsJson(request) ? { authorization_url: location } : reply.redirect(location, 302);
    },
  );

  app.get(
    '/login/callback/:name',
    { schema: { tags: ['login'], summary: 'OAuth2/OIDC redirect URI: finish the sign-in, set the session cookie, redirect to return_to', params: ProviderParams, querystring: CallbackQuery, response: { 200: SignedIn, 302: Redirect, ...errors(400, 401, 403, 404, 502) } } },
    async (request, reply) => {
      const { name } = request.params as { name: string };
      const query = request.query as CallbackParams;
      let result: { user: ReturnType<typeof userView>; return_to: string };
      try {
        const done = await deps.oauth.complete(name, query, request.cookies[binding.name]);
        const { identity, user } = done;
        const session = await deps.sessions.create(user.id, { provider: name, ip: request.ip, userAgent: request.headers['user-agent'], roles: [...identity.groups], subject: identity.subject });
        reply.setCookie(deps.cookie.name, session.cookie, { path: deps.cookie.path, httpOnly: true, secure: deps.cookie.secure, sameSite: deps.cookie.sameSite, maxAge: deps.cookie.maxAgeSeconds });
        deps.audit.record({ action: 'login.success', actor: user.username, actor_type: 'user', target: `oauth2:${name}`, status: wantsJson(request) ? 200 : 302, ip: request.ip, request_id: request.id, detail: done.how });
        // Only now, with pika's own session issued, are the IdP's tokens dropped (not awaited).
        deps.oauth.revokeLater(name, done.client, done.tokens, request.log);
        result = { user: userView(user), return_to: done.returnTo };
      } catch (err) {
        return refuse(request, reply, name, err);
      }
      return wantsJson(request) ? result : reply.redirect(result.return_to, 302);
    },
  );

  app.addHook('onClose', async () => {
    await deps.oauth.drain();
  });

  function refuse(request: FastifyRequest, reply: FastifyReply, name: string, err: unknown): FastifyReply {
    const error = err instanceof AppError ? err : new AppError('ERR_INTERNAL');
    if (error.code === 'ERR_ROUTE_NOT_FOUND' && request.routeOptions.url?.endsWith('/login/oauth2/:name')) throw error;
    const reason = failureReason(err);
    if (err instanceof AppError) request.log.warn({ provider: name, reason, message: err.message }, 'OAuth2 sign-in refused');
    else request.log.error({ err, provider: name }, 'OAuth2 sign-in failed');
    const subject = error.details?.subject;
    deps.audit.record({
      action: 'login.failure',
      actor: typeof subject === 'string' ? subject : 'anonymous',
      actor_type: 'anonymous',
      target: `oauth2:${name.slice(0, 128)}`,
      status: error.status,
      ip: request.ip,
      request_id: request.id,
      detail: reason,
    });
    // Unknown providers and API clients get the catalog error; a browser goes back to the UI.
    if (error.code === 'ERR_ROUTE_NOT_FOUND' || wantsJson(request)) throw error;
    return reply.redirect(`${home}?login_error=${error.code}`, 302);
  }
}

function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}
