import { Filter } from 'ldapts';

/**
 * Filters and DNs as text. Everything a person types (a login name) and everything the directory
 * returns that goes back into a filter (a DN) is escaped per RFC 4515 before substitution, so
 * `*)(uid=*` searches for that literal name instead of widening the filter.
 */

/** RFC 4515 value escaping: `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`. */
export function escapeFilterValue(value: string): string {
  return Filter.escape(value);
}

/**
 * Replaces `{name}` placeholders in a filter template. Values are escaped unless listed in
 * `raw` (the user sync substitutes a bare `*` for `{username}` to list everybody).
 */
export function fillFilter(template: string, values: Readonly<Record<string, string>>, raw: readonly string[] = []): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) return whole;
    return raw.includes(name) ? value : escapeFilterValue(value);
  });
}

/**
 * The value of a DN's first RDN: `cn=admins,ou=groups,dc=x` → `admins`. Handles `\,`-style and
 * `\2c`-style escapes and takes the first attribute of a multi-valued RDN (`cn=a+uid=b`).
 * Returns undefined for text that is not a DN.
 */
export function firstRdnValue(dn: string): string | undefined {
  const eq = dn.indexOf('=');
  if (eq <= 0) return undefined;
  // Hex escapes are UTF-8 bytes (`\c3\a9` is é): collect bytes, decode once.
  const bytes: number[] = [];
  for (let i = eq + 1; i < dn.length; i++) {
    const ch = dn.charAt(i);
    if (ch === ',' || ch === '+') break;
    const hex = ch === '\\' ? dn.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      if (ch === '\\') i += 1;
      const char = String.fromCodePoint(dn.codePointAt(i) ?? 0);
      bytes.push(...Buffer.from(char));
      i += char.length - 1;
    }
  }
  const value = Buffer.from(bytes).toString('utf8').trim();
  return value === '' ? undefined : value;
}

/** The identity subject of a DN: lower-cased, as directories compare DNs case-insensitively. */
export function normalizeDn(dn: string): string {
  return dn.trim().toLowerCase();
}
