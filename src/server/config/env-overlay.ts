/**
 * Maps `PIKA_*` environment variables onto the config tree (SPEC §3: `_` nesting). Keys may contain
 * `_` themselves (`base_path`), so each variable is resolved against the schema: at every level the
 * longest run of `_`-joined words that names a property wins. Values are coerced to the schema's
 * type (integers, booleans, comma-separated arrays).
 */
type JsonSchema = { type?: string; properties?: Record<string, JsonSchema>; anyOf?: JsonSchema[] };

/** Aliases kept for the seeds' names. */
const ALIASES: Record<string, string> = { PIKA_STORAGE_BW_PATH: 'PIKA_STORAGE_PATH' };

export interface EnvOverlay {
  readonly values: Record<string, unknown>;
  readonly unknown: string[];
  readonly errors: string[];
}

export function overlayFromEnv(schema: JsonSchema, env: Readonly<Record<string, string | undefined>>): EnvOverlay {
  const values: Record<string, unknown> = {};
  const unknown: string[] = [];
  const errors: string[] = [];
  // Sort so a canonical name is applied after its alias and wins when both are set.
  const names = Object.keys(env).filter((n) => n.startsWith('PIKA_')).sort((a, b) => Number(a in ALIASES) - Number(b in ALIASES)).reverse();
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined) continue;
    const canonical = ALIASES[name] ?? name;
    const words = canonical.slice('PIKA_'.length).toLowerCase().split('_');
    const found = resolvePath(schema, words);
    if (!found) {
      unknown.push(name);
      continue;
    }
    const coerced = coerce(raw, found.leaf);
    if (coerced.error) errors.push(`${name}: ${coerced.error}`);
    else setAt(values, found.path, coerced.value);
  }
  return { values, unknown, errors };
}

function resolvePath(schema: JsonSchema, words: string[]): { path: string[]; leaf: JsonSchema } | undefined {
  for (let take = words.length; take >= 1; take--) {
    const key = words.slice(0, take).join('_');
    const child = schema.properties?.[key];
    if (!child) continue;
    if (take === words.length) return { path: [key], leaf: child };
    const rest = resolvePath(child, words.slice(take));
    if (rest) return { path: [key, ...rest.path], leaf: rest.leaf };
  }
  return undefined;
}

function coerce(raw: string, schema: JsonSchema): { value?: unknown; error?: string } {
  const type = schema.type ?? (schema.anyOf ? 'string' : undefined);
  if (type === 'integer' || type === 'number') {
    const n = Number(raw);
    return raw.trim() === '' || Number.isNaN(n) ? { error: `expected a number, got "${raw}"` } : { value: n };
  }
  if (type === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(raw)) return { value: true };
    if (/^(false|0|no|off)$/i.test(raw)) return { value: false };
    return { error: `expected true or false, got "${raw}"` };
  }
  if (type === 'array') return { value: raw.split(',').map((s) => s.trim()).filter((s) => s !== '') };
  if (type === 'object') return { error: 'names a section, not a setting' };
  return { value: raw };
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  node[path[path.length - 1] ?? ''] = value;
}
