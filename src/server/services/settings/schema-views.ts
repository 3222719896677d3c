import type { TSchema } from 'typebox';
import { clearFlag, setFlag } from './secret-fields.ts';

/**
 * The request and response schemas of a settings section, derived from its stored schema so the
 * three never disagree: writes may add `clear_<secret>: true` (and leave secrets out); reads carry
 * `<secret>_set: boolean` in place of the secret.
 */
type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; items?: Schema; required?: string[]; 'x-secret'?: boolean };

function transform(schema: Schema, onSecret: (field: string, props: Record<string, Schema>) => void): Schema {
  const out: Schema = { ...schema };
  if (schema.items) out.items = transform(schema.items, onSecret);
  if (schema.properties) {
    const props: Record<string, Schema> = {};
    for (const [key, child] of Object.entries(schema.properties)) props[key] = child['x-secret'] ? child : transform(child, onSecret);
    for (const [key, child] of Object.entries(schema.properties)) if (child['x-secret']) onSecret(key, props);
    out.properties = props;
    if (schema.required) out.required = schema.required.filter((r) => !schema.properties?.[r]?.['x-secret']);
  }
  return out;
}

export function inputSchema(schema: TSchema): TSchema {
  return transform(schema as unknown as Schema, (field, props) => {
    props[clearFlag(field)] = { type: 'boolean', description: `remove the stored ${field}` };
  }) as unknown as TSchema;
}

export function viewSchema(schema: TSchema): TSchema {
  return transform(schema as unknown as Schema, (field, props) => {
    delete props[field];
    props[setFlag(field)] = { type: 'boolean', description: `whether ${field} is stored (it is never returned)` };
  }) as unknown as TSchema;
}
