/**
 * Config formats: naming them, parsing, writing and converting between them.
 *
 * Stored content is always the user's exact bytes; parsing is for validation, conversion and
 * inheritance, never for rewriting what was saved. Parsed values live in the JSON data model
 * (plain objects, arrays, strings, finite-or-not numbers, booleans, null; see plain-value.ts).
 */
import { stringify as stringifyToml } from 'smol-toml';
import { stringify as stringifyYaml } from 'yaml';
import { AppError } from '../../shared/errors.ts';
import { parseJson, parseToml, parseYaml } from './parse-text.ts';
import { assertSerializable } from './serializable.ts';

export type Format = 'json' | 'yaml' | 'toml' | 'raw';
export const FORMATS: readonly Format[] = ['json', 'yaml', 'toml', 'raw'];

type StructuredFormat = Exclude<Format, 'raw'>;

const ALIASES: Readonly<Record<string, Format>> = {
  json: 'json',
  yaml: 'yaml',
  yml: 'yaml',
  toml: 'toml',
  raw: 'raw',
  text: 'raw',
  txt: 'raw',
};

/** Accepts the names (and common file extensions) users type, in any case. */
export function parseFormat(raw: string): Format {
  const key = raw.trim().toLowerCase();
  const format = Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined;
  if (format === undefined) {
    throw new AppError('ERR_FORMAT_INVALID', `unknown format ${JSON.stringify(raw)}; use one of ${FORMATS.join(', ')}`, {
      details: { format: raw, allowed: [...FORMATS] },
    });
  }
  return format;
}

const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  json: 'application/json',
  yaml: 'application/x-yaml',
  toml: 'application/toml',
  raw: 'application/octet-stream',
};

export function contentTypeOf(format: Format): string {
  return CONTENT_TYPES[format];
}

/** Parses `text`; throws ERR_SYNTAX with a 1-based line and column. */
export function parseDocument(text: string, format: StructuredFormat): unknown {
  switch (format) {
    case 'json':
      return parseJson(text);
    case 'yaml':
      return parseYaml(text);
    case 'toml':
      return parseToml(text);
  }
}

/**
 * YAML output options: `compat: 'yaml-1.1'` quotes strings that YAML 1.1 readers (PyYAML,
 * go-yaml v2, SnakeYAML) would otherwise read as booleans or dates (`yes`, `on`, `2024-01-02`);
 * `aliasDuplicateObjects: false` writes repeated subtrees out instead of as `&a1`/`*a1`;
 * `lineWidth: 0` never folds long strings, so diffs of converted configs stay line-stable.
 */
const YAML_OUTPUT = { compat: 'yaml-1.1', aliasDuplicateObjects: false, lineWidth: 0 } as const;

function stringify(value: unknown, format: StructuredFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(value, null, 2)}\n`;
    case 'yaml':
      return stringifyYaml(value, YAML_OUTPUT);
    case 'toml':
      // assertSerializable has already checked that this is a table.
      return stringifyToml(value);
  }
}

/** Writes `value` as `format`; throws ERR_CONVERT when the format cannot hold it. */
export function serializeDocument(value: unknown, format: StructuredFormat): string {
  try {
    assertSerializable(value, format);
    return stringify(value, format);
  } catch (err) {
    if (err instanceof AppError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new AppError('ERR_CONVERT', `cannot write ${format}: ${reason}`, { details: { format, reason } });
  }
}

/** Converts between formats. Same format and "to raw" return the exact input text. */
export function convertContent(text: string, from: Format, to: Format): string {
  if (from === to) return text;
  if (from === 'raw') throw new AppError('ERR_CONVERT', 'raw content cannot be converted', { details: { from, to } });
  if (to === 'raw') return text;
  return serializeDocument(parseDocument(text, from), to);
}

/** Throws ERR_SYNTAX when `text` is not valid `format`; raw content is always valid. */
export function validateSyntax(text: string, format: Format): void {
  if (format !== 'raw') parseDocument(text, format);
}
