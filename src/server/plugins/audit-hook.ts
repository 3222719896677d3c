import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorName, actorType } from '../services/access/principal.ts';
import type { AuditService } from '../services/audit/audit-service.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Audits every state-changing request of a route scope (SPEC §14) after it is answered, with the
 * route pattern as the action and the path or id it touched as the target. Sign-in routes write
 * their own, richer entries and are skipped here.
 */
export function installAuditHook(app: FastifyInstance, deps: { readonly audit: Pick<AuditService, 'record'>; readonly basePath: string }): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? request.url.split('?')[0] ?? '';
    const pattern = route.startsWith(deps.basePath) ? route.slice(deps.basePath.length) : route;
    if (!SAFE_METHODS.has(request.method) && !pattern.startsWith('/login/') && pattern !== '/logout') {
      deps.audit.record({
        action: `${request.method} ${pattern}`,
        actor: actorName(request.principal),
        actor_type: actorType(request.principal),
        target: targetOf(request),
        status: reply.statusCode,
        ip: request.ip,
        request_id: request.id,
      });
    }
    done();
  });
}

function targetOf(request: FastifyRequest): string | undefined {
  const params = request.params as Record<string, string | undefined> | undefined;
  const value = params?.['*'] ?? params?.id ?? params?.user;
  const variant = (request.query as Record<string, unknown> | undefined)?.variant;
  if (value === undefined) return undefined;
  return typeof variant === 'string' && variant !== '' ? `${value}@${variant}` : value;
}
