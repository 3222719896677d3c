import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { requireCap } from '../../plugins/auth.ts';
import { actorName, actorType } from '../../services/access/principal.ts';
import type { AuditService } from '../../services/audit/audit-service.ts';
import { DEFAULT_LIMITS } from '../../services/backup/archive-payload.ts';
import type { BackupService, RestoreMode } from '../../services/backup/backup-service.ts';
import { errors } from '../common-schemas.ts';

export interface BackupRouteDeps {
  readonly backup: Pick<BackupService, 'create' | 'restore'>;
  readonly audit: Pick<AuditService, 'record'>;
}

/** The restore body limit: the archive size limit, which the writer also keeps to (1 GiB). */
export const MAX_RESTORE_BYTES = DEFAULT_LIMITS.maxArchiveBytes;
const MAX_PASSWORD = 4096;

const PasswordQuery = { encryption_password: Type.Optional(Type.String({ maxLength: MAX_PASSWORD, description: 'prefer the X-Encryption-Password header: query strings end up in proxy logs' })) };
const BackupQuery = Type.Object(PasswordQuery, { additionalProperties: false });
const RestoreQuery = Type.Object({ ...PasswordQuery, wipe: Type.Optional(Type.Boolean({ description: 'wipe mode: delete everything the archive does not hold (default: merge)' })) }, { additionalProperties: false });
const PasswordHeader = { 'x-encryption-password': Type.Optional(Type.String({ maxLength: MAX_PASSWORD, description: 'the archive password (UTF-8); empty or absent: not encrypted' })) };
const BackupHeaders = Type.Object(PasswordHeader);
const RestoreHeaders = Type.Object({ ...PasswordHeader, 'x-pika-wipe': Type.Optional(Type.String({ pattern: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$', description: 'true: wipe mode, like ?wipe=true' })) });
const RestoreResult = Type.Object({ ok: Type.Boolean(), mode: Type.Enum(['merge', 'wipe']), entries: Type.Integer() });
// Raw bytes: "format" only applies to strings, so the Buffer the parser hands over validates.
const ArchiveBody = { content: { 'application/octet-stream': { schema: { format: 'binary', description: 'a .pikabak archive as produced by GET /api/v1/backup' } } } };
const ArchiveResponse = { description: 'The archive (docs/backup.md), as an attachment', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } };

/**
 * `GET /api/v1/backup` and `POST /api/v1/backup` (`settings.manage`; SPEC §7.4, docs/backup.md).
 * The restore route lives in its own scope so only it accepts `application/octet-stream` and the
 * 1 GiB body limit.
 */
export async function registerBackupRoutes(app: FastifyInstance, deps: BackupRouteDeps): Promise<void> {
  app.get(
    '/api/v1/backup',
    {
      schema: { tags: ['backup'], summary: 'Download an archive of everything but sessions; X-Encryption-Password encrypts it', querystring: BackupQuery, headers: BackupHeaders, response: { 200: ArchiveResponse, ...errors(400, 401, 403, 413, 503) } },
      // Reads are not audited by the scope's hook, but taking every secret home is worth a line.
      onResponse: (request, reply, done) => {
        deps.audit.record({ action: 'GET /api/v1/backup', actor: actorName(request.principal), actor_type: actorType(request.principal), status: reply.statusCode, ip: request.ip, request_id: request.id, detail: passwordOf(request) ? 'encrypted' : 'not encrypted' });
        done();
      },
    },
    async (request, reply) => {
      requireCap(request, 'settings.manage');
      const backup = await deps.backup.create(passwordOf(request));
      return reply
        .headers({ 'content-disposition': `attachment; filename="${backup.filename}"`, 'x-pika-backup-entries': String(backup.entries) })
        .type('application/octet-stream')
        .send(backup.bytes);
    },
  );

  await app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_RESTORE_BYTES }, (_request, body, done) => {
      done(null, body);
    });
    scope.post(
      '/api/v1/backup',
      {
        // The 1 GiB limit sits on the octet-stream parser, not the route: a JSON body sent here
        // keeps the server-wide limit, like everywhere else.
        schema: { tags: ['backup'], summary: 'Restore an archive: merge (default) or wipe (?wipe=true / X-Pika-Wipe: true); checks it all before writing', querystring: RestoreQuery, headers: RestoreHeaders, body: ArchiveBody, response: { 200: RestoreResult, ...errors(400, 401, 403, 413, 415, 503) } },
      },
      async (request) => {
        requireCap(request, 'settings.manage');
        const body: unknown = request.body;
        if (!Buffer.isBuffer(body)) throw new AppError('ERR_UNSUPPORTED_MEDIA_TYPE', 'send the archive as Content-Type: application/octet-stream');
        const mode = modeOf(request);
        const result = await deps.backup.restore(body, { password: passwordOf(request), mode });
        return { ok: true, ...result };
      },
    );
  });
}

/**
 * The archive password: the header (kept out of access logs) or the query parameter (redacted
 * by the logger). Empty means none; the schemas bound the length.
 */
function passwordOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-encryption-password'];
  const fromHeader = typeof header === 'string' && header !== '' ? headerText(header) : undefined;
  const fromQuery = (request.query as { encryption_password?: string } | undefined)?.encryption_password;
  return fromHeader ?? (fromQuery === '' ? undefined : fromQuery);
}

/**
 * Node hands header bytes over as Latin-1. Clients that send UTF-8 (curl, most tools) mean the
 * bytes as UTF-8, so those are decoded as such; bytes that are not valid UTF-8 come from a Latin-1
 * client (fetch sends 'ä' as one byte) and are kept. Either way a non-ASCII password means the
 * same as in the (always UTF-8) query string.
 */
function headerText(value: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

/** Either `?wipe=true` or `X-Pika-Wipe: true` asks for wipe (the schemas validated both). */
function modeOf(request: FastifyRequest): RestoreMode {
  const header = request.headers['x-pika-wipe'];
  const query = (request.query as { wipe?: boolean }).wipe;
  return query === true || (typeof header === 'string' && header.toLowerCase() === 'true') ? 'wipe' : 'merge';
}
