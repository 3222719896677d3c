import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { PikaConfigSource, PikaConfigSpec } from '../../shared/crds/index.ts';
import { deepMerge } from '../../shared/merge.ts';
import { isPlainObject, toPlainValue } from '../../shared/plain-value.ts';
import { renderTemplate } from './template.ts';

/**
 * What a PikaConfig's target should hold, from the bodies its sources returned (pure: no I/O, so
 * every mode is unit-tested). File mode writes one document under `target.key`; map mode one entry
 * per top-level key; `template.data` renders entries over the merged document.
 */

export interface FetchedSource {
  readonly source: PikaConfigSource;
  /** The format asked of the server (`?format=`), undefined for the stored format. */
  readonly requested: string | undefined;
  readonly body: Buffer;
  readonly contentType: string;
}

export interface DesiredData {
  readonly entries: Map<string, Buffer>;
  /** Why some entries are missing (picked keys absent, template paths absent); names only, never values. */
  readonly problems: string[];
}

/** A source whose content cannot be used as the spec asks (not a mapping, unparseable). */
export class SourceContentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceContentError';
  }
}

export function sourcesOf(spec: PikaConfigSpec): PikaConfigSource[] {
  return spec.sources ?? (spec.source ? [spec.source] : []);
}

/**
 * File mode with one source and no re-serialisation: the target holds exactly the bytes the
 * server rendered (comments, key order and number text survive).
 */
function passthrough(spec: PikaConfigSpec): boolean {
  return spec.target.key !== undefined && spec.sources === undefined && spec.target.format === undefined;
}

/** The `?format=` to ask the server for, per source. */
export function requestedFormat(spec: PikaConfigSpec, source: PikaConfigSource): string | undefined {
  if (passthrough(spec)) return source.format;
  return source.format === 'raw' ? 'raw' : 'json';
}

function parseBody(fetched: FetchedSource): unknown {
  const text = fetched.body.toString('utf8');
  const format = fetched.requested ?? formatOfContentType(fetched.contentType);
  try {
    if (format === 'json') return JSON.parse(text) as unknown;
    if (format === 'yaml') return toPlainValue(parseYaml(text));
    if (format === 'toml') return toPlainValue(parseToml(text));
  } catch (err) {
    throw new SourceContentError(`${fetched.source.path}: the server returned a document that does not parse as ${format}: ${(err as Error).message}`);
  }
  throw new SourceContentError(`${fetched.source.path}: a ${format ?? 'raw'} document has no keys (use file mode with target.key)`);
}

function formatOfContentType(contentType: string): string | undefined {
  if (/json/i.test(contentType)) return 'json';
  if (/yaml/i.test(contentType)) return 'yaml';
  if (/toml/i.test(contentType)) return 'toml';
  return undefined;
}

function pick(doc: Record<string, unknown>, keys: readonly string[] | undefined, path: string, problems: string[]): Record<string, unknown> {
  if (!keys) return doc;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (Object.hasOwn(doc, key)) out[key] = doc[key];
    else problems.push(`${path}: key "${key}" is not in the document`);
  }
  return out;
}

function serialise(doc: Record<string, unknown>, format: 'json' | 'yaml' | 'toml'): string {
  if (format === 'yaml') return stringifyYaml(doc);
  if (format === 'toml') return stringifyToml(doc);
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const entry = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');

function mergedDocument(spec: PikaConfigSpec, fetched: readonly FetchedSource[], problems: string[]): Record<string, unknown> {
  let merged: Record<string, unknown> = {};
  for (const f of fetched) {
    const doc = parseBody(f);
    if (!isPlainObject(doc)) throw new SourceContentError(`${f.source.path}: the document is not a mapping of keys, so it cannot be ${spec.sources ? 'merged' : 'split into keys'}`);
    merged = deepMerge(merged, pick(doc, f.source.keys, f.source.path, problems)) as Record<string, unknown>;
  }
  return merged;
}

/** File mode (one key holding the document) or map mode (one entry per top-level key). */
function documentEntries(spec: PikaConfigSpec, fetched: readonly FetchedSource[], merged: Record<string, unknown>, out: DesiredData): void {
  const { entries, problems } = out;
  const key = spec.target.key;
  if (key !== undefined) {
    const only = fetched[0];
    entries.set(key, passthrough(spec) && only ? only.body : Buffer.from(serialise(merged, spec.target.format ?? 'json'), 'utf8'));
    return;
  }
  for (const [name, value] of Object.entries(merged)) {
    if (/^[-._a-zA-Z0-9]+$/.test(name) && name.length <= 253) entries.set(name, entry(value));
    else problems.push(`top-level key "${name.slice(0, 64)}" is not a valid Secret/ConfigMap key, skipped`);
  }
}

export function desiredData(spec: PikaConfigSpec, fetched: readonly FetchedSource[]): DesiredData {
  const problems: string[] = [];
  const entries = new Map<string, Buffer>();
  const template = spec.target.template;
  const templates = template?.data;
  const merged = !passthrough(spec) || templates !== undefined ? mergedDocument(spec, fetched, problems) : {};
  if (templates === undefined || template?.mergePolicy === 'Merge') documentEntries(spec, fetched, merged, { entries, problems });
  for (const [name, text] of Object.entries(templates ?? {})) {
    const rendered = renderTemplate(text, merged);
    if (rendered.ok) entries.set(name, Buffer.from(rendered.text, 'utf8'));
    else problems.push(`template.data.${name}: ${rendered.error}`);
  }
  return { entries, problems };
}
