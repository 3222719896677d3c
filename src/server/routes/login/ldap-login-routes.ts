import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError, isAppError } from '../../../shared/errors.ts';
import { assertSameOrigin } from '../../plugins/auth.ts';
import type { LdapLogin, LdapSignIn } from '../../services/ldap/ldap-login.ts';
import { retryAfterSeconds } from '../../services/security/attempt-limiter.ts';
import { errors } from '../common-schemas.ts';
import { createPasswordLogin, type PasswordLoginDeps, PasswordLoginBody, type PasswordLoginResult, PasswordLoginResponses } from './password-login.ts';

export interface LdapLoginRouteDeps extends PasswordLoginDeps {
  readonly ldapLogin: Pick<LdapLogin, 'strategy' | 'verify'>;
}

const StrategyParams = Type.Object({ strategy: Type.String({ minLength: 1, maxLength: 64 }) });

/**
 * `POST /login/pass/<auth.ldap.name>` (seed 002 LDAP strategy). The name is a setting that may
 * change at any time, so the route is parametric and checks the name per request (404 unless
 * LDAP is enabled under exactly that name); the static `/login/pass/local` always wins the
 * match, so LDAP can never shadow local sign-in.
 *
 * Phase one (`{username, password}`) is LDAP's own: it must carry the directory groups and the
 * DN to the session (the permission mapping reads them), which `PasswordCheck` cannot return, so
 * it opens the rate-limit attempt itself and finishes through `completePasswordLogin` — TOTP,
 * the limiter's bookkeeping and the session cookie are password-login.ts's. Phase two
 * (`{totp_session_id, code}`) is password-login.ts's `handle` unchanged.
 */
export function registerLdapLoginRoutes(app: FastifyInstance, deps: LdapLoginRouteDeps): void {
  const passwordLogin = createPasswordLogin(deps);

  function audit(request: FastifyRequest, entry: { action: string; actor: string; status: number; detail: string }): void {
    deps.audit.record({ ...entry, actor_type: 'user', ip: request.ip, request_id: request.id });
  }

  async function passwordPhase(request: FastifyRequest, reply: FastifyReply, strategy: string, body: { username: string; password: string }): Promise<PasswordLoginResult> {
    const actor = body.username.slice(0, 128);
    try {
      assertSameOrigin(request);
    } catch (err) {
      audit(request, { action: 'login.failure', actor, status: 403, detail: 'cross-origin request' });
      throw err;
    }
    const attempt = await deps.loginGuard.attempt(request.ip, body.username);
    if (!attempt.verdict.allowed) {
      audit(request, { action: 'login.rate_limited', actor, status: 429, detail: `${attempt.verdict.scope} limit` });
      throw new AppError('ERR_RATE_LIMITED', 'too many failed sign-ins; wait before trying again', { headers: { 'retry-after': retryAfterSeconds(attempt.verdict.retryAfterMs) } });
    }
    let signIn: LdapSignIn | undefined;
    try {
      signIn = await deps.ldapLogin.verify(strategy, body.username, body.password);
    } catch (err) {
      // Not the user's guess (an outage, a disabled or unlinked account): audited, not counted.
      audit(request, { action: 'login.failure', actor, status: isAppError(err) ? err.status : 500, detail: `${strategy}: ${err instanceof Error ? err.message : String(err)}` });
      if (isAppError(err) && err.code === 'ERR_LDAP_UNAVAILABLE') {
        // The cause (address, TLS or bind problem) is for the operator, not for whoever is signing in.
        request.log.warn({ err }, 'LDAP sign-in failed: directory unavailable');
        throw new AppError('ERR_LDAP_UNAVAILABLE', 'the LDAP directory is unavailable; try again later or sign in another way');
      }
      throw err;
    }
    if (!signIn) {
      attempt.fail();
      audit(request, { action: 'login.failure', actor, status: 401, detail: strategy });
      throw new AppError('ERR_INVALID_CREDENTIALS');
    }
    return passwordLogin.completePasswordLogin({ request, reply, user: signIn.user, strategy, session: { roles: signIn.roles, subject: signIn.subject }, attempt });
  }

  app.post(
    '/login/pass/:strategy',
    {
      schema: {
        tags: ['login'],
        summary: 'LDAP sign-in under auth.ldap.name (404 unless enabled); like local sign-in, may answer totp_required',
        params: StrategyParams,
        body: PasswordLoginBody,
        response: { ...PasswordLoginResponses, ...errors(400, 401, 403, 404, 429, 502) },
      },
      // Before body validation: an unknown strategy is a 404 whatever is posted to it.
      preValidation: async (request) => {
        if (!(await deps.ldapLogin.strategy((request.params as { strategy: string }).strategy))) throw new AppError('ERR_ROUTE_NOT_FOUND');
      },
    },
    async (request, reply) => {
      const { strategy } = request.params as { strategy: string };
      const body = request.body as { username: string; password: string } | { totp_session_id: string; code: string };
      if ('totp_session_id' in body) return passwordLogin.handle(request, reply, { strategy, verify: refusePasswords });
      return passwordPhase(request, reply, strategy, body);
    },
  );
}

/** `handle` only reaches its password check for a `{username, password}` body, which never goes there. */
function refusePasswords(): Promise<undefined> {
  return Promise.reject(new AppError('ERR_INVALID_CREDENTIALS'));
}
