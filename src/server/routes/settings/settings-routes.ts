import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireCap } from '../../plugins/auth.ts';
import { inputSchema, viewSchema } from '../../services/settings/schema-views.ts';
import { SECTION_NAMES, SECTIONS } from '../../services/settings/settings-sections.ts';
import type { SettingsPatch, SettingsService } from '../../services/settings/settings-service.ts';
import { errors } from '../common-schemas.ts';

const SettingsView = Type.Object(Object.fromEntries(SECTION_NAMES.map((name) => [name, viewSchema(SECTIONS[name].schema)])));
const SettingsPatchBody = Type.Object(
  {
    action: Type.Optional(Type.Enum(['set', 'remove'], { description: 'set (default) replaces the named sections; remove resets them to defaults' })),
    ...Object.fromEntries(SECTION_NAMES.map((name) => [name, Type.Optional(inputSchema(SECTIONS[name].schema))])),
  },
  { additionalProperties: false },
);

/** The settings document (`settings.manage`; SPEC §7.2, upstream-pika.md §1.9). */
export function registerSettingsRoutes(app: FastifyInstance, deps: { readonly settings: SettingsService }): void {
  app.get('/api/v1/settings', { schema: { tags: ['settings'], summary: 'The settings document; secrets appear only as <field>_set', response: { 200: SettingsView, ...errors(401, 403) } } }, async (request) => {
    requireCap(request, 'settings.manage');
    return deps.settings.view();
  });

  app.post(
    '/api/v1/settings',
    { schema: { tags: ['settings'], summary: 'Replace or reset sections; blank secrets keep, clear_<field> removes', body: SettingsPatchBody, response: { 200: SettingsView, ...errors(400, 401, 403, 409, 503) } } },
    async (request) => {
      requireCap(request, 'settings.manage');
      const { action = 'set', ...sections } = request.body as { action?: 'set' | 'remove' } & SettingsPatch;
      await deps.settings.update(sections, action);
      return deps.settings.view();
    },
  );
}
