import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../../../shared/errors.ts';
import { fileKeyOf } from '../../domain/config-path.ts';
import { parseDocumentExact, writeJsonExact } from '../../domain/exact-numbers.ts';
import { parseFormat } from '../../domain/formats.ts';
import type { Authenticator } from '../../plugins/auth.ts';
import { sendError, toAppError } from '../../plugins/error-handler.ts';
import type { Permissions } from '../../services/access/permissions.ts';
import { actorName } from '../../services/access/principal.ts';
import type { AuditService } from '../../services/audit/audit-service.ts';
import type { EsoService } from '../../services/eso/eso-service.ts';
import { type EsoQuery, esoTarget, NO_VALUE, present } from '../../services/eso/eso-target.ts';
import { errors } from '../common-schemas.ts';
import { EsoPushBody, EsoPushQuery, EsoPushResult, EsoReadQuery, EsoValue } from './eso-schemas.ts';

export interface EsoRouteDeps {
  readonly eso: EsoService;
  readonly authenticator: Authenticator;
  readonly audit: Pick<AuditService, 'record'>;
  readonly clock: () => number;
  readonly basePath: string;
  /** Read permissions of a caller without a token (the public port's `public_paths`), if any. */
  readonly anonymousReader: (request: FastifyRequest) => Permissions | undefined;
}

interface Caller {
  readonly perms: Permissions;
  readonly actor: string;
  readonly actorType: 'token' | 'anonymous';
}

/**
 * ESO surfaces only the status line of a failed call (`endpoint gave error 403 …`), so the reason
 * phrase carries the explanation: a short label plus the error's message.
 */
const PHRASES: Partial<Record<ErrorCode, string>> = {
  ERR_UNAUTHENTICATED: 'Pika Token Required',
  ERR_TOKEN_INVALID: 'Pika Token Invalid',
  ERR_TOKEN_DISABLED: 'Pika Token Disabled',
  ERR_TOKEN_EXPIRED: 'Pika Token Expired',
  ERR_TOKEN_CREATOR_INACTIVE: 'Pika Token Owner Inactive',
  ERR_FORBIDDEN: 'Pika Forbidden',
  ERR_INHERIT_FORBIDDEN: 'Pika Forbidden',
  ERR_FILE_NOT_FOUND: 'Pika Config Not Found',
  ERR_VERSION_NOT_FOUND: 'Pika Version Not Found',
  ERR_ESO_PROPERTY_NOT_FOUND: 'Pika Property Not Found',
};

export function reasonPhrase(error: AppError): string {
  if (error.code === 'server_locked') return 'Pika Locked';
  const label = PHRASES[error.code] ?? `Pika ${STATUS_CODES[error.status] ?? 'Error'}`;
  // A status line holds visible ASCII only; keep it to one readable line.
  return `${label}: ${error.message}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}

const AUDIT_SAMPLE_MS = 60_000;
const WRITES = new Set(['POST', 'DELETE']);

/**
 * The External Secrets Operator webhook provider (SPEC §13.2, docs/guides/eso.md): `GET
 * /eso/v1/secret` answers `{"value": "<text>"}`, `POST`/`DELETE /eso/v1/push` serve PushSecret.
 * Token only, like `/data`; the lock gate answers `503 Pika Locked` before any of this runs.
 * Register inside its own scope: it replaces the JSON body parser (numbers stay exact) and the
 * error handler (reason phrases).
 */
export function registerEsoRoutes(app: FastifyInstance, deps: EsoRouteDeps): void {
  installBodyParsers(app);
  app.setErrorHandler((err, request, reply) => {
    const error = toAppError(err);
    if (error.status >= 500) request.log.error({ err }, 'request failed');
    reply.raw.statusMessage = reasonPhrase(error);
    return sendError(request, reply, error);
  });
  installAudit(app, deps);

  const unauthenticated = () => new AppError('ERR_UNAUTHENTICATED', 'send an API token: Authorization: Bearer pika_…');

  async function tokenCaller(request: FastifyRequest): Promise<Caller | undefined> {
    const principal = await deps.authenticator.authenticate(request, { tokenOnly: true }).catch((err: unknown) => {
      // ESO renders the store's secrets into headers for reads and pushes, but not for deletes.
      if (err instanceof AppError && err.code === 'ERR_TOKEN_INVALID' && request.headers.authorization?.includes(NO_VALUE) === true)
        throw new AppError('ERR_TOKEN_INVALID', `the Authorization header holds "${NO_VALUE}": the ESO template named a secret it did not fill (ESO does not fill store secrets for PushSecret deletes)`);
      throw err;
    });
    if (principal?.kind !== 'token') return undefined;
    const caller: Caller = { perms: principal.perms, actor: actorName(principal), actorType: 'token' };
    callers.set(request, caller);
    return caller;
  }

  async function read(request: FastifyRequest, reply: FastifyReply) {
    const token = await tokenCaller(request);
    const anonymous = token ? undefined : deps.anonymousReader(request);
    if (!token && !anonymous) throw unauthenticated();
    const target = esoTarget(request.query as EsoQuery);
    const key = fileKeyOf(target.path, target.variant);
    targets.set(request, key);
    // Without a token, only what public_paths cover; anything else still wants a token.
    const perms = token?.perms ?? (anonymous?.can('files.read', key, 'read') ? anonymous : undefined);
    if (!perms) throw unauthenticated();
    const result = await deps.eso.read(perms, target);
    void reply.headers({ 'x-pika-version': String(result.version), 'cache-control': 'no-store' });
    return { value: result.value };
  }

  async function writer(request: FastifyRequest): Promise<{ caller: Caller; target: ReturnType<typeof esoTarget> }> {
    const caller = await tokenCaller(request);
    if (!caller) throw unauthenticated();
    const target = esoTarget(request.query as EsoQuery);
    targets.set(request, fileKeyOf(target.path, target.variant));
    return { caller, target };
  }

  const readSchema = (querystring: typeof EsoReadQuery | typeof EsoPushQuery, summary: string) => ({
    schema: { tags: ['eso'], summary, querystring, response: { 200: EsoValue, ...errors(400, 401, 403, 404, 502, 503) } },
  });

  app.get('/eso/v1/secret', readSchema(EsoReadQuery, 'ESO webhook read: one property (or the whole config) of a resolved config as text'), read);
  app.get('/eso/v1/push', readSchema(EsoPushQuery, 'ESO PushSecret existence check (updatePolicy IfNotExists): same as /eso/v1/secret'), read);

  app.post(
    '/eso/v1/push',
    { schema: { tags: ['eso'], summary: 'ESO PushSecret: save the pushed value as a new version of the config (unchanged values make none)', querystring: EsoPushQuery, body: EsoPushBody, response: { 200: EsoPushResult, 201: EsoPushResult, ...errors(400, 401, 403, 409, 413, 415, 503) } } },
    async (request, reply) => {
      const { caller, target } = await writer(request);
      if (target.property !== undefined) throw new AppError('ERR_VALIDATION', 'a push replaces the whole config; property is not supported');
      const format = present((request.query as { format?: string }).format);
      const result = await deps.eso.push(caller.perms, caller.actor, { path: target.path, variant: target.variant, content: contentOf(request.body), format: format === undefined ? undefined : parseFormat(format) });
      return reply.code(result.changed ? 201 : 200).send(result);
    },
  );

  app.delete(
    '/eso/v1/push',
    { schema: { tags: ['eso'], summary: 'ESO PushSecret deletion: delete the config (a missing one is fine)', querystring: EsoPushQuery, response: { 204: { description: 'Deleted, or there was nothing to delete', type: 'null' }, ...errors(400, 401, 403, 503) } } },
    async (request, reply) => {
      const { caller, target } = await writer(request);
      await deps.eso.remove(caller.perms, caller.actor, target);
      return reply.code(204).send();
    },
  );

  // Anything else under /eso/ is a client mistake, never a 404: ESO deletes its target on a 404.
  app.all('/eso/*', { schema: { hide: true } }, async (request) => {
    throw new AppError('ERR_ESO_ENDPOINT_UNKNOWN', `no ESO endpoint ${request.method} ${request.url.split('?', 1)[0] ?? ''}; use /eso/v1/secret or /eso/v1/push`);
  });
}

/** Who called and which config, for the audit hook (set once known). */
const callers = new WeakMap<FastifyRequest, Caller>();
const targets = new WeakMap<FastifyRequest, string>();

/**
 * Pushes and deletes are audited like every write; reads are sampled like `/data` reads (one
 * entry per caller, config and outcome per minute, SPEC §14).
 */
function installAudit(app: FastifyInstance, deps: Pick<EsoRouteDeps, 'audit' | 'clock' | 'basePath'>): void {
  const lastRead = new Map<string, number>();
  app.addHook('onResponse', (request, reply, done) => {
    const caller = callers.get(request);
    const target = targets.get(request) ?? '';
    const route = request.routeOptions.url?.slice(deps.basePath.length) ?? '/eso/*';
    const entry = { action: `${request.method} ${route}`, actor: caller?.actor ?? 'anonymous', actor_type: caller?.actorType ?? 'anonymous', target, status: reply.statusCode, ip: request.ip, request_id: request.id };
    if (WRITES.has(request.method)) deps.audit.record(entry);
    else {
      const key = `${caller?.actor ?? `ip:${request.ip}`}\u0000${target}\u0000${reply.statusCode}`;
      const now = deps.clock();
      if ((lastRead.get(key) ?? 0) <= now - AUDIT_SAMPLE_MS) {
        if (lastRead.size > 10_000) lastRead.clear();
        lastRead.set(key, now);
        deps.audit.record({ ...entry, detail: 'sampled: one entry per caller, config and outcome per minute' });
      }
    }
    done();
  });
}

/**
 * Push bodies: JSON `{"value": …}` (numbers kept as written), raw bytes as
 * `application/octet-stream`, or raw bytes without a Content-Type (what ESO sends unless the store
 * sets one). Other types are refused.
 */
function installBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseDocumentExact(body as string, 'json'));
    } catch {
      done(new AppError('ERR_MALFORMED_BODY'), undefined);
    }
  });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    if (request.headers['content-type'] === undefined) done(null, body);
    else done(new AppError('ERR_UNSUPPORTED_MEDIA_TYPE', 'send application/json {"value": …}, application/octet-stream, or no Content-Type'), undefined);
  });
}

function contentOf(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  const value = (body as { value: unknown }).value;
  return Buffer.from(typeof value === 'string' ? value : writeJsonExact(value), 'utf8');
}
