import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireCap } from '../../plugins/auth.ts';
import { actorName, actorType } from '../../services/access/principal.ts';
import type { UserSync } from '../../services/ldap/user-sync.ts';
import { errors } from '../common-schemas.ts';

const SourceParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }) });

const Count = Type.Integer({ minimum: 0 });
export const SyncResultSchema = Type.Object({
  source: Type.String(),
  started_at: Type.String({ format: 'date-time' }),
  finished_at: Type.String({ format: 'date-time' }),
  trigger: Type.String({ description: 'username, token:<name> or scheduler' }),
  created: Count,
  updated: Count,
  disabled: Count,
  enabled: Count,
  unchanged: Count,
  errors: Type.Array(Type.String()),
});

const StatusSchema = Type.Object({
  sources: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      enabled: Type.Boolean(),
      mode: Type.String({ description: 'manual or interval' }),
      interval_minutes: Type.Integer(),
      running: Type.Boolean(),
      last: Type.Union([SyncResultSchema, Type.Null()]),
    }),
  ),
});

/**
 * LDAP user sync (`users.manage`; seed 002 "User sync"): run a source now, and the last result
 * of every configured source. Sources themselves are edited in the settings (`auth.user_sync`).
 */
export function registerUserSyncRoutes(app: FastifyInstance, deps: { readonly userSync: Pick<UserSync, 'run' | 'lastResults'> }): void {
  app.post(
    '/api/v1/user-sync/run/:id',
    { schema: { tags: ['users'], summary: 'Run one user-sync source now and return its result (502 when the directory fails)', params: SourceParams, response: { 200: SyncResultSchema, ...errors(401, 403, 404, 409, 502) } } },
    async (request) => {
      requireCap(request, 'users.manage');
      const trigger = { actor: actorName(request.principal), actorType: actorType(request.principal) };
      return deps.userSync.run((request.params as { id: string }).id, trigger);
    },
  );

  app.get('/api/v1/user-sync/status', { schema: { tags: ['users'], summary: 'The last result of every configured user-sync source', response: { 200: StatusSchema, ...errors(401, 403) } } }, async (request) => {
    requireCap(request, 'users.manage');
    const results = await deps.userSync.lastResults();
    return {
      sources: results.map(({ source, last, running }) => ({ id: source.id, name: source.name, enabled: source.enabled, mode: source.schedule.mode, interval_minutes: source.schedule.interval_minutes, running, last: last ?? null })),
    };
  });
}
