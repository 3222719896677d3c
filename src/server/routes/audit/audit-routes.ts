import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { requireCap } from '../../plugins/auth.ts';
import type { AuditService } from '../../services/audit/audit-service.ts';
import { errors, PagingQuery } from '../common-schemas.ts';

const Entry = Type.Object({
  id: Type.String(),
  time: Type.String(),
  action: Type.String(),
  actor: Type.String(),
  actor_type: Type.String(),
  target: Type.Optional(Type.String()),
  status: Type.Integer(),
  ip: Type.Optional(Type.String()),
  request_id: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
});
const Query = Type.Object(
  {
    ...PagingQuery,
    actor: Type.Optional(Type.String({ maxLength: 128 })),
    action: Type.Optional(Type.String({ maxLength: 128 })),
    'time[gte]': Type.Optional(Type.String({ maxLength: 40 })),
    'time[lte]': Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);

/** `GET /api/v1/audit` (`settings.manage`): newest first, filter by actor, action and time. */
export function registerAuditRoutes(app: FastifyInstance, deps: { readonly audit: Pick<AuditService, 'query'>; readonly retentionMs: number }): void {
  app.get('/api/v1/audit', { schema: { tags: ['audit'], summary: 'Audit log, newest first (filter by actor, action, time)', querystring: Query, response: { 200: Type.Object({ entries: Type.Array(Entry), total: Type.Integer() }), ...errors(400, 401, 403) } } }, async (request) => {
    requireCap(request, 'settings.manage');
    const q = request.query as Record<string, string | number | undefined>;
    return deps.audit.query({
      limit: Number(q._limit ?? 50),
      offset: Number(q._offset ?? 0),
      actor: q.actor as string | undefined,
      action: q.action as string | undefined,
      since: parseTime(q['time[gte]'] as string | undefined, 'time[gte]'),
      until: parseTime(q['time[lte]'] as string | undefined, 'time[lte]'),
    });
  });

  app.get('/api/v1/audit/retention', { schema: { tags: ['audit'], summary: 'How long audit entries are kept', response: { 200: Type.Object({ retention_hours: Type.Number() }), ...errors(401, 403) } } }, async (request) => {
    requireCap(request, 'settings.manage');
    return { retention_hours: deps.retentionMs / 3_600_000 };
  });
}

/** RFC 3339 or unix seconds. */
function parseTime(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
  if (Number.isNaN(ms)) throw new AppError('ERR_VALIDATION', `${field}: expected RFC 3339 or unix seconds`);
  return ms;
}
