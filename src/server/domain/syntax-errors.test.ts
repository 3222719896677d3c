import { describe, it, expect } from 'vitest';
import {
  endOfInput,
  jsonSyntaxError,
  positionAt,
  syntaxError,
  tomlSyntaxError,
  yamlSyntaxError,
} from './syntax-errors.ts';

describe('positionAt', () => {
  it('is 1-based', () => {
    expect(positionAt('abc', 0)).toEqual({ line: 1, column: 1 });
    expect(positionAt('abc', 2)).toEqual({ line: 1, column: 3 });
  });

  it('counts lines and restarts columns after a newline', () => {
    const text = 'ab\ncd\n\nef';
    expect(positionAt(text, 3)).toEqual({ line: 2, column: 1 });
    expect(positionAt(text, 4)).toEqual({ line: 2, column: 2 });
    expect(positionAt(text, 6)).toEqual({ line: 3, column: 1 });
    expect(positionAt(text, 8)).toEqual({ line: 4, column: 2 });
  });

  it('puts the newline character itself at the end of its line', () => {
    expect(positionAt('ab\ncd', 2)).toEqual({ line: 1, column: 3 });
  });

  it('counts an astral character as one column', () => {
    expect(positionAt('😀x', 2)).toEqual({ line: 1, column: 2 });
  });

  it('clamps offsets outside the text', () => {
    expect(positionAt('ab', 99)).toEqual({ line: 1, column: 3 });
    expect(positionAt('ab', -5)).toEqual({ line: 1, column: 1 });
  });

  it('finds the end of input', () => {
    expect(endOfInput('')).toEqual({ line: 1, column: 1 });
    expect(endOfInput('{\n  "a": 1')).toEqual({ line: 2, column: 9 });
    expect(endOfInput('x\n')).toEqual({ line: 2, column: 1 });
  });
});

describe('syntaxError', () => {
  it('builds the ERR_SYNTAX message and details', () => {
    const err = syntaxError('yaml', { line: 3, column: 7 }, 'bad thing');
    expect(err.code).toBe('ERR_SYNTAX');
    expect(err.status).toBe(400);
    expect(err.message).toBe('yaml syntax error at line 3, column 7: bad thing');
    expect(err.details).toEqual({ format: 'yaml', line: 3, column: 7, reason: 'bad thing' });
  });
});

describe('jsonSyntaxError', () => {
  it('uses the position in the Node 20 wording', () => {
    const err = jsonSyntaxError(new SyntaxError("Expected ',' or '}' after property value in JSON at position 10"), '{"a":1\n  "b":2}');
    expect(err.details).toMatchObject({ line: 2, column: 4, reason: "Expected ',' or '}' after property value" });
  });

  it('prefers the explicit line and column of newer V8 wordings', () => {
    const err = jsonSyntaxError(
      new SyntaxError("Expected ',' or '}' after property value in JSON at position 10 (line 1 column 11)"),
      '{"a":1 "b":2}',
    );
    expect(err.details).toMatchObject({ line: 1, column: 11, reason: "Expected ',' or '}' after property value" });
  });

  it('locates the offending token itself when the message has no position, and drops the echoed source', () => {
    const text = '{"a":\n  x}';
    const err = jsonSyntaxError(new SyntaxError(`Unexpected token 'x', "${text}" is not valid JSON`), text);
    expect(err.details).toMatchObject({ line: 2, column: 3, reason: "Unexpected token 'x'" });
  });

  it('falls back to the end of input when the text has no error to locate', () => {
    expect(jsonSyntaxError(new SyntaxError('Unexpected end of JSON input'), '{"a":').details).toMatchObject({ line: 1, column: 6 });
    expect(jsonSyntaxError(new SyntaxError('odd'), '{}').details).toMatchObject({ line: 1, column: 3 });
  });

  it('copes with a non-Error throwable', () => {
    expect(jsonSyntaxError('weird', 'ab').details).toMatchObject({ line: 1, column: 1, reason: 'weird' });
  });
});

describe('yamlSyntaxError', () => {
  it('uses linePos and strips the pretty excerpt from the reason', () => {
    const err = yamlSyntaxError(
      { message: 'Map keys must be unique at line 2, column 1:\n\na: 1\na: 2\n^\n', linePos: [{ line: 2, col: 1 }] },
      'a: 1\na: 2',
    );
    expect(err.message).toBe('yaml syntax error at line 2, column 1: Map keys must be unique');
  });

  it('falls back to pos, then to the end of input', () => {
    expect(yamlSyntaxError({ message: 'x', pos: [3, 4] }, 'ab\ncd').details).toMatchObject({ line: 2, column: 1 });
    expect(yamlSyntaxError({ message: 'x' }, 'ab\ncd').details).toMatchObject({ line: 2, column: 3 });
  });
});

describe('tomlSyntaxError', () => {
  it('uses line and column and keeps only the first message line', () => {
    const err = Object.assign(new Error('Invalid TOML document: invalid value\n\n1:  b = \n        ^\n'), { line: 1, column: 5 });
    expect(err.message).toContain('\n');
    expect(tomlSyntaxError(err, 'b = ').message).toBe('toml syntax error at line 1, column 5: invalid value');
  });

  it('falls back to the end of input without a position', () => {
    expect(tomlSyntaxError(new Error('boom'), 'a\nbc').details).toMatchObject({ line: 2, column: 3, reason: 'boom' });
    expect(tomlSyntaxError(undefined, '').details).toMatchObject({ line: 1, column: 1 });
  });
});
