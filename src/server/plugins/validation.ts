import { Ajv, type Options } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

/**
 * Schema-first validation (SPEC §2). Bodies are validated strictly — no type coercion and no
 * silently dropped fields, so a wrong type or an unknown field is a 400 the client can see.
 * Query strings and path parameters arrive as text and are coerced to the schema's types.
 */
const shared: Options = { allErrors: true, strict: false, removeAdditional: false, useDefaults: true };

export function installValidators(app: FastifyInstance): void {
  const strict = addFormats(new Ajv({ ...shared, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...shared, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    return ajv.compile(schema as FastifySchema & object);
  });
}
