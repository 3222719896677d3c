import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { CAPABILITIES } from '../../../shared/capabilities.ts';
import { VERSION } from '../../../shared/version.ts';
import { actorName } from '../../services/access/principal.ts';
import type { UserService } from '../../services/identity/user-service.ts';

export interface SystemRouteDeps {
  readonly users: Pick<UserService, 'hasAnyUser'>;
  readonly basePath: string;
  /** True when encryption.password_file could not unlock the server (seed 001). */
  readonly encryption: { readonly configInvalid: boolean };
  readonly serverId: () => string;
}

const InfoSchema = Type.Object({
  name: Type.String(),
  version: Type.String(),
  server_id: Type.String({ description: 'Stable random id of this server (its data), kept across restarts and restores' }),
  base_path: Type.String(),
  user: Type.Optional(Type.String()),
  user_id: Type.Optional(Type.String()),
  actor_type: Type.Optional(Type.String()),
  auth_enabled: Type.Boolean(),
  builtin_auth: Type.Boolean(),
  is_superadmin: Type.Boolean(),
  permissions: Type.Array(Type.String()),
  patterns: Type.Record(Type.String(), Type.Array(Type.String())),
  capabilities: Type.Array(Type.Object({ key: Type.String(), description: Type.String(), path_scoped: Type.Boolean() })),
  setup_required: Type.Optional(Type.Boolean()),
  local_login_name: Type.String(),
  encryption_config_invalid: Type.Optional(Type.Boolean()),
});

/** `/api/v1/info`: the UI's boot document; always answered, even while locked (SPEC §7.3). */
export function registerSystemRoutes(app: FastifyInstance, deps: SystemRouteDeps): void {
  app.get('/api/v1/info', { schema: { tags: ['system'], summary: 'Boot document: version, caller, permissions, first-run state', response: { 200: InfoSchema } } }, async (request) => {
    const principal = request.principal;
    const report = principal?.perms.report();
    const body: Record<string, unknown> = {
      name: 'pika',
      version: VERSION,
      server_id: deps.serverId(),
      base_path: deps.basePath,
      auth_enabled: true,
      builtin_auth: true,
      is_superadmin: principal?.perms.superadmin ?? false,
      permissions: report?.capabilities ?? [],
      patterns: report?.patterns ?? {},
      capabilities: CAPABILITIES.map((c) => ({ key: c.key, description: c.description, path_scoped: c.pathScoped })),
      local_login_name: 'local',
    };
    if (deps.encryption.configInvalid) body.encryption_config_invalid = true;
    if (principal) {
      body.user = actorName(principal);
      const userId = principal.kind === 'token' ? principal.token.id : principal.user?.id;
      if (userId !== undefined) body.user_id = userId;
      body.actor_type = principal.kind;
    } else if (!(await deps.users.hasAnyUser())) body.setup_required = true;
    return body;
  });
}

export function registerHealthRoute(app: FastifyInstance): void {
  app.get('/healthz', { schema: { tags: ['system'], summary: 'Liveness probe', response: { 200: Type.String() } } }, async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send('OK'),
  );
}
