import { type TSchema, Type } from 'typebox';

/** A secret field of a settings section: sealed in place, never returned (secret-fields.ts). */
export function Secret(description: string): TSchema {
  return Type.String({ maxLength: 65_536, description, 'x-secret': true });
}
