import { Ajv, type Options } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { FastifyInstance, FastifyRequest, FastifySchema, preValidationHookHandler } from 'fastify';
import { AppError } from '../../shared/errors.ts';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

/**
 * Schema-first validation (SPEC §2). Bodies are validated strictly — no type coercion and no
 * silently dropped fields, so a wrong type or an unknown field is a 400 the client can see.
 * Query strings and path parameters arrive as text and are coerced to the schema's types.
 * A route that declares no body refuses one instead of ignoring it, and only JSON bodies are
 * parsed (routes that take raw bytes register their own parser).
 */
const shared: Options = { allErrors: true, strict: false, removeAdditional: false, useDefaults: true };

export function installValidators(app: FastifyInstance): void {
  const strict = addFormats(new Ajv({ ...shared, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...shared, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    return ajv.compile(schema as FastifySchema & object);
  });
  app.removeContentTypeParser('text/plain');
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.schema?.body !== undefined || methods.every((m) => m === 'GET' || m === 'HEAD')) return;
    const existing = route.preValidation ?? [];
    route.preValidation = [...(Array.isArray(existing) ? existing : [existing]), refuseBody];
  });
}

const refuseBody: preValidationHookHandler = (request: FastifyRequest, _reply, done) => {
  const body: unknown = request.body;
  const empty = body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0);
  done(empty ? undefined : new AppError('ERR_VALIDATION', 'this endpoint takes no request body'));
};
