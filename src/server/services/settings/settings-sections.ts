import { type TSchema, Type } from 'typebox';
import { AUTH_DEFAULTS, AuthSection } from './auth-section.ts';

export { Secret } from './secret.ts';

/**
 * The settings document (SPEC §7.2, upstream-pika.md §1.9/§2.3): runtime configuration edited
 * through `POST /api/v1/settings`, one stored record per section. A field made with `Secret()`
 * is sealed in place under the server key, never returned (reads show `<field>_set`), kept when
 * a write leaves it blank, and removed with `clear_<field>: true`. Array items that hold secrets
 * are matched between writes by their `name`, so reordering a list never mixes secrets up.
 *
 * Sections are listed in SECTIONS; later features (hooks, externals, more auth strategies) add
 * their own entries here.
 */
export const SECTIONS = {
  event_log: {
    schema: Type.Object({ disabled: Type.Boolean({ default: false }) }, { additionalProperties: false }),
    defaults: { disabled: false },
  },
  auth: { schema: AuthSection, defaults: AUTH_DEFAULTS },
} as const satisfies Record<string, { schema: TSchema; defaults: unknown }>;

export type SectionName = keyof typeof SECTIONS;
export const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];

export function isSectionName(name: string): name is SectionName {
  return Object.hasOwn(SECTIONS, name);
}
