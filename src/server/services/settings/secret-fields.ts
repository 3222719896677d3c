import { AppError } from '../../../shared/errors.ts';
import type { SealingKeys } from '../../barrier/key-manager.ts';

/**
 * Schema-driven handling of secret fields (see settings-sections.ts). Stored documents hold a
 * secret as `{"$sealed": "<base64 envelope>"}` — or `{"$plain": "…"}` before the server key is
 * initialized (seed 003's opt-in model; initialize re-seals them) — so re-sealing can find every
 * secret without knowing any schema.
 */
/** The JSON Schema keywords the walkers follow (TypeBox schemas are plain JSON Schema). */
export type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  patternProperties?: Record<string, Schema>;
  'x-secret'?: boolean;
};
type Json = unknown;

export interface StoredSecret {
  $sealed?: string;
  $plain?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isStoredSecret(v: unknown): v is StoredSecret {
  return isObject(v) && (typeof v.$sealed === 'string' || typeof v.$plain === 'string') && Object.keys(v).length === 1;
}

/** `client_secret` → `client_secret_set`, `clear_client_secret`. */
export const setFlag = (field: string) => `${field}_set`;
export const clearFlag = (field: string) => `clear_${field}`;

function childSchemas(schema: Schema): { props?: Record<string, Schema>; items?: Schema; map?: Schema } {
  const map = schema.patternProperties ? Object.values(schema.patternProperties)[0] : undefined;
  return { props: schema.properties, items: schema.items, map };
}

/** The view a client reads: secrets replaced by `<field>_set` flags. Works while locked. */
export function maskSecrets(schema: Schema, stored: Json): Json {
  const { props, items, map } = childSchemas(schema);
  if (Array.isArray(stored) && items) return stored.map((v) => maskSecrets(items, v));
  if (!isObject(stored)) return stored;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stored)) {
    const child = props?.[key] ?? map;
    if (child?.['x-secret']) out[setFlag(key)] = isStoredSecret(value);
    else out[key] = child ? maskSecrets(child, value) : value;
  }
  for (const [key, child] of Object.entries(props ?? {})) if (child['x-secret'] && !(key in stored)) out[setFlag(key)] = false;
  return out;
}

/**
 * The document to store for an incoming write: new secrets sealed, blank secrets kept from
 * `previous` (array items matched by `name`), `clear_<field>: true` removing them.
 */
export function mergeSecrets(schema: Schema, incoming: Json, previous: Json, seal: (plaintext: string) => StoredSecret): Json {
  const { items } = childSchemas(schema);
  if (Array.isArray(incoming) && items) return mergeList(items, incoming, Array.isArray(previous) ? previous : [], seal);
  if (!isObject(incoming)) return incoming;
  return mergeObject(schema, incoming, isObject(previous) ? previous : {}, seal);
}

function mergeList(items: Schema, incoming: unknown[], previous: unknown[], seal: (plaintext: string) => StoredSecret): Json {
  return incoming.map((item, i) => {
    // List items are identified by `id` where they have one (user-sync sources), else `name`.
    const identity = (x: unknown) => (isObject(x) ? (x.id ?? x.name) : undefined);
    const name = identity(item);
    const match = name === undefined ? previous[i] : previous.find((p) => identity(p) === name);
    return mergeSecrets(items, item, match, seal);
  });
}

function mergeObject(schema: Schema, incoming: Record<string, unknown>, before: Record<string, unknown>, seal: (plaintext: string) => StoredSecret): Json {
  const { props, map } = childSchemas(schema);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(incoming)) {
    const child = props?.[key] ?? map;
    if (child?.['x-secret'] || (key.startsWith('clear_') && props?.[key.slice(6)]?.['x-secret'])) continue;
    out[key] = child ? mergeSecrets(child, value, before[key], seal) : value;
  }
  for (const [key, child] of Object.entries(props ?? {})) {
    if (!child['x-secret']) continue;
    const secret = resolveSecret(incoming[key], incoming[clearFlag(key)] === true, before[key], seal);
    if (secret !== undefined) out[key] = secret;
  }
  return out;
}

/** What to store for one secret field: a new value, the kept one, or nothing. */
function resolveSecret(given: unknown, clear: boolean, before: unknown, seal: (plaintext: string) => StoredSecret): StoredSecret | undefined {
  if (clear) return undefined;
  if (typeof given === 'string' && given !== '') return seal(given);
  return isStoredSecret(before) ? before : undefined;
}

/** Plaintext secrets for internal consumers; a locked server (no keys) reveals nothing. */
export function revealSecrets(stored: Json, keys: SealingKeys | undefined, context: string): Json {
  if (Array.isArray(stored)) return stored.map((v) => revealSecrets(v, keys, context));
  if (isStoredSecret(stored)) {
    if (stored.$plain !== undefined) return stored.$plain;
    if (!keys?.sealed || stored.$sealed === undefined) return undefined;
    return new TextDecoder().decode(keys.open(Buffer.from(stored.$sealed, 'base64'), context));
  }
  if (!isObject(stored)) return stored;
  return Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, revealSecrets(v, keys, context)]));
}

/** Seals one new secret: plaintext before initialization, an envelope after. */
export function sealSecret(keys: SealingKeys, plaintext: string, context: string): StoredSecret {
  if (!keys.sealed) return { $plain: plaintext };
  return { $sealed: Buffer.from(keys.seal(new TextEncoder().encode(plaintext), context)).toString('base64') };
}

/** Re-seals plaintext secrets and envelopes under older keys; returns the new document and a count. */
export function resealSecrets(stored: Json, keys: SealingKeys, context: string): { doc: Json; changed: number } {
  let changed = 0;
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (isStoredSecret(v)) {
      if (v.$sealed !== undefined && keys.isCurrent(Buffer.from(v.$sealed, 'base64'))) return v;
      const plaintext = v.$plain ?? new TextDecoder().decode(keys.open(Buffer.from(v.$sealed ?? '', 'base64'), context));
      changed++;
      return sealSecret(keys, plaintext, context);
    }
    if (!isObject(v)) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  if (!keys.sealed) throw new AppError('ERR_KEY_NOT_INITIALIZED');
  return { doc: walk(stored), changed };
}
