/**
 * Parsing that keeps numbers exactly as written, for readers that hand values on as text (the
 * ESO endpoint, SPEC §13.2). The ordinary parsers (formats.ts) turn every number into a double,
 * so `12345678901234567890` becomes `12345678901234567000` and `1.10` becomes `1.1`; a secret
 * copied into a Kubernetes Secret must not change like that.
 *
 * A number whose text is not what `String(Number(text))` gives back is kept as a
 * {@link NumberText} leaf (a class instance, so merging, picking and dot-path lookups treat it as
 * an opaque value, never as an object to descend into). Everything else is the usual JSON data
 * model. How far each format allows this:
 * - JSON: always (a small reader over text that JSON.parse has already accepted);
 * - YAML: every plain scalar written as a JSON-style number (`0x1F`, `1_000`, `.inf` keep their
 *   parsed value, since their text is not a number anywhere else);
 * - TOML: integers (read as bigints, so 64-bit values are exact); floats are doubles, because
 *   smol-toml does not expose their text.
 */
import { parse as parseTomlText } from 'smol-toml';
import { type Document, isScalar, visit } from 'yaml';
import { AppError } from '../../shared/errors.ts';
import { isPlainObject, setOwn } from '../../shared/plain-value.ts';
import type { Format } from './formats.ts';
import { parseJson, parseYaml } from './parse-text.ts';
import { tomlSyntaxError } from './syntax-errors.ts';

/** A number kept as its source text because a double would not reproduce it. */
export class NumberText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** `text` (a JSON-grammar number) as a plain number when that is exact, else as {@link NumberText}. */
export function exactNumber(text: string): number | NumberText {
  const value = Number(text);
  return String(value) === text ? value : new NumberText(text);
}

/** Like formats.ts `parseDocument`, with numbers kept exactly (see the file comment). */
export function parseDocumentExact(text: string, format: Exclude<Format, 'raw'>): unknown {
  switch (format) {
    case 'json':
      parseJson(text); // the syntax check, with the usual line/column errors
      return readJson(text);
    case 'yaml':
      return parseYaml(text, keepYamlNumbers);
    case 'toml':
      return parseTomlExact(text);
  }
}

function keepYamlNumbers(doc: Document.Parsed): void {
  visit(doc, (key, node) => {
    // Mapping keys become strings anyway; their text must stay as the parser reads it.
    if (key === 'key') return visit.SKIP;
    if (isScalar(node) && typeof node.value === 'number' && node.source !== undefined && JSON_NUMBER.test(node.source)) node.value = exactNumber(node.source);
    return undefined;
  });
}

function parseTomlExact(text: string): unknown {
  let value: unknown;
  try {
    value = parseTomlText(text, { integersAsBigInt: true });
  } catch (err) {
    throw tomlSyntaxError(err, text);
  }
  return fromToml(value);
}

function fromToml(value: unknown): unknown {
  if (typeof value === 'bigint') return exactNumber(value.toString());
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(fromToml);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) setOwn(out, key, fromToml(value[key]));
    return out;
  }
  return value;
}

const STRING_TOKEN = /"(?:[^"\\]|\\.)*"/y;
const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Reads JSON that JSON.parse accepted, keeping number text. Same results otherwise: a repeated
 * key keeps its first position and its last value, `__proto__` is an ordinary member.
 */
function readJson(text: string): unknown {
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && (text[at] === ' ' || text[at] === '\n' || text[at] === '\r' || text[at] === '\t')) at++;
  };
  const token = (pattern: RegExp): string => {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) throw new AppError('ERR_SYNTAX', `unexpected JSON at offset ${at}`);
    at = pattern.lastIndex;
    return match[0];
  };
  const readValue = (depth: number): unknown => {
    if (depth > 10_000) throw new AppError('ERR_SYNTAX', 'the JSON document is nested too deeply');
    skipSpace();
    const char = text[at];
    if (char === '{') return readObject(depth);
    if (char === '[') return readArray(depth);
    if (char === '"') return JSON.parse(token(STRING_TOKEN)) as string;
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return value;
      }
    }
    return exactNumber(token(NUMBER_TOKEN));
  };
  const readObject = (depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    at++; // {
    skipSpace();
    if (text[at] === '}') {
      at++;
      return out;
    }
    for (;;) {
      skipSpace();
      const key = JSON.parse(token(STRING_TOKEN)) as string;
      skipSpace();
      at++; // :
      setOwn(out, key, readValue(depth + 1));
      skipSpace();
      if (text[at++] === '}') return out; // otherwise a comma
    }
  };
  const readArray = (depth: number): unknown[] => {
    const out: unknown[] = [];
    at++; // [
    skipSpace();
    if (text[at] === ']') {
      at++;
      return out;
    }
    for (;;) {
      out.push(readValue(depth + 1));
      skipSpace();
      if (text[at++] === ']') return out; // otherwise a comma
    }
  };
  return readValue(0);
}

/**
 * Compact JSON with {@link NumberText} written as its text. Refuses what JSON cannot hold
 * (NaN, ±Infinity) instead of writing `null`, like formats.ts does for `/data`.
 */
export function writeJsonExact(value: unknown): string {
  if (value instanceof NumberText) return value.text;
  if (typeof value === 'number' && !Number.isFinite(value)) throw new AppError('ERR_CONVERT', `JSON cannot hold ${value}`);
  if (Array.isArray(value)) return `[${value.map((item: unknown) => (item === undefined ? 'null' : writeJsonExact(item))).join(',')}]`;
  if (isPlainObject(value)) {
    const members = Object.keys(value).filter((key) => value[key] !== undefined);
    return `{${members.map((key) => `${JSON.stringify(key)}:${writeJsonExact(value[key])}`).join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

/**
 * One value as the text a Secret gets: strings as they are, numbers as written, booleans as
 * `true`/`false`, null as the empty string (what ESO makes of a JSON null), objects and arrays as
 * compact JSON.
 */
export function valueAsText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (value instanceof NumberText) return value.text;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return writeJsonExact(value);
}

type Lookup = { found: true; value: unknown } | { found: false };

function member(value: unknown, key: string): Lookup {
  if (Array.isArray(value)) {
    if (!/^(?:0|[1-9]\d*)$/.test(key)) return { found: false };
    const index = Number(key);
    return index < value.length ? { found: true, value: value[index] as unknown } : { found: false };
  }
  if (isPlainObject(value) && Object.hasOwn(value, key)) return { found: true, value: value[key] };
  return { found: false };
}

/**
 * The value at a dot path (`db.host`, `hosts.0`). Keys may themselves contain dots, as
 * Kubernetes-style keys do (`tls.crt`): at each level the longest run of segments that names a
 * member wins, and shorter runs are tried when that branch leads nowhere.
 */
export function lookupProperty(doc: unknown, property: string): Lookup {
  const walk = (value: unknown, segments: readonly string[]): Lookup => {
    if (segments.length === 0) return { found: true, value };
    for (let take = segments.length; take >= 1; take--) {
      const next = member(value, segments.slice(0, take).join('.'));
      if (!next.found) continue;
      const rest = walk(next.value, segments.slice(take));
      if (rest.found) return rest;
    }
    return { found: false };
  };
  return walk(doc, property.split('.'));
}
