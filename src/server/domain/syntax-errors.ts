/**
 * Turns the three parsers' failures into one ERR_SYNTAX shape, so the UI can put a marker on
 * the same kind of line/column whatever the format. Every parser reports positions differently
 * (JSON only as a message string), so each gets its own small extractor here.
 */
import { AppError } from '../../shared/errors.ts';
import { jsonErrorOffset } from './json-error-offset.ts';

export type ParsedFormat = 'json' | 'yaml' | 'toml';

export interface TextPosition {
  /** 1-based. */
  line: number;
  /** 1-based, counted in Unicode code points so astral characters count once. */
  column: number;
}

/** The 1-based line/column of a UTF-16 offset into `text` (clamped to the text). */
export function positionAt(text: string, offset: number): TextPosition {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: Array.from(text.slice(lineStart, end)).length + 1 };
}

/** Where a parser that ran out of input (or gave no position) should point. */
export function endOfInput(text: string): TextPosition {
  return positionAt(text, text.length);
}

export function syntaxError(format: ParsedFormat, at: TextPosition, reason: string): AppError {
  const { line, column } = at;
  return new AppError('ERR_SYNTAX', `${format} syntax error at line ${line}, column ${column}: ${reason}`, {
    details: { format, line, column, reason },
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * V8 has worded JSON.parse errors three ways across Node versions:
 * `… in JSON at position 10`, `… in JSON at position 10 (line 1 column 11)` (Node 22+), and
 * `Unexpected token 'x', "<source excerpt>" is not valid JSON` with no position at all (Node 20
 * for every unexpected token). The explicit line/column wins; a bare position is converted;
 * otherwise our own scanner finds the offending character (end of input as a last resort).
 */
export function jsonSyntaxError(err: unknown, text: string): AppError {
  const message = messageOf(err);
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  const position = /at position (\d+)/.exec(message);
  let at: TextPosition;
  if (lineColumn) at = { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  else if (position) at = positionAt(text, Number(position[1]));
  else at = positionAt(text, jsonErrorOffset(text) ?? text.length);
  const reason = message
    .replace(/ in JSON at position \d+.*$/s, '')
    // Drop the echoed source: it can be long and multi-line, and the position already says where.
    .replace(/, ".*" is not valid JSON$/s, '');
  return syntaxError('json', at, reason);
}

interface YamlErrorLike {
  message: string;
  pos?: readonly number[];
  linePos?: readonly { line: number; col: number }[];
}

/** `yaml` errors carry `linePos` once `prettyErrors` is on; the message then repeats it. */
export function yamlSyntaxError(err: YamlErrorLike, text: string): AppError {
  const first = err.linePos?.[0];
  let at: TextPosition;
  if (first) at = { line: first.line, column: first.col };
  else if (err.pos?.[0] !== undefined) at = positionAt(text, err.pos[0]);
  else at = endOfInput(text);
  const reason = err.message.replace(/ at line \d+, column \d+:.*$/s, '');
  return syntaxError('yaml', at, reason);
}

/** smol-toml's TomlError has 1-based `line`/`column` and a code excerpt after the first line. */
export function tomlSyntaxError(err: unknown, text: string): AppError {
  const { line, column } = (err ?? {}) as { line?: unknown; column?: unknown };
  const at =
    typeof line === 'number' && typeof column === 'number' ? { line, column } : endOfInput(text);
  const reason = (messageOf(err).split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
  return syntaxError('toml', at, reason);
}
