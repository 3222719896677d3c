import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { assertSameOrigin } from '../../plugins/auth.ts';
import type { AuditEntry, AuditService } from '../../services/audit/audit-service.ts';
import type { UserRecord } from '../../services/identity/identity-records.ts';
import type { SessionService } from '../../services/identity/session-service.ts';
import type { ChallengeSessionMeta, TotpChallenges } from '../../services/identity/totp-challenges.ts';
import type { TotpService } from '../../services/identity/totp-service.ts';
import type { UserService } from '../../services/identity/user-service.ts';
import { retryAfterSeconds } from '../../services/security/attempt-limiter.ts';
import type { GuardVerdict, LoginAttempt, LoginGuard } from '../../services/security/login-guard.ts';
import { errors } from '../common-schemas.ts';
import { UserSchema, userView } from '../users/user-schemas.ts';

/**
 * Password sign-in shared by every password strategy (local now, LDAP next): rate limit → check
 * the password → second factor when enrolled → session cookie (upstream-pika.md §1.2, §8.6,
 * §8.7). A strategy only supplies how to check a password; it registers its own
 * `POST /login/pass/<name>` with {@link PasswordLoginBody} and calls `handle`, or, when it checks
 * passwords some other way, `completePasswordLogin` afterwards.
 */
export interface SessionCookie {
  readonly name: string;
  readonly secure: boolean;
  readonly sameSite: 'lax' | 'strict' | 'none';
  readonly path: string;
  readonly maxAgeSeconds: number;
}

export interface PasswordLoginDeps {
  readonly users: Pick<UserService, 'get'>;
  readonly sessions: Pick<SessionService, 'create'>;
  readonly totp: Pick<TotpService, 'isEnabled'>;
  readonly totpChallenges: Pick<TotpChallenges, 'create' | 'peek' | 'redeem'>;
  readonly loginGuard: Pick<LoginGuard, 'attempt'>;
  readonly audit: Pick<AuditService, 'record'>;
  readonly cookie: SessionCookie;
}

const Credentials = Type.Object({ username: Type.String({ minLength: 1, maxLength: 128 }), password: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });
const SecondFactor = Type.Object(
  {
    totp_session_id: Type.String({ minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }),
    /** A 6-digit code from the authenticator app, or a recovery code `xxxx-xxxx-xxxx`. */
    code: Type.String({ minLength: 6, maxLength: 32 }),
  },
  { additionalProperties: false },
);
/** `{username, password}` (phase one) or `{totp_session_id, code}` (phase two), to the same URL. */
export const PasswordLoginBody = Type.Union([Credentials, SecondFactor]);

const SignedIn = Type.Object({ user: UserSchema });
const TotpRequired = Type.Object({ phase: Type.Literal('totp_required'), totp_session_id: Type.String(), strategy: Type.String(), expires_in: Type.Integer() });
export const PasswordLoginResponses = { 200: Type.Union([SignedIn, TotpRequired]), ...errors(400, 401, 403, 429) };

export type PasswordLoginResult = { user: ReturnType<typeof userView> } | { phase: 'totp_required'; totp_session_id: string; strategy: string; expires_in: number };

/**
 * Checks a password for a strategy: the user it belongs to (with what the session should carry,
 * e.g. directory groups), or undefined when wrong. Throw an AppError for other refusals; a 401
 * counts toward the rate limits, anything else (an outage, a disabled account) does not.
 */
export type PasswordCheck = (username: string, password: string) => Promise<UserRecord | { user: UserRecord; session?: ChallengeSessionMeta } | undefined>;

export function setSessionCookie(reply: FastifyReply, cookie: SessionCookie, value: string, maxAge: number): void {
  void reply.setCookie(cookie.name, value, { path: cookie.path, httpOnly: true, secure: cookie.secure, sameSite: cookie.sameSite, maxAge });
}

export type PasswordLogin = ReturnType<typeof createPasswordLogin>;

export function createPasswordLogin(deps: PasswordLoginDeps) {
  /** Sign-in entries name the account tried ('' when not known yet); never a password or code. */
  function audit(request: FastifyRequest, entry: Pick<AuditEntry, 'action' | 'actor' | 'status' | 'detail'>): void {
    const known = entry.actor !== '';
    deps.audit.record({ ...entry, actor: known ? entry.actor : 'anonymous', actor_type: known ? 'user' : 'anonymous', ip: request.ip, request_id: request.id });
  }

  /** 429 with Retry-After, audited; nothing was checked, so nothing is counted. */
  function refuse(request: FastifyRequest, actor: string, verdict: Extract<GuardVerdict, { allowed: false }>): never {
    audit(request, { action: 'login.rate_limited', actor, status: 429, detail: `${verdict.scope} limit` });
    throw new AppError('ERR_RATE_LIMITED', 'too many failed sign-ins; wait before trying again', { headers: { 'retry-after': retryAfterSeconds(verdict.retryAfterMs) } });
  }

  /** Login CSRF protection (a foreign page must not sign a victim into the attacker's account), audited. */
  function sameOrigin(request: FastifyRequest, action: string, actor: string): void {
    try {
      assertSameOrigin(request);
    } catch (err) {
      audit(request, { action, actor, status: 403, detail: 'cross-origin request' });
      throw err;
    }
  }

  /**
   * Finishes a sign-in whose password the strategy has verified. Without TOTP it starts the
   * session (cookie) and clears the rate-limit history; with TOTP it answers `totp_required` and
   * stores a challenge — no cookie, and no clearing: otherwise knowing the password would reset
   * the counter that limits guessing codes. `attempt` is the guard attempt opened before the
   * password was checked (omit it and the address and `user.username` are cleared); `session`
   * is carried to the session, through the challenge if there is one.
   */
  async function completePasswordLogin(args: { request: FastifyRequest; reply: FastifyReply; user: UserRecord; strategy: string; session?: ChallengeSessionMeta; attempt?: LoginAttempt }): Promise<PasswordLoginResult> {
    const { request, user, strategy } = args;
    if (await deps.totp.isEnabled(user.id)) {
      const challenge = await deps.totpChallenges.create(user.id, strategy, args.session);
      audit(request, { action: 'login.totp_required', actor: user.username, status: 200, detail: strategy });
      return { phase: 'totp_required', totp_session_id: challenge.id, strategy, expires_in: challenge.expiresInSeconds };
    }
    (args.attempt ?? (await deps.loginGuard.attempt(request.ip, user.username))).succeed();
    return startSession(args);
  }

  async function startSession(args: { request: FastifyRequest; reply: FastifyReply; user: UserRecord; strategy: string; session?: ChallengeSessionMeta | undefined }): Promise<PasswordLoginResult> {
    const { request, user } = args;
    const session = await deps.sessions.create(user.id, { provider: args.strategy, ip: request.ip, userAgent: request.headers['user-agent'], roles: args.session?.roles, subject: args.session?.subject });
    setSessionCookie(args.reply, deps.cookie, session.cookie, deps.cookie.maxAgeSeconds);
    audit(request, { action: 'login.success', actor: user.username, status: 200, detail: args.strategy });
    return { user: userView(user) };
  }

  /** Phase one: `{username, password}`. */
  async function passwordPhase(request: FastifyRequest, reply: FastifyReply, input: { strategy: string; username: string; password: string; verify: PasswordCheck }): Promise<PasswordLoginResult> {
    const actor = input.username.slice(0, 128);
    sameOrigin(request, 'login.failure', actor);
    const attempt = await deps.loginGuard.attempt(request.ip, input.username);
    if (!attempt.verdict.allowed) refuse(request, actor, attempt.verdict);
    let verified: Awaited<ReturnType<PasswordCheck>>;
    try {
      verified = await input.verify(input.username, input.password);
    } catch (err) {
      // A strategy's own refusal (a disabled account, an unreachable directory) is audited; only
      // credential failures count toward the limits, an outage is not the user's guess.
      const status = err instanceof AppError ? err.status : 500;
      if (status === 401) attempt.fail();
      audit(request, { action: 'login.failure', actor, status, detail: input.strategy });
      throw err;
    }
    if (!verified) {
      attempt.fail();
      audit(request, { action: 'login.failure', actor, status: 401, detail: input.strategy });
      throw new AppError('ERR_INVALID_CREDENTIALS');
    }
    const { user, session } = 'user' in verified ? verified : { user: verified, session: undefined };
    return completePasswordLogin({ request, reply, user, strategy: input.strategy, session, attempt });
  }

  /** Phase two: `{totp_session_id, code}`; counts toward the same limits as passwords. */
  async function codePhase(request: FastifyRequest, reply: FastifyReply, input: { strategy: string; challengeId: string; code: string }): Promise<PasswordLoginResult> {
    sameOrigin(request, 'login.totp_failure', '');
    const challenge = await deps.totpChallenges.peek(input.challengeId);
    const user = challenge?.strategy === input.strategy ? await deps.users.get(challenge.user_id) : undefined;
    const actor = user?.username ?? '';
    const attempt = await deps.loginGuard.attempt(request.ip, user?.username);
    if (!attempt.verdict.allowed) refuse(request, actor, attempt.verdict);
    const failed = (status: number, detail: string, error: AppError): never => {
      audit(request, { action: 'login.totp_failure', actor, status, detail });
      throw error;
    };
    if (!user || user.disabled) {
      attempt.fail();
      return failed(401, 'unknown or expired sign-in', new AppError('ERR_TOTP_CHALLENGE'));
    }
    const outcome = await deps.totpChallenges.redeem(input.challengeId, input.code);
    switch (outcome.kind) {
      case 'unknown':
        attempt.fail();
        return failed(401, 'unknown or expired sign-in', new AppError('ERR_TOTP_CHALLENGE'));
      case 'not_enrolled':
        return failed(401, 'two-factor sign-in was turned off meanwhile', new AppError('ERR_TOTP_CHALLENGE'));
      case 'wrong': {
        attempt.fail();
        const message = outcome.attemptsLeft > 0 ? `wrong or expired two-factor code; ${outcome.attemptsLeft} more tries for this sign-in` : 'wrong two-factor code too often; sign in with your password again';
        return failed(401, `wrong ${outcome.method}`, new AppError('ERR_TOTP_INVALID', message, { details: { attempts_left: outcome.attemptsLeft } }));
      }
      case 'ok': {
        attempt.succeed();
        const left = outcome.accepted.method === 'recovery_code' ? `; ${outcome.accepted.recoveryCodesLeft} recovery codes left` : '';
        audit(request, { action: 'login.totp_success', actor, status: 200, detail: `${outcome.accepted.method}${left}` });
        return startSession({ request, reply, user, strategy: input.strategy, session: outcome.challenge.session });
      }
    }
  }

  /** The whole `POST /login/pass/<strategy>` handler body for a {@link PasswordLoginBody}. */
  async function handle(request: FastifyRequest, reply: FastifyReply, options: { strategy: string; verify: PasswordCheck }): Promise<PasswordLoginResult> {
    const body = request.body as { username: string; password: string } | { totp_session_id: string; code: string };
    if ('totp_session_id' in body) return codePhase(request, reply, { strategy: options.strategy, challengeId: body.totp_session_id, code: body.code });
    return passwordPhase(request, reply, { strategy: options.strategy, username: body.username, password: body.password, verify: options.verify });
  }

  return { handle, completePasswordLogin };
}
