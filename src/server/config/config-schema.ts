import { Type, type Static } from 'typebox';

/**
 * The process configuration (SPEC §3): what the server needs before it can open its store.
 * Everything that can change at runtime lives in the settings document instead. No secret has a
 * default. Durations are Go-style strings (`24h`) checked at boot by load-config.ts.
 */
const Cookie = Type.Object(
  {
    name: Type.String({ default: 'pika_session', pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    secure: Type.Boolean({ default: false }),
    same_site: Type.Enum(['lax', 'strict', 'none'], { default: 'lax' }),
  },
  { additionalProperties: false, default: {} },
);

const Server = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    base_path: Type.String({ default: '/', pattern: '^/' }),
    public_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    /** Config path globs readable without a token on the public port (SPEC §7.3). */
    public_paths: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    trusted_proxies: Type.Array(Type.String(), { default: [] }),
    body_limit_mb: Type.Number({ exclusiveMinimum: 0, maximum: 1024, default: 32 }),
    auth: Type.Object(
      {
        session_ttl: Type.String({ default: '24h' }),
        cookie: Cookie,
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

const Storage = Type.Object(
  {
    path: Type.String({ minLength: 1, default: 'data/pika' }),
    /** fsync each write before acknowledging it. */
    sync: Type.Boolean({ default: true }),
    etcd: Type.Object({ endpoints: Type.Array(Type.String(), { default: [] }) }, { additionalProperties: false, default: {} }),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    log_level: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
    server: Server,
    storage: Storage,
    encryption: Type.Object({ password_file: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false, default: {} }),
    audit: Type.Object({ retention: Type.String({ default: '2160h' }) }, { additionalProperties: false, default: {} }),
  },
  { additionalProperties: false },
);

export type RawConfig = Static<typeof ConfigSchema>;

/** The validated, frozen configuration handed to buildApp. Durations are resolved to ms. */
export interface PikaConfig {
  readonly logLevel: string;
  readonly server: {
    readonly host: string;
    readonly port: number;
    /** Normalised: '' for the root, else '/pika' (leading slash, no trailing slash). */
    readonly basePath: string;
    /** A second listener serving only `/data/*`, `/eso/*` and `/healthz` (plugins/public-surface.ts). */
    readonly publicPort: number | undefined;
    /** Config path globs (doublestar) readable without a token on the public port. */
    readonly publicPaths: readonly string[];
    readonly trustedProxies: readonly string[];
    readonly bodyLimitBytes: number;
    readonly sessionTtlMs: number;
    readonly cookie: { readonly name: string; readonly secure: boolean; readonly sameSite: 'lax' | 'strict' | 'none' };
  };
  readonly storage: { readonly path: string; readonly sync: boolean; readonly etcdEndpoints: readonly string[] };
  readonly encryption: { readonly passwordFile: string | undefined };
  readonly audit: { readonly retentionMs: number };
}
