/**
 * Where JSON text first goes wrong, for V8 messages that carry no position.
 *
 * Node 20's JSON.parse reports an unexpected token as `Unexpected token '}', "<source>" is not
 * valid JSON` — no offset — so an editor marker would land at the end of input, lines away from
 * the mistake. This scanner walks the RFC 8259 grammar (what JSON.parse accepts) and returns the
 * UTF-16 offset of the first character that cannot continue a valid document. It only locates
 * errors; JSON.parse still does the parsing.
 */

/** Thrown to unwind the scan at the first error; never escapes jsonErrorOffset. */
class Stop extends Error {
  readonly offset: number;
  constructor(offset: number) {
    super(`JSON error at ${offset}`);
    this.offset = offset;
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX = /^[0-9a-fA-F]{4}$/;

function scanner(text: string) {
  let i = 0;
  const fail = (at = i): never => {
    throw new Stop(at);
  };
  const skipWhitespace = () => {
    while (i < text.length && WHITESPACE.has(text.charAt(i))) i++;
  };
  const expectChar = (char: string) => {
    if (text[i] !== char) fail();
    i++;
  };
  const digits = () => {
    const start = i;
    while (/[0-9]/.test(text.charAt(i))) i++;
    if (i === start) fail();
  };

  function string(): void {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail();
      const char = text.charAt(i);
      if (char === '"') {
        i++;
        return;
      }
      if (char === '\\') {
        const next = text.charAt(i + 1);
        if (next === 'u') {
          if (!HEX.test(text.slice(i + 2, i + 6))) fail(i + 1);
          i += 6;
        } else if (ESCAPES.has(next)) i += 2;
        else fail(i + 1);
      } else if (char.charCodeAt(0) < 0x20) fail();
      else i++;
    }
  }

  function number(): void {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  }

  function literal(word: string): void {
    for (const char of word) expectChar(char);
  }

  function members(close: string, member: () => void): void {
    i++; // opening bracket
    skipWhitespace();
    if (text[i] !== close) {
      for (;;) {
        member();
        skipWhitespace();
        if (text[i] === close) break;
        expectChar(',');
      }
    }
    i++; // closing bracket
  }

  function value(): void {
    skipWhitespace();
    const char = text.charAt(i);
    if (char === '{')
      members('}', () => {
        skipWhitespace();
        if (text[i] !== '"') fail();
        string();
        skipWhitespace();
        expectChar(':');
        value();
      });
    else if (char === '[') members(']', value);
    else if (char === '"') string();
    else if (char === '-' || /[0-9]/.test(char)) number();
    else if (char === 't') literal('true');
    else if (char === 'f') literal('false');
    else if (char === 'n') literal('null');
    else fail();
  }

  return () => {
    value();
    skipWhitespace();
    if (i < text.length) fail();
  };
}

/** The offset of the first error in `text`, or undefined if it is valid (or too deep to scan). */
export function jsonErrorOffset(text: string): number | undefined {
  try {
    scanner(text)();
    return undefined;
  } catch (err) {
    if (err instanceof Stop) return err.offset;
    // Nesting deep enough to exhaust the stack: give up locating, the caller has a fallback.
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}
