import type { TSchema } from 'typebox';
import { clearFlag, setFlag } from './secret-fields.ts';

/**
 * The request and response schemas of a settings section, derived from its stored schema so the
 * three never disagree: writes may add `clear_<secret>: true` (and leave secrets out); reads carry
 * `<secret>_set: boolean` in place of the secret.
 */
type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; items?: Schema; required?: string[]; 'x-secret'?: boolean };
type Replace = (field: string, secret: Schema) => Record<string, Schema>;

function transform(schema: Schema, replace: Replace): Schema {
  const out: Schema = { ...schema };
  if (schema.items) out.items = transform(schema.items, replace);
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).flatMap(([key, child]) => (child['x-secret'] ? Object.entries(replace(key, child)) : [[key, transform(child, replace)]])),
    );
    if (schema.required) out.required = schema.required.filter((r) => !schema.properties?.[r]?.['x-secret']);
  }
  return out;
}

export function inputSchema(schema: TSchema): TSchema {
  return transform(schema as unknown as Schema, (field, secret) => ({
    [field]: secret,
    [clearFlag(field)]: { type: 'boolean', description: `remove the stored ${field}` },
  }));
}

export function viewSchema(schema: TSchema): TSchema {
  return transform(schema as unknown as Schema, (field) => ({
    [setFlag(field)]: { type: 'boolean', description: `whether ${field} is stored (it is never returned)` },
  }));
}
