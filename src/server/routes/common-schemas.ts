import { Type } from 'typebox';
import { CAPABILITY_KEYS } from '../../shared/capabilities.ts';

/** Schemas several route areas share. */
export const ErrorSchema = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    request_id: Type.Optional(Type.String()),
    details: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { $id: 'Error', description: 'Every error response' },
);

export const CapabilitySchema = Type.Enum([...CAPABILITY_KEYS]);

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });

export const PagingQuery = {
  _limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  _offset: Type.Optional(Type.Integer({ minimum: 0 })),
};

/** Standard error responses a route may produce, for the OpenAPI document. */
export function errors(...statuses: number[]): Record<number, typeof ErrorSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorSchema]));
}

export const OkSchema = Type.Object({ ok: Type.Boolean() });
