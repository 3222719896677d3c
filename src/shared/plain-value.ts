/**
 * Parser output → the JSON data model the rest of the server works in (merging, picking,
 * converting, sending over the API). smol-toml is the reason this exists: it returns
 * null-prototype objects, `TomlDate` instances and (when asked) bigints.
 *
 * Decisions, so all three formats behave alike:
 * - dates and times become their ISO string (`TomlDate.toISOString()` keeps the TOML flavour:
 *   `1979-05-27`, `07:32:00.000`, `1979-05-27T07:32:00.000-08:00`), as YAML's core schema and
 *   JSON already give strings;
 * - bigints become numbers, rounding past 2^53 exactly like `JSON.parse` and YAML do, rather than
 *   rejecting a valid document;
 * - NaN and ±Infinity stay numbers (YAML and TOML can hold them); serializing them to JSON is
 *   refused by serializable.ts instead of silently turning into `null`.
 */

/** Own enumerable property, even for a key named `__proto__` (plain assignment would set the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Deep copy of parser output in the JSON data model; input must be acyclic (parsers' output is). */
export function toPlainValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toPlainValue);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) setOwn(out, key, toPlainValue(value[key]));
    return out;
  }
  return value;
}
