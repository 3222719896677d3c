/**
 * Dot paths into parsed documents (`database.credentials`, `services.*.url`), used by config
 * inheritance to take only part of a source (`pick`) and to mount it somewhere (`inject`).
 *
 * Keys are looked up as own properties only, so a path like `constructor` never walks into
 * Object.prototype, and results are built with defineProperty so a `__proto__` key in the data
 * stays data.
 */
import { AppError } from '../../shared/errors.ts';
import { isPlainObject, setOwn } from '../../shared/plain-value.ts';

/** `a.b.c` → `['a', 'b', 'c']`; empty paths and empty segments are invalid. */
export function splitDotPath(path: string): string[] {
  const segments = path.split('.');
  if (segments.some((segment) => segment === '')) {
    throw new AppError('ERR_INHERIT_INVALID', `invalid dot path ${JSON.stringify(path)}: empty segment`, {
      details: { path },
    });
  }
  return segments;
}

type Lookup = { found: true; value: unknown } | { found: false };

const NOT_FOUND: Lookup = { found: false };
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

function child(value: unknown, segment: string): Lookup {
  if (Array.isArray(value)) {
    const index = ARRAY_INDEX.test(segment) ? Number(segment) : -1;
    return index >= 0 && index < value.length ? { found: true, value: value[index] as unknown } : NOT_FOUND;
  }
  if (isPlainObject(value) && Object.hasOwn(value, segment)) return { found: true, value: value[segment] };
  return NOT_FOUND;
}

/** The value at `path`; array elements are addressed by index (`servers.0.host`). */
export function getAtPath(doc: unknown, path: string): Lookup {
  let current: Lookup = { found: true, value: doc };
  for (const segment of splitDotPath(path)) {
    if (!current.found) break;
    current = child(current.value, segment);
  }
  return current;
}

/**
 * All requested paths as one trie, so overlapping paths (`a.*.x` and `a.b.y`) are walked
 * together and combine into one result instead of overwriting each other.
 */
interface PathTrie {
  end: boolean;
  children: Map<string, PathTrie>;
}

function emptyTrie(): PathTrie {
  return { end: false, children: new Map() };
}

function buildTrie(paths: readonly string[]): PathTrie {
  const root = emptyTrie();
  for (const path of paths) {
    let node = root;
    for (const segment of splitDotPath(path)) {
      let next = node.children.get(segment);
      if (!next) node.children.set(segment, (next = emptyTrie()));
      node = next;
    }
    node.end = true;
  }
  return root;
}

function unionTrie(a: PathTrie, b: PathTrie): PathTrie {
  const children = new Map(a.children);
  for (const [segment, node] of b.children) {
    const mine = children.get(segment);
    children.set(segment, mine ? unionTrie(mine, node) : node);
  }
  return { end: a.end || b.end, children };
}

/** The sub-trie for one key: its literal branch and the `*` branch together. */
function branchFor(trie: PathTrie, key: string): PathTrie | undefined {
  const literal = trie.children.get(key);
  const wildcard = trie.children.get('*');
  if (literal && wildcard) return unionTrie(literal, wildcard);
  return literal ?? wildcard;
}

function pick(value: unknown, trie: PathTrie): Lookup {
  if (trie.end) return { found: true, value };
  if (Array.isArray(value)) {
    // Picked elements are kept in order without gaps: an array must stay an array, and JSON has
    // no holes, so an element the paths do not reach is left out rather than written as null.
    const items: unknown[] = [];
    value.forEach((item: unknown, index) => {
      const branch = branchFor(trie, String(index));
      const picked = branch ? pick(item, branch) : NOT_FOUND;
      if (picked.found) items.push(picked.value);
    });
    return items.length > 0 ? { found: true, value: items } : NOT_FOUND;
  }
  if (!isPlainObject(value)) return NOT_FOUND;
  const out: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.keys(value)) {
    const branch = branchFor(trie, key);
    const picked = branch ? pick(value[key], branch) : NOT_FOUND;
    if (picked.found) {
      setOwn(out, key, picked.value);
      any = true;
    }
  }
  return any ? { found: true, value: out } : NOT_FOUND;
}

/**
 * Keeps only `paths` of `doc`, with the same nesting. `*` matches every key of an object or
 * every element of an array; paths that lead nowhere are skipped. A document whose top level is
 * not an object yields `{}`, since inheritance merges objects.
 */
export function pickPaths(doc: unknown, paths: readonly string[]): Record<string, unknown> {
  const picked = pick(doc, buildTrie(paths));
  return picked.found && isPlainObject(picked.value) ? picked.value : {};
}

/** Nests `value` under `path`: `injectAt(v, 'database.credentials')` → `{ database: { credentials: v } }`. */
export function injectAt(value: unknown, path: string): Record<string, unknown> {
  const segments = splitDotPath(path);
  let nested: unknown = value;
  for (let i = segments.length - 1; i >= 0; i--) {
    const wrapper: Record<string, unknown> = {};
    setOwn(wrapper, segments[i] ?? '', nested);
    nested = wrapper;
  }
  return nested as Record<string, unknown>;
}
