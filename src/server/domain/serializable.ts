/**
 * Refuses values a target format cannot hold *before* stringifying, because the stringifiers
 * would otherwise lose data quietly: JSON turns NaN/Infinity into `null`, smol-toml drops
 * `null` members, and cycles either overflow the stack or become YAML aliases. The error names
 * the key path so the user can find the offending value.
 */
import { AppError } from '../../shared/errors.ts';
import { isPlainObject } from '../../shared/plain-value.ts';
import type { ParsedFormat } from './syntax-errors.ts';

function keyPath(path: readonly string[]): string {
  return path.length === 0 ? 'the top level' : `"${path.join('.')}"`;
}

function convertError(message: string, path: readonly string[]): AppError {
  return new AppError('ERR_CONVERT', message, { details: { path: path.join('.') } });
}

/** What is wrong with a single (non-container) value in `format`, if anything. */
function scalarProblem(value: unknown, format: ParsedFormat): string | undefined {
  switch (typeof value) {
    case 'function':
    case 'symbol':
      return `a ${typeof value} cannot be serialized`;
    case 'undefined':
      return format === 'toml' ? 'TOML arrays cannot hold undefined' : undefined;
    case 'bigint':
      return format === 'json' ? 'JSON cannot hold a bigint' : undefined;
    case 'number':
      return format === 'json' && !Number.isFinite(value) ? `JSON cannot hold ${value}` : undefined;
    default:
      return value === null && format === 'toml' ? 'TOML cannot hold null' : undefined;
  }
}

interface Walk {
  format: ParsedFormat;
  path: string[];
  ancestors: Set<object>;
}

function check(value: unknown, walk: Walk): void {
  if (typeof value !== 'object' || value === null) {
    const problem = scalarProblem(value, walk.format);
    if (problem !== undefined) throw convertError(`${problem} (at ${keyPath(walk.path)})`, walk.path);
    return;
  }
  if (walk.ancestors.has(value)) throw convertError(`the value contains a cycle (at ${keyPath(walk.path)})`, walk.path);
  walk.ancestors.add(value);
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((item, index): [string, unknown] => [String(index), item])
    : Object.entries(value);
  for (const [key, item] of entries) {
    // Every stringifier leaves out undefined members, which is what a caller expects; only
    // undefined array elements are a problem (TOML rejects them, JSON/YAML write null).
    if (item === undefined && !Array.isArray(value)) continue;
    walk.path.push(key);
    check(item, walk);
    walk.path.pop();
  }
  walk.ancestors.delete(value);
}

/** Throws ERR_CONVERT when `value` cannot be written as `format` without losing data. */
export function assertSerializable(value: unknown, format: ParsedFormat): void {
  if (value === undefined) throw convertError('there is no value to serialize', []);
  if (format === 'toml' && !isPlainObject(value)) throw convertError('TOML needs a table at the top level', []);
  check(value, { format, path: [], ancestors: new Set() });
}
