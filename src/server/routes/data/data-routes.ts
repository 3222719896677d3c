import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { fileKeyOf, normalizeConfigPath, normalizeVariant } from '../../domain/config-path.ts';
import { parseFormat } from '../../domain/formats.ts';
import { parseVersionSelector } from '../../domain/semver-select.ts';
import type { Authenticator } from '../../plugins/auth.ts';
import type { AuditService } from '../../services/audit/audit-service.ts';
import type { Permissions } from '../../services/access/permissions.ts';
import type { Principal } from '../../services/access/principal.ts';
import type { ConfigService } from '../../services/configs/config-service.ts';
import type { PermissionResolver } from '../../services/identity/permission-resolver.ts';
import type { TokenService } from '../../services/identity/token-service.ts';
import { errors } from '../common-schemas.ts';
import { createDataMemo, type MemoEntry } from './data-memo.ts';

export interface DataRouteDeps {
  readonly configs: Pick<ConfigService, 'read' | 'isLive'>;
  readonly authenticator: Authenticator;
  readonly audit: Pick<AuditService, 'record'>;
  readonly tokens: Pick<TokenService, 'touch'>;
  readonly permissions: Pick<PermissionResolver, 'generation'>;
  readonly clock: () => number;
  /** Read permissions of a caller without a token (the public port's `public_paths`), if any. */
  readonly anonymousReader?: (request: FastifyRequest) => Permissions | undefined;
}

const DataQuery = Type.Object(
  {
    version: Type.Optional(Type.String({ maxLength: 64 })),
    variant: Type.Optional(Type.String({ maxLength: 64 })),
    format: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: true },
);

const AUDIT_SAMPLE_MS = 60_000;

/** The resolved config in its stored format, or the one `format` asks for (seed 000's table). */
const DataResponse = {
  description: 'The resolved config; ETag is a hash of the body, X-Pika-Version the version served',
  content: Object.fromEntries(
    ['application/json', 'application/x-yaml', 'application/toml', 'application/octet-stream'].map((type) => [type, { schema: Type.String() }]),
  ),
};

/**
 * `GET /data/<path>` (SPEC §5): the consumer read API, token only. Answers with the resolved config,
 * an ETag, and 304 for a matching If-None-Match. ESO's webhook provider query-escapes the key it
 * puts into a templated URL, so `/data/app%2Fconfig%3Fvariant%3Dprod` is understood as
 * `/data/app/config?variant=prod` (explicit query parameters win). Repeated reads are answered
 * from a memo of the checked outcome (data-memo.ts).
 */
export function registerDataRoutes(app: FastifyInstance, deps: DataRouteDeps): void {
  const lastAudit = new Map<string, number>();
  const memo = createDataMemo({ generation: deps.permissions.generation, isLive: deps.configs.isLive, clock: deps.clock });

  /**
   * Reads are audited sampled (SPEC §14): one entry per caller, config and outcome per minute.
   * The caller is the token id when known, else the client address (refused tokens).
   */
  function sampleAudit(request: FastifyRequest, who: { actor: string; id: string }, target: string, status: number): void {
    const key = `${who.id}\u0000${target}\u0000${status}`;
    const now = deps.clock();
    if ((lastAudit.get(key) ?? 0) > now - AUDIT_SAMPLE_MS) return;
    if (lastAudit.size > 10_000) lastAudit.clear();
    lastAudit.set(key, now);
    const actorType = who.actor === 'anonymous' ? 'anonymous' : 'token';
    deps.audit.record({ action: 'GET /data/*', actor: who.actor, actor_type: actorType, target, status, ip: request.ip, request_id: request.id, detail: 'sampled: one entry per caller, config and outcome per minute' });
  }

  function serve(request: FastifyRequest, reply: FastifyReply, entry: Omit<MemoEntry, 'generation'>): FastifyReply {
    if (entry.tokenId !== undefined) deps.tokens.touch(entry.tokenId);
    const { response } = entry;
    const notModified = etagMatches(request.headers['if-none-match'], response.etag);
    sampleAudit(request, { actor: entry.actor, id: entry.tokenId ?? `ip:${request.ip}` }, entry.target, notModified ? 304 : 200);
    void reply.headers({ etag: response.etag, 'x-pika-version': String(response.version), 'cache-control': 'no-cache' });
    if (notModified) return reply.code(304).send();
    return reply.type(response.contentType).send(response.body);
  }

  const unauthenticated = () => new AppError('ERR_UNAUTHENTICATED', 'send an API token: Authorization: Bearer pika_…');

  /** The token's principal; undefined only for a token-less caller who may read public paths. */
  async function authenticate(request: FastifyRequest): Promise<Extract<Principal, { kind: 'token' }> | undefined> {
    try {
      const principal = await deps.authenticator.authenticate(request, { tokenOnly: true });
      if (principal?.kind === 'token') return principal;
      if (deps.anonymousReader?.(request) === undefined) throw unauthenticated();
      return undefined;
    } catch (err) {
      // Unknown, disabled, expired and orphaned tokens are refusals worth a trail too.
      if (err instanceof AppError) refused(request, err.status);
      throw err;
    }
  }

  function refused(request: FastifyRequest, status: number): void {
    sampleAudit(request, { actor: 'anonymous', id: `ip:${request.ip}` }, request.url.split('?', 1)[0]?.slice(0, 512) ?? '', status);
  }

  /** A token-less caller on the public port: only configs under `public_paths`. */
  function anonymousFor(request: FastifyRequest, target: string): Permissions {
    const perms = deps.anonymousReader?.(request);
    if (perms?.can('files.read', target, 'read')) return perms;
    refused(request, 401);
    throw unauthenticated();
  }

  async function resolve(request: FastifyRequest): Promise<Omit<MemoEntry, 'generation'>> {
    const principal = await authenticate(request);
    const { ref, format, query } = parseRequest(request);
    const target = fileKeyOf(ref.path, ref.variant);
    const actor = principal ? `token:${principal.token.name}` : 'anonymous';
    const perms = principal?.perms ?? anonymousFor(request, target);
    try {
      const response = await deps.configs.read(perms, ref, parseVersionSelector(query.version), format);
      return { response, tokenId: principal?.token.id, expiresAt: principal?.validUntil ?? Infinity, actor, target };
    } catch (err) {
      if (err instanceof AppError && err.status === 403) sampleAudit(request, { actor, id: principal?.token.id ?? `ip:${request.ip}` }, target, 403);
      throw err;
    }
  }

  app.get('/data/*', { schema: { tags: ['data'], summary: 'Read a resolved config with an API token', querystring: DataQuery, response: { 200: DataResponse, 304: { description: 'Not modified (If-None-Match matched the ETag)', type: 'null' }, ...errors(400, 401, 403, 404, 502, 503) } } }, async (request, reply) => {
    const authorization = request.headers.authorization;
    const remembered = memo.lookup(authorization, request.url);
    if (remembered) return serve(request, reply, remembered);
    // Read before the checks: an identity change while they run makes the memo entry stale at once.
    const generation = deps.permissions.generation();
    const entry = await resolve(request);
    if (authorization !== undefined) memo.remember(authorization, request.url, entry, generation);
    return serve(request, reply, entry);
  });
}

/** The config, format and query of a `/data` request (query parameters may sit inside the path). */
function parseRequest(request: FastifyRequest) {
  const { path, query } = splitTemplatedPath((request.params as Record<string, string>)['*'] ?? '', request.query as Record<string, string | undefined>);
  const variant = query.variant === undefined || query.variant === '' ? undefined : normalizeVariant(query.variant);
  const format = query.format === undefined || query.format === '' ? undefined : parseFormat(query.format);
  return { ref: { path: normalizeConfigPath(path), variant }, format, query };
}

/** Splits a decoded wildcard that carries its own `?query` (ESO templating) into path and query. */
export function splitTemplatedPath(wildcard: string, query: Record<string, string | undefined>): { path: string; query: Record<string, string | undefined> } {
  const at = wildcard.indexOf('?');
  if (at === -1) return { path: wildcard, query };
  const embedded = Object.fromEntries(new URLSearchParams(wildcard.slice(at + 1)));
  const explicit = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== ''));
  return { path: wildcard.slice(0, at), query: { ...embedded, ...explicit } };
}

/** If-None-Match: a list of (possibly weak) tags, or `*`. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}
