/**
 * One parser per structured format, each returning a value in the JSON data model (see
 * plain-value.ts) or throwing ERR_SYNTAX with a 1-based line/column (see syntax-errors.ts).
 */
import { parse as parseTomlText } from 'smol-toml';
import { parseDocument as parseYamlDocument, visit } from 'yaml';
import type { Document } from 'yaml';
import type { AppError } from '../../shared/errors.ts';
import { toPlainValue } from '../../shared/plain-value.ts';
import {
  endOfInput,
  jsonSyntaxError,
  positionAt,
  syntaxError,
  tomlSyntaxError,
  yamlSyntaxError,
} from './syntax-errors.ts';

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw jsonSyntaxError(err, text);
  }
}

/**
 * YAML options, and why:
 * - the default YAML 1.2 core schema keeps `2024-01-02` a string (1.1 would make a Date);
 * - `resolveKnownTags: false` keeps explicit `!!timestamp`/`!!binary`/`!!set` values as plain
 *   strings/maps instead of Date/Buffer/Set, which have no JSON form;
 * - `logLevel: 'error'` because the library would otherwise console.warn about those tags;
 * - `uniqueKeys` because a duplicate key is almost always a mistake that silently loses data.
 */
const YAML_OPTIONS = {
  prettyErrors: true,
  uniqueKeys: true,
  resolveKnownTags: false,
  logLevel: 'error',
} as const;

/**
 * `toJS()` throws a position-less ReferenceError for an alias to an unknown anchor, and builds a
 * cyclic value for an alias inside its own anchor (`a: &x [*x]`), which no format can write back.
 * Finding both on the node tree first lets us point at the alias.
 */
function aliasError(doc: Document.Parsed, text: string): AppError | undefined {
  let found: AppError | undefined;
  visit(doc, {
    Alias(_key, node, path) {
      const target = node.resolve(doc);
      const at = positionAt(text, node.range?.[0] ?? text.length);
      if (target === undefined) found = syntaxError('yaml', at, `unknown alias *${node.source}`);
      else if (path.includes(target)) found = syntaxError('yaml', at, `alias *${node.source} refers to its own parent`);
      return found ? visit.BREAK : undefined;
    },
  });
  return found;
}

/**
 * A single YAML document; an empty one (or only comments) is `null`. `prepare` may adjust the
 * checked node tree before it becomes plain values (exact-numbers.ts keeps number text).
 */
export function parseYaml(text: string, prepare?: (doc: Document.Parsed) => void): unknown {
  const doc = parseYamlDocument(text, YAML_OPTIONS);
  // A stream of several documents lands here too, as a MULTIPLE_DOCS error.
  const first = doc.errors[0];
  if (first) throw yamlSyntaxError(first, text);
  const bad = aliasError(doc, text);
  if (bad) throw bad;
  prepare?.(doc);
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // Left over: the alias-expansion limit that guards against "billion laughs" documents.
    throw syntaxError('yaml', endOfInput(text), err instanceof Error ? err.message : String(err));
  }
  return value ?? null;
}

/** TOML; an empty document is the empty table `{}`. */
export function parseToml(text: string): unknown {
  let value: unknown;
  try {
    // 'asNeeded' so a valid 64-bit integer is not a syntax error; toPlainValue makes it a number.
    value = parseTomlText(text, { integersAsBigInt: 'asNeeded' });
  } catch (err) {
    throw tomlSyntaxError(err, text);
  }
  return toPlainValue(value);
}
