import { describe, expect, it } from 'vitest';
import { jsonErrorOffset } from './json-error-offset.ts';

describe('jsonErrorOffset', () => {
  it('finds nothing wrong in documents JSON.parse accepts', () => {
    for (const text of ['{}', '[]', ' 1 ', '-0.5e+3', '"a\\u00e9\\n"', 'true', 'null', '{"a":[1,{"b":false}],"c":"\\/"}', '\n\t{ "a" : 1 }\r\n']) {
      expect(() => JSON.parse(text) as unknown).not.toThrow();
      expect(jsonErrorOffset(text)).toBeUndefined();
    }
  });

  it.each([
    ['{"a": }', 6],
    ['{\n  "a": 1,\n  "b": }\n', 19],
    ['[1, 2,]', 6],
    ['{"a" 1}', 5],
    ['{a: 1}', 1],
    ['{"a": 1,}', 8],
    ['[01]', 2],
    ['[1.]', 3],
    ['[1e]', 3],
    ['"tab\there"', 4],
    ['"bad \\x escape"', 6],
    ['"\\u12G4"', 2],
    ['tru', 3],
    ['nul x', 3],
    ['{} extra', 3],
    ['', 0],
    ['{"a":', 5],
    ['"open', 5],
  ])('points at the first bad character of %j', (text, offset) => {
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  it('gives up quietly on nesting deeper than the stack', () => {
    expect(jsonErrorOffset('['.repeat(1_000_000))).toBeUndefined();
  });
});
