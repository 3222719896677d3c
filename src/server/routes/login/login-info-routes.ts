import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { VERSION } from '../../../shared/version.ts';
import { listStrategies } from '../../services/identity/strategy-list.ts';
import type { UserService } from '../../services/identity/user-service.ts';
import type { SettingsService } from '../../services/settings/settings-service.ts';

const LoginInfoSchema = Type.Object({
  title: Type.String(),
  version: Type.String(),
  signup_first: Type.Boolean(),
  strategies: Type.Array(
    Type.Object({
      name: Type.String(),
      kind: Type.String(),
      label: Type.String(),
      url: Type.String(),
      fields: Type.Array(Type.String()),
      register: Type.Optional(Type.Object({ url: Type.String(), fields: Type.Array(Type.String()) })),
      collapsed: Type.Optional(Type.Boolean()),
    }),
  ),
});

/** `GET /login/info`: what the sign-in page needs, read from the settings on every call (hot-swap). */
export function registerLoginInfoRoute(app: FastifyInstance, deps: { readonly users: Pick<UserService, 'hasAnyUser'>; readonly settings: Pick<SettingsService, 'auth'>; readonly basePath: string }): void {
  app.get('/login/info', { schema: { tags: ['login'], summary: 'Sign-in strategies and first-run state', response: { 200: LoginInfoSchema } } }, async () => ({
    title: 'pika',
    version: VERSION,
    signup_first: !(await deps.users.hasAnyUser()),
    strategies: listStrategies(await deps.settings.auth(), deps.basePath),
  }));
}
