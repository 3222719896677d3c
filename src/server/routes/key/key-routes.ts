import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import type { KeyManager } from '../../barrier/key-manager.ts';
import { requireCap } from '../../plugins/auth.ts';
import { type AttemptLimiter, retryAfterSeconds } from '../../services/security/attempt-limiter.ts';
import { errors } from '../common-schemas.ts';

export interface KeyRouteDeps {
  readonly keys: Pick<KeyManager, 'status' | 'initialize' | 'unlock' | 'lock' | 'rotate'>;
  readonly unlockLimiter: AttemptLimiter;
  readonly serverId: () => string;
}

const Passphrase = Type.String({ minLength: 1, maxLength: 4096 });
const KeyBody = Type.Object({ key: Passphrase }, { additionalProperties: false });
const RotateBody = Type.Object({ current_key: Passphrase, new_key: Passphrase }, { additionalProperties: false });
const StatusSchema = Type.Object({ initialized: Type.Boolean(), unlocked: Type.Boolean() });
/** The public status also names the server, so a client (the operator's unlock) knows which one answered. */
const PublicStatusSchema = Type.Object({ initialized: Type.Boolean(), unlocked: Type.Boolean(), server_id: Type.String({ description: 'Stable random id of this server (its data), as in /api/v1/info' }) });

/** Short passphrases are refused at initialize and rotate; unlock accepts whatever was chosen. */
const MIN_NEW_KEY = 12;

function assertStrongEnough(key: string): void {
  if (Array.from(key).length < MIN_NEW_KEY) throw new AppError('ERR_VALIDATION', `the server key needs at least ${MIN_NEW_KEY} characters; a long random passphrase is best`);
}

/**
 * The server key lifecycle (SPEC §7.1, seed 001). Status is public; unlock needs `key.unlock`
 * (implied by `settings.manage`) and is rate limited per client; the rest need `settings.manage`.
 */
export function registerKeyRoutes(app: FastifyInstance, deps: KeyRouteDeps): void {
  app.get('/api/v1/key/status', { schema: { tags: ['key'], summary: 'Whether the server key is initialized and unlocked (no auth)', response: { 200: PublicStatusSchema } } }, async () => ({ ...deps.keys.status(), server_id: deps.serverId() }));

  app.post('/api/v1/key/initialize', { schema: { tags: ['key'], summary: 'Turn on encryption at rest with a new server key; stays unlocked', body: KeyBody, response: { 200: StatusSchema, ...errors(400, 401, 403, 409) } } }, async (request) => {
    requireCap(request, 'settings.manage');
    const { key } = request.body as { key: string };
    assertStrongEnough(key);
    await deps.keys.initialize(key);
    return deps.keys.status();
  });

  app.post('/api/v1/key/unlock', { schema: { tags: ['key'], summary: 'Unlock after a restart (key.unlock); rate limited per client', body: KeyBody, response: { 200: StatusSchema, ...errors(400, 401, 403, 409, 429) } } }, async (request) => {
    requireCap(request, 'key.unlock');
    const verdict = deps.unlockLimiter.check(request.ip);
    if (!verdict.allowed) throw new AppError('ERR_RATE_LIMITED', 'too many wrong keys; wait before trying again', { headers: { 'retry-after': retryAfterSeconds(verdict.retryAfterMs) } });
    try {
      await deps.keys.unlock((request.body as { key: string }).key);
    } catch (err) {
      if (err instanceof AppError && err.code === 'ERR_KEY_WRONG') deps.unlockLimiter.fail(request.ip);
      throw err;
    }
    deps.unlockLimiter.succeed(request.ip);
    return deps.keys.status();
  });

  app.post('/api/v1/key/lock', { schema: { tags: ['key'], summary: 'Lock now: drop the key from memory; everything gated answers 503', response: { 200: StatusSchema, ...errors(401, 403, 409) } } }, async (request) => {
    requireCap(request, 'settings.manage');
    if (!deps.keys.status().initialized) throw new AppError('ERR_KEY_NOT_INITIALIZED');
    await deps.keys.lock();
    return deps.keys.status();
  });

  app.post('/api/v1/key/rotate', { schema: { tags: ['key'], summary: 'Replace the server key; every sealed value is re-sealed (crash-safe)', body: RotateBody, response: { 200: StatusSchema, ...errors(400, 401, 403, 409) } } }, async (request) => {
    requireCap(request, 'settings.manage');
    const body = request.body as { current_key: string; new_key: string };
    assertStrongEnough(body.new_key);
    await deps.keys.rotate(body.current_key, body.new_key);
    return deps.keys.status();
  });
}

