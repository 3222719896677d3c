import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type PikaConfig, type RawConfig } from './config-schema.ts';
import { parseDuration } from '../../shared/duration.ts';
import { overlayFromEnv } from './env-overlay.ts';

/**
 * Loads the process configuration: schema defaults < config file < `PIKA_*` environment (SPEC §3).
 * This module is the only place that reads the environment. It validates once and reports every
 * problem together in a {@link ConfigError}.
 */
export interface LoadConfigInput {
  /** `--config FILE`; otherwise `pika.yaml|yml|json|toml` in `cwd` is used when present. */
  readonly configFile?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

export interface LoadedConfig {
  readonly config: PikaConfig;
  /** Problems that do not stop the boot (unknown `PIKA_*` variables). */
  readonly warnings: readonly string[];
  readonly file: string | undefined;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const DEFAULT_FILES = ['pika.yaml', 'pika.yml', 'pika.json', 'pika.toml'];

export function loadConfig(input: LoadConfigInput = {}): LoadedConfig {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const problems: string[] = [];

  const file = input.configFile ? resolve(cwd, input.configFile) : DEFAULT_FILES.map((f) => resolve(cwd, f)).find((f) => existsSync(f));
  const fromFile = file ? readConfigFile(file, problems) : {};
  const overlay = overlayFromEnv(ConfigSchema as unknown as Parameters<typeof overlayFromEnv>[0], env);
  problems.push(...overlay.errors);

  const merged = mergeObjects(fromFile, overlay.values);
  const withDefaults = Value.Default(ConfigSchema, merged) as RawConfig;
  for (const err of Value.Errors(ConfigSchema, withDefaults)) {
    if (err.keyword === 'boolean') continue; // reported again, better worded, by additionalProperties
    problems.push(describeSchemaError(err.instancePath, err.message, err.params, withDefaults));
  }
  const config = problems.length === 0 ? finish(withDefaults, problems) : undefined;
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  return { config, warnings: overlay.unknown.map((n) => `unknown environment variable ${n} ignored`), file };
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`cannot read config file ${file}: ${(err as Error).message}`);
    return {};
  }
  try {
    const ext = extname(file).toLowerCase();
    const parsed: unknown = ext === '.json' ? JSON.parse(text) : ext === '.toml' ? parseToml(text) : parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`config file ${file} must hold an object at the top level`);
      return {};
    }
    return applyFileAliases(parsed as Record<string, unknown>);
  } catch (err) {
    problems.push(`config file ${file} does not parse: ${(err as Error).message}`);
    return {};
  }
}

/** The seeds write `storage.bw.path` (their BadgerDB); we accept it as `storage.path`. */
function applyFileAliases(raw: Record<string, unknown>): Record<string, unknown> {
  const storage = raw.storage;
  if (typeof storage !== 'object' || storage === null) return raw;
  const { bw, ...rest } = storage as Record<string, unknown>;
  if (typeof bw !== 'object' || bw === null) return raw;
  const path = (bw as Record<string, unknown>).path;
  return { ...raw, storage: { ...(path === undefined ? {} : { path }), ...rest } };
}

function finish(raw: RawConfig, problems: string[]): PikaConfig | undefined {
  const duration = (name: string, value: string): number => {
    try {
      return parseDuration(value);
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
      return 0;
    }
  };
  const sessionTtlMs = duration('server.auth.session_ttl', raw.server.auth.session_ttl);
  const retentionMs = duration('audit.retention', raw.audit.retention);
  const basePath = normalizeBasePath(raw.server.base_path);
  if (basePath === undefined) problems.push(`server.base_path: "${raw.server.base_path}" must look like /pika`);
  if (raw.server.auth.cookie.same_site === 'none' && !raw.server.auth.cookie.secure)
    problems.push('server.auth.cookie.same_site "none" requires server.auth.cookie.secure: true');
  if (raw.server.public_port !== undefined && raw.server.public_port === raw.server.port && raw.server.port !== 0)
    problems.push('server.public_port must differ from server.port');
  if (raw.server.public_paths.length > 0 && raw.server.public_port === undefined)
    problems.push('server.public_paths only applies to the public port: set server.public_port (PIKA_SERVER_PUBLIC_PORT) too');
  if (problems.length > 0 || basePath === undefined) return undefined;
  return Object.freeze({
    logLevel: raw.log_level,
    server: Object.freeze({
      host: raw.server.host,
      port: raw.server.port,
      basePath,
      publicPort: raw.server.public_port,
      publicPaths: Object.freeze(raw.server.public_paths.map((p) => p.trim())),
      trustedProxies: Object.freeze([...raw.server.trusted_proxies]),
      bodyLimitBytes: Math.floor(raw.server.body_limit_mb * 1024 * 1024),
      sessionTtlMs,
      cookie: Object.freeze({ name: raw.server.auth.cookie.name, secure: raw.server.auth.cookie.secure, sameSite: raw.server.auth.cookie.same_site }),
    }),
    storage: Object.freeze({ path: raw.storage.path, sync: raw.storage.sync, etcdEndpoints: Object.freeze([...raw.storage.etcd.endpoints]) }),
    encryption: Object.freeze({ passwordFile: raw.encryption.password_file }),
    audit: Object.freeze({ retentionMs }),
  });
}

/** `/`, `` → ''; `/pika/` → '/pika'; anything with odd characters → undefined. */
export function normalizeBasePath(raw: string): string | undefined {
  const trimmed = raw.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed)) return undefined;
  return trimmed;
}

function describeSchemaError(pointer: string, message: string, params: unknown, config: unknown): string {
  const path = pointer === '' ? [] : pointer.slice(1).split('/');
  const where = path.length === 0 ? '(top level)' : `${path.join('.')} (PIKA_${path.join('_').toUpperCase()})`;
  const { additionalProperties: extra, allowedValues } = params as { additionalProperties?: unknown; allowedValues?: unknown };
  if (Array.isArray(extra)) return `${path.length === 0 ? '(top level)' : path.join('.')}: unknown setting(s) ${extra.map((k) => `"${String(k)}"`).join(', ')}`;
  const value = path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config);
  if (Array.isArray(allowedValues)) return `${where}: "${String(value)}" is not one of ${allowedValues.map(String).join(', ')}`;
  return `${where}: ${message}, got ${JSON.stringify(value)}`;
}

function mergeObjects(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] =
      isPlainObject(prev) && isPlainObject(value) ? mergeObjects(prev, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
