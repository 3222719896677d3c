/**
 * Deep merge for config inheritance: a child config is laid over what it inherits.
 *
 * Only plain objects merge; everything else (arrays included) is replaced wholesale, because
 * there is no merge of two lists that is right for every config (append? by index? by id?) and
 * replacement is the rule users can predict.
 *
 * The result shares untouched subtrees with the inputs (nothing is ever mutated), so treat it
 * as immutable too.
 */
import { isPlainObject, setOwn } from './plain-value.ts';

/**
 * Keys that could reach `Object.prototype` if a later consumer assigns along a merged path.
 * JSON.parse and the YAML/TOML parsers create `__proto__` as an ordinary own key, so it really
 * does arrive in documents. They are dropped from every object the merge builds (subtrees it
 * passes through untouched keep them, as inert own data). Members are written with
 * defineProperty, so even a key that slipped through could not change a prototype.
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function mergeObjects(dst: Record<string, unknown>, src: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(dst)) {
    if (!FORBIDDEN_KEYS.has(key)) setOwn(out, key, dst[key]);
  }
  for (const key of Object.keys(src)) {
    const value = src[key];
    // An undefined member means "not set here", exactly like a missing one.
    if (FORBIDDEN_KEYS.has(key) || value === undefined) continue;
    setOwn(out, key, deepMerge(Object.hasOwn(out, key) ? out[key] : undefined, value));
  }
  return out;
}

/**
 * Lays `src` over `dst`: plain objects merge key by key into a new object; any other value in
 * `src` replaces `dst`; `src === undefined` keeps `dst`.
 */
export function deepMerge(dst: unknown, src: unknown): unknown {
  if (src === undefined) return dst;
  // An object replacing a non-object is still copied through mergeObjects, so forbidden keys
  // are dropped from it as well and the result never aliases the caller's object.
  if (isPlainObject(src)) return mergeObjects(isPlainObject(dst) ? dst : {}, src);
  return src;
}
