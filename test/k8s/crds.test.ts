/**
 * The pika CRDs (crds/*.yaml) on a real kube-apiserver: they establish; the issue's example shape
 * and the README's examples are accepted; the OpenAPI and CEL rules reject what they should;
 * defaults are applied; status is written only through the status subresource; printer columns,
 * short names and the `pika` category work. Valid fixtures are typed with the generated
 * src/shared/crds types, so a schema change that the types miss fails to compile here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CAPABILITY_KEYS } from '../../src/shared/capabilities.ts';
import type { ClusterPikaServer, Condition, PikaConfig, PikaServer, PikaToken, UnlockRequest } from '../../src/shared/crds/index.ts';
import { PIKA_CRDS } from '../../src/shared/crds/index.ts';
import { type Cluster, type RunResult, startCluster } from './cluster.ts';

const NS = 'demo';
const CRD_FILES = readdirSync('crds')
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => `crds/${f}`);

interface Schema {
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  enum?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

const crdDocs = CRD_FILES.map((file) => ({ file, doc: parse(readFileSync(file, 'utf8')) }));
const schemaOf = (kind: string): Schema => crdDocs.find((c) => c.doc.spec.names.kind === kind)!.doc.spec.versions[0].schema.openAPIV3Schema;

/** Every schema node below the root, with its dotted path (metadata excluded: the API server forbids describing it). */
function nodes(schema: Schema, path = ''): { path: string; node: Schema }[] {
  const children: [string, Schema][] = [
    ...Object.entries(schema.properties ?? {}).map(([k, v]): [string, Schema] => [`${path}.${k}`, v]),
    ...(schema.items ? [[`${path}[]`, schema.items] as [string, Schema]] : []),
    ...(typeof schema.additionalProperties === 'object' ? [[`${path}{}`, schema.additionalProperties] as [string, Schema]] : []),
  ];
  return children.filter(([p]) => p !== '.metadata').flatMap(([p, n]) => [{ path: p, node: n }, ...nodes(n, p)]);
}

const meta = (name: string) => ({ name, namespace: NS });

const server = (name = 'main'): PikaServer => ({
  apiVersion: 'pika.io/v1alpha1',
  kind: 'PikaServer',
  metadata: meta(name),
  spec: { url: 'http://pika.pika-system.svc:8080', tokenSecretRef: { name: 'pika-token', key: 'token' } },
});

/** The issue's example (acceptance 2), verbatim apart from the URL. */
const example = (name = 'app'): PikaConfig => ({
  apiVersion: 'pika.io/v1alpha1',
  kind: 'PikaConfig',
  metadata: meta(name),
  spec: {
    serverRef: { name: 'main' },
    source: { path: 'myapp/config', format: 'json' },
    target: { kind: 'Secret', name: 'app-config', key: 'config.json' },
    refreshInterval: '10m',
  },
});

// Builders for fixtures that are meant to be invalid too, so their specs are loosely typed.
const config = (name: string, spec: Record<string, unknown>): Record<string, unknown> => ({
  ...example(name),
  spec: { serverRef: { name: 'main' }, source: { path: 'myapp/config' }, target: { name: 'app-config' }, ...spec },
});

const token = (name: string, spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'pika.io/v1alpha1',
  kind: 'PikaToken',
  metadata: meta(name),
  spec: { serverRef: { name: 'main' }, scopes: [{ path: 'myapp/**', operations: ['read'] }], target: { name: 'eso-token' }, ...spec },
});

/** A syntactically valid sealed value (five base64url parts); the API server does not decrypt it. */
const SEALED = ['eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0', 'a'.repeat(120), 'iv_iv_iv_iv_iv', 'cipher-text', 'tag_tag'].join('.');

const unlock = (name: string, spec: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'pika.io/v1alpha1',
  kind: 'UnlockRequest',
  metadata: meta(name),
  spec: { serverRef: { name: 'main' }, sealedKey: SEALED, ...spec },
});

const clusterServer = (name: string, spec: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'pika.io/v1alpha1',
  kind: 'ClusterPikaServer',
  metadata: { name },
  spec: { url: 'https://pika.pika-system.svc:8443', tokenSecretRef: { namespace: 'pika-system', name: 'pika-token' }, allowedNamespaces: [NS], ...spec },
});

const condition = (type: string, status: Condition['status'], reason: string): Condition => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: '2026-01-01T00:00:00Z',
  observedGeneration: 1,
});

// The cases run in order and build on each other's objects (one cluster per file, as the harness
// recommends): the example from the acceptance case is what the immutability, status and kubectl
// cases patch and print.
describe('pika CRDs (crds/*.yaml)', () => {
  let cluster: Cluster;

  const kubectl = (args: readonly string[], input?: unknown): Promise<RunResult> =>
    cluster.kubectl(args, input === undefined ? {} : { input: typeof input === 'string' ? input : JSON.stringify(input) });
  const apply = async (obj: unknown): Promise<void> => {
    const r = await kubectl(['apply', '-f', '-'], obj);
    expect(r.code, r.stderr).toBe(0);
  };
  /** Creates with a server-side dry run: the API server validates everything and stores nothing. */
  const rejected = async (obj: unknown): Promise<string> => {
    const r = await kubectl(['create', '--dry-run=server', '-f', '-'], obj);
    expect(r.code, `expected a rejection, got: ${r.stdout}`).not.toBe(0);
    return r.stderr;
  };
  const getJson = async <T>(args: readonly string[]): Promise<T> => {
    const r = await kubectl(['get', ...args, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const patch = (resource: string, body: unknown, extra: readonly string[] = []): Promise<RunResult> =>
    kubectl(['-n', NS, 'patch', resource, '--type=merge', '-p', JSON.stringify(body), ...extra]);

  beforeAll(async () => {
    cluster = await startCluster();
    const crds = await kubectl(['apply', ...CRD_FILES.flatMap((f) => ['-f', f])]);
    expect(crds.code, crds.stderr).toBe(0);
    const ns = await kubectl(['create', 'namespace', NS]);
    expect(ns.code, ns.stderr).toBe(0);
  });

  afterAll(async () => {
    await (cluster as Cluster | undefined)?.stop(); // undefined when beforeAll failed
  });

  describe('the YAML itself', () => {
    it('has one file per generated kind, each with its short name, the pika category and a status subresource', () => {
      expect(crdDocs.map((c) => c.doc.spec.names.kind).sort()).toEqual(PIKA_CRDS.map((r) => r.kind).sort());
      const shortNames = Object.fromEntries(crdDocs.map((c) => [c.doc.spec.names.kind, c.doc.spec.names.shortNames]));
      expect(shortNames).toEqual({ PikaConfig: ['pcfg'], PikaServer: ['psrv'], ClusterPikaServer: ['cpsrv'], PikaToken: ['ptok'], UnlockRequest: ['ulr'] });
      for (const { file, doc } of crdDocs) {
        expect(doc.spec.group, file).toBe('pika.io');
        expect(doc.spec.names.categories, file).toEqual(['pika']);
        expect(doc.spec.versions.map((v: { name: string }) => v.name), file).toEqual(['v1alpha1']);
        expect(doc.spec.versions[0].subresources, file).toEqual({ status: {} });
      }
    });

    it('describes every field and preserves no unknown fields', () => {
      for (const { file, doc } of crdDocs) {
        const all = nodes(doc.spec.versions[0].schema.openAPIV3Schema);
        expect(all.filter((n) => !n.node.description).map((n) => n.path), file).toEqual([]);
        expect(all.filter((n) => n.node['x-kubernetes-preserve-unknown-fields']).map((n) => n.path), file).toEqual([]);
      }
    });

    it('offers exactly the server’s capability keys on PikaToken', () => {
      expect(schemaOf('PikaToken').properties!['spec']!.properties!['capabilities']!.items!.enum).toEqual(CAPABILITY_KEYS);
    });
  });

  it('applies all five CRDs and they become Established', async () => {
    const names = crdDocs.map((c) => `crd/${c.doc.metadata.name}`);
    const r = await kubectl(['wait', '--for=condition=Established', ...names, '--timeout=60s']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(5);
  });

  it('accepts every YAML example in crds/README.md', async () => {
    // First, while nothing exists yet: a dry-run apply over an existing object would be an update.
    const readme = readFileSync('crds/README.md', 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const block of blocks) {
      const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], block);
      expect(r.code, `${r.stderr}\n${block}`).toBe(0);
    }
  });

  it('accepts the issue’s example shape and applies the defaults', async () => {
    await apply({ apiVersion: 'v1', kind: 'List', items: [server(), example()] });
    const cfg = await getJson<PikaConfig>(['-n', NS, 'pcfg', 'app']);
    expect(cfg.spec).toEqual({
      serverRef: { kind: 'PikaServer', name: 'main' },
      source: { path: 'myapp/config', format: 'json' },
      target: { kind: 'Secret', name: 'app-config', key: 'config.json', creationPolicy: 'Owner', deletionPolicy: 'Retain' },
      refreshInterval: '10m',
      suspend: false,
    });
    const srv = await getJson<PikaServer>(['-n', NS, 'psrv', 'main']);
    expect(srv.spec).toEqual({ url: 'http://pika.pika-system.svc:8080', tokenSecretRef: { name: 'pika-token', key: 'token' }, timeout: '10s' });
  });

  it('defaults refreshInterval, the server kind, the target kind, rollout debounce, template mergePolicy and PikaToken fields', async () => {
    await apply(config('defaults', { rollout: { targets: [{ kind: 'Deployment', name: 'web' }] }, target: { name: 'x', template: { data: { a: '{{ .a }}' } } } }));
    const cfg = await getJson<PikaConfig>(['-n', NS, 'pcfg', 'defaults']);
    expect(cfg.spec.refreshInterval).toBe('1h');
    expect(cfg.spec.serverRef.kind).toBe('PikaServer');
    expect(cfg.spec.target).toMatchObject({ kind: 'Secret', creationPolicy: 'Owner', deletionPolicy: 'Retain', template: { mergePolicy: 'Replace' } });
    expect(cfg.spec.rollout?.debounce).toBe('10s');
    await apply(token('defaults', {}));
    const tok = await getJson<PikaToken>(['-n', NS, 'ptok', 'defaults']);
    expect(tok.spec.ttl).toBe('24h');
    expect(tok.spec.target.key).toBe('token');
    expect(tok.spec.renewBefore).toBeUndefined();
    await apply(unlock('defaults'));
    const ulr = await getJson<UnlockRequest>(['-n', NS, 'ulr', 'defaults']);
    expect(ulr.spec).toEqual({ serverRef: { kind: 'PikaServer', name: 'main' }, sealedKey: SEALED, maxAttempts: 5, backoff: '10s', suspend: false, requireApproval: false });
  });

  it('accepts the other shapes: sources, versions, map mode with a template, rollout, ClusterPikaServer, PikaToken', async () => {
    const multi: PikaConfig = {
      apiVersion: 'pika.io/v1alpha1',
      kind: 'PikaConfig',
      metadata: meta('multi'),
      spec: {
        serverRef: { kind: 'ClusterPikaServer', name: 'shared' },
        sources: [
          { path: 'shared/base', version: 3 },
          { path: 'myapp/config', variant: 'prod', version: '^1.2.0', keys: ['db', 'features'] },
        ],
        target: {
          kind: 'ConfigMap',
          name: 'multi',
          creationPolicy: 'Merge',
          template: { metadata: { labels: { app: 'web' }, annotations: { note: 'x' } }, data: { 'dsn.txt': 'postgres://{{ .db.host }}/app' }, mergePolicy: 'Merge' },
        },
        rollout: { targets: [{ kind: 'Deployment', name: 'web' }, { kind: 'StatefulSet', name: 'web' }], debounce: '1m30s' },
        refreshInterval: '1.5h',
        suspend: true,
      },
    };
    const cps: ClusterPikaServer = {
      apiVersion: 'pika.io/v1alpha1',
      kind: 'ClusterPikaServer',
      metadata: { name: 'shared' },
      spec: {
        url: 'https://pika.example.com/pika/',
        caBundle: Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64'),
        tokenSecretRef: { namespace: 'pika-system', name: 'pika-token' },
        allowedNamespaces: [NS, 'team-a'],
        timeout: '30s',
      },
    };
    const tok: PikaToken = {
      apiVersion: 'pika.io/v1alpha1',
      kind: 'PikaToken',
      metadata: meta('eso'),
      spec: {
        serverRef: { kind: 'ClusterPikaServer', name: 'shared' },
        scopes: [{ path: 'myapp/**', operations: ['read'] }, { resource: 'vault', path: '*', operations: ['*'] }],
        capabilities: ['key.unlock'],
        ttl: '12h',
        renewBefore: '4h',
        target: { name: 'eso-token', labels: { 'external-secrets.io/type': 'webhook' } },
      },
    };
    const raw = config('raw', { source: { path: 'certs/ca', format: 'raw' }, target: { name: 'ca', key: 'ca.crt' } });
    const fileFormat = config('file-format', { sources: [{ path: 'a' }, { path: 'b', format: 'yaml' }], source: undefined, target: { name: 'f', key: 'app.toml', format: 'toml' } });
    const ulr: UnlockRequest = {
      apiVersion: 'pika.io/v1alpha1',
      kind: 'UnlockRequest',
      metadata: meta('shared'),
      spec: { serverRef: { kind: 'ClusterPikaServer', name: 'shared' }, sealedKey: SEALED, maxAttempts: 1, backoff: '1m30s', suspend: true, requireApproval: true },
    };
    await apply({ apiVersion: 'v1', kind: 'List', items: [multi, cps, tok, raw, fileFormat, clusterServer('everyone', { allowedNamespaces: ['*'] }), ulr] });
  });

  describe('rejects', () => {
    it.each<[string, () => unknown, RegExp]>([
      ['deletionPolicy Delete with creationPolicy Merge', () => config('x', { target: { name: 't', creationPolicy: 'Merge', deletionPolicy: 'Delete' } }), /deletionPolicy Delete requires creationPolicy Owner/],
      ['deletionPolicy Delete with creationPolicy Orphan', () => config('x', { target: { name: 't', creationPolicy: 'Orphan', deletionPolicy: 'Delete' } }), /deletionPolicy Delete requires creationPolicy Owner/],
      ['both source and sources', () => config('x', { sources: [{ path: 'b' }] }), /set exactly one of source and sources/],
      ['neither source nor sources', () => config('x', { source: undefined }), /set exactly one of source and sources/],
      ['an empty sources list', () => config('x', { source: undefined, sources: [] }), /spec.sources in body should have at least 1 items/],
      ['a bad refreshInterval', () => config('x', { refreshInterval: '10 minutes' }), /spec.refreshInterval in body should match/],
      ['a bad rollout debounce', () => config('x', { rollout: { targets: [{ kind: 'Deployment', name: 'w' }], debounce: '5' } }), /spec.rollout.debounce in body should match/],
      ['a bad URL (scheme)', () => ({ ...server('bad'), spec: { url: 'ftp://pika', tokenSecretRef: { name: 't' } } }), /spec.url in body should match/],
      ['a bad URL (query string)', () => ({ ...server('bad'), spec: { url: 'https://pika/?x=1', tokenSecretRef: { name: 't' } } }), /spec.url in body should match/],
      ['a caBundle that is not base64', () => ({ ...server('bad'), spec: { url: 'https://pika', caBundle: 'not base64!', tokenSecretRef: { name: 't' } } }), /spec.caBundle in body must be of type byte/],
      ['both caBundle and caSecretRef', () => ({ ...server('bad'), spec: { url: 'https://pika', caBundle: 'YQ==', caSecretRef: { name: 'ca' }, tokenSecretRef: { name: 't' } } }), /set at most one of caBundle and caSecretRef/],
      ['a namespace in a PikaServer’s tokenSecretRef', () => ({ ...server('bad'), spec: { url: 'https://pika', tokenSecretRef: { name: 't', namespace: 'other' } } }), /unknown field "spec.tokenSecretRef.namespace"/],
      ['a ClusterPikaServer tokenSecretRef without namespace', () => clusterServer('bad', { tokenSecretRef: { name: 't' } }), /spec.tokenSecretRef.namespace: Required value/],
      ['a ClusterPikaServer without allowedNamespaces', () => clusterServer('bad', { allowedNamespaces: undefined }), /spec.allowedNamespaces: Required value/],
      ['"*" beside other namespaces', () => clusterServer('bad', { allowedNamespaces: ['*', NS] }), /"\*" \(every namespace\) must be the only entry/],
      ['a path with ".."', () => config('x', { source: { path: 'myapp/../other' } }), /path segments "\." and "\.\." are not allowed/],
      ['a path with a leading slash', () => config('x', { source: { path: '/myapp/config' } }), /spec.source.path in body should match/],
      ['a path with a variant in it', () => config('x', { sources: [{ path: 'myapp/config@prod' }], source: undefined }), /spec.sources\[0\].path in body should match/],
      ['version 0', () => config('x', { source: { path: 'a', version: 0 } }), /version must be an integer >= 1/],
      ['an empty version string', () => config('x', { source: { path: 'a', version: '' } }), /version must be an integer >= 1/],
      ['raw in map mode', () => config('x', { source: { path: 'a', format: 'raw' } }), /format raw needs target.key/],
      ['raw among merged sources', () => config('x', { source: undefined, sources: [{ path: 'a', format: 'raw' }], target: { name: 't', key: 'k' } }), /format raw cannot be merged/],
      ['keys picked from a raw document', () => config('x', { source: { path: 'a', format: 'raw', keys: ['a'] }, target: { name: 't', key: 'k' } }), /keys cannot be picked from a raw document/],
      ['target.format in map mode', () => config('x', { target: { name: 't', format: 'json' } }), /format applies to file mode only/],
      ['template.type on a ConfigMap', () => config('x', { target: { name: 't', kind: 'ConfigMap', template: { type: 'Opaque' } } }), /template.type applies to Secrets only/],
      ['a template.data key that is not a valid data key', () => config('x', { target: { name: 't', template: { data: { 'a b': 'x' } } } }), /template.data keys must be valid Secret\/ConfigMap keys/],
      ['an unknown target kind', () => config('x', { target: { name: 't', kind: 'Pod' } }), /spec.target.kind: Unsupported value: "Pod"/],
      ['an unknown field', () => config('x', { source: { path: 'a', bogus: true } }), /unknown field "spec.source.bogus"/],
      ['a rollout target listed twice', () => config('x', { rollout: { targets: [{ kind: 'Deployment', name: 'w' }, { kind: 'Deployment', name: 'w' }] } }), /spec.rollout.targets\[1\]: Duplicate value/],
      ['a PikaToken with neither scopes nor capabilities', () => token('x', { scopes: [] }), /a token needs at least one scope or capability/],
      ['a PikaToken ttl under 1m', () => token('x', { ttl: '30s' }), /ttl must be at least 1m/],
      ['a PikaToken renewBefore not shorter than ttl', () => token('x', { ttl: '1h', renewBefore: '60m' }), /renewBefore must be shorter than ttl/],
      ['an unknown capability', () => token('x', { capabilities: ['root'] }), /spec.capabilities\[0\]: Unsupported value: "root"/],
      ['an unknown scope operation', () => token('x', { scopes: [{ path: 'a', operations: ['list'] }] }), /Unsupported value: "list"/],
      ['an UnlockRequest without sealedKey', () => unlock('x', { sealedKey: undefined }), /spec.sealedKey: Required value/],
      ['a sealedKey that is not a compact JWE', () => unlock('x', { sealedKey: `${'a'.repeat(120)}.b.c` }), /spec.sealedKey in body should match/],
      ['a sealedKey that is too short', () => unlock('x', { sealedKey: 'a.b.c.d.e' }), /spec.sealedKey in body should be at least 100 chars long/],
      ['a sealedKey that is too long', () => unlock('x', { sealedKey: `${'a'.repeat(16_400)}.b.c.d.e` }), /spec.sealedKey: Too long/],
      ['maxAttempts 0', () => unlock('x', { maxAttempts: 0 }), /spec.maxAttempts in body should be greater than or equal to 1/],
      ['maxAttempts over 100', () => unlock('x', { maxAttempts: 101 }), /spec.maxAttempts in body should be less than or equal to 100/],
      ['an UnlockRequest backoff under 1s', () => unlock('x', { backoff: '500ms' }), /backoff must be at least 1s/],
      ['an UnlockRequest serverRef of another kind', () => unlock('x', { serverRef: { kind: 'PikaConfig', name: 'main' } }), /spec.serverRef.kind: Unsupported value: "PikaConfig"/],
    ])('%s', async (_name, build, message) => {
      expect(await rejected(build())).toMatch(message);
    });
  });

  describe('immutability (CEL transition rules)', () => {
    it('rejects changing target.kind and allows other changes', async () => {
      const kind = await patch('pcfg/app', { spec: { target: { kind: 'ConfigMap' } } });
      expect(kind.code).not.toBe(0);
      expect(kind.stderr).toMatch(/spec.target.kind: Invalid value: "ConfigMap": target.kind is immutable/);
      const other = await patch('pcfg/app', { spec: { refreshInterval: '5m', target: { name: 'renamed' } } });
      expect(other.code, other.stderr).toBe(0);
    });

    it('rejects changing serverRef on PikaConfig, PikaToken and UnlockRequest (name or kind)', async () => {
      for (const [resource, body] of [
        ['pcfg/app', { spec: { serverRef: { name: 'other' } } }],
        ['pcfg/app', { spec: { serverRef: { kind: 'ClusterPikaServer' } } }],
        ['ptok/defaults', { spec: { serverRef: { name: 'other' } } }],
        ['ulr/defaults', { spec: { serverRef: { name: 'other' } } }],
      ] as const) {
        const r = await patch(resource, body);
        expect(r.code, `${resource} ${JSON.stringify(body)}`).not.toBe(0);
        expect(r.stderr).toMatch(/spec.serverRef: Invalid value: serverRef is immutable/);
      }
      // Spelling out the defaulted kind is no change.
      const same = await patch('pcfg/app', { spec: { serverRef: { kind: 'PikaServer', name: 'main' } } });
      expect(same.code, same.stderr).toBe(0);
    });
  });

  describe('status subresource', () => {
    const status = { observedGeneration: 1, targetName: 'app-config', conditions: [condition('Ready', 'True', 'Synced'), condition('Synced', 'True', 'Synced')] };

    it('ignores status in writes to the main resource', async () => {
      const r = await patch('pcfg/app', { status });
      expect(r.code, r.stderr).toBe(0);
      expect((await getJson<PikaConfig>(['-n', NS, 'pcfg', 'app'])).status).toBeUndefined();
    });

    it('writes status through /status, and ignores spec there', async () => {
      const r = await patch('pcfg/app', { status, spec: { refreshInterval: '2h' } }, ['--subresource=status']);
      expect(r.code, r.stderr).toBe(0);
      const cfg = await getJson<PikaConfig>(['-n', NS, 'pcfg', 'app']);
      expect(cfg.status).toEqual(status);
      expect(cfg.spec.refreshInterval).toBe('5m');
    });

    it('validates status: conditions are a map keyed by type, with a CamelCase reason', async () => {
      const dup = await patch('pcfg/app', { status: { conditions: [condition('Ready', 'True', 'A'), condition('Ready', 'False', 'B')] } }, ['--subresource=status']);
      expect(dup.stderr).toMatch(/status.conditions\[1\]: Duplicate value/);
      const reason = await patch('pcfg/app', { status: { conditions: [condition('Ready', 'True', 'not camel')] } }, ['--subresource=status']);
      expect(reason.stderr).toMatch(/status.conditions\[0\].reason: Invalid value: "not camel": .* should match/);
    });

    it('stores the UnlockRequest status the operator writes, pendingSince exactly as written (approval compares it)', async () => {
      const ulrStatus = {
        observedGeneration: 1,
        attempts: 2,
        lastAttemptTime: '2030-01-01T00:00:01.234Z',
        lastError: 'wrong passphrase (attempt 2 of 5)',
        keyId: 'A'.repeat(43),
        serverId: '5b0e7c9a-1111-4222-8333-944445555666',
        pendingSince: '2030-01-01T00:00:00.123Z',
        lastResetRequest: 'r1',
        conditions: [condition('Ready', 'False', 'WaitingForApproval'), condition('Unlocked', 'False', 'ServerLocked')],
      };
      const r = await patch('ulr/defaults', { status: ulrStatus }, ['--subresource=status']);
      expect(r.code, r.stderr).toBe(0);
      expect((await getJson<UnlockRequest>(['-n', NS, 'ulr', 'defaults'])).status).toEqual(ulrStatus);
      const negative = await patch('ulr/defaults', { status: { attempts: -1 } }, ['--subresource=status']);
      expect(negative.stderr).toMatch(/status.attempts: Invalid value: -1: .*should be greater than or equal to 0/);
    });

    it('needs RBAC on <plural>/status: update on the resource alone cannot write status', async () => {
      const role = await kubectl(['-n', NS, 'create', 'role', 'pcfg-editor', '--verb=get,patch', '--resource=pikaconfigs.pika.io']);
      expect(role.code, role.stderr).toBe(0);
      const bind = await kubectl(['-n', NS, 'create', 'rolebinding', 'pcfg-editor', '--role=pcfg-editor', '--user=pika-unprivileged']);
      expect(bind.code, bind.stderr).toBe(0);
      const args = ['-n', NS, 'patch', 'pcfg/app', '--type=merge'];
      const spec = await cluster.kubectl([...args, '-p', '{"spec":{"suspend":true}}'], { context: 'unprivileged' });
      expect(spec.code, spec.stderr).toBe(0);
      const st = await cluster.kubectl([...args, '--subresource=status', '-p', '{"status":{"targetName":"x"}}'], { context: 'unprivileged' });
      expect(st.code).not.toBe(0);
      expect(st.stderr).toMatch(/forbidden.*pikaconfigs\/status/i);
    });
  });

  describe('kubectl', () => {
    /** `kubectl get` output as rows of cells (columns are separated by at least two spaces). */
    const table = (out: string): string[][] =>
      out
        .trim()
        .split('\n')
        .map((line) => line.split(/\s{2,}/));

    it('shows the printer columns of PikaConfig in `kubectl get pcfg -o wide`', async () => {
      const r = await kubectl(['-n', NS, 'get', 'pcfg', 'app', 'multi', '-o', 'wide']);
      expect(r.code, r.stderr).toBe(0);
      const [header, app, multi] = table(r.stdout);
      expect(header).toEqual(['NAME', 'SERVER', 'SOURCE', 'TARGET', 'KIND', 'READY', 'SYNCED', 'REASON', 'REFRESH', 'LAST SYNC', 'AGE']);
      expect(app?.slice(0, 9)).toEqual(['app', 'main', 'myapp/config', 'renamed', 'Secret', 'True', 'True', 'Synced', '5m']);
      // `sources`: the Source column shows the first path; no status yet, so Ready and Synced are empty.
      expect(multi?.slice(0, 5)).toEqual(['multi', 'shared', 'shared/base', 'multi', 'ConfigMap']);
      const narrow = table((await kubectl(['-n', NS, 'get', 'pcfg', 'app'])).stdout)[0];
      expect(narrow).toEqual(['NAME', 'SERVER', 'SOURCE', 'TARGET', 'READY', 'SYNCED', 'AGE']);
    });

    it('shows the printer columns of the other kinds', async () => {
      const header = async (args: string[]): Promise<string[] | undefined> => table((await kubectl(['get', ...args, '-o', 'wide'])).stdout)[0];
      expect(await header(['-n', NS, 'psrv'])).toEqual(['NAME', 'URL', 'READY', 'UNLOCKED', 'VERSION', 'REASON', 'AGE']);
      expect(await header(['cpsrv'])).toEqual(['NAME', 'URL', 'READY', 'UNLOCKED', 'NAMESPACES', 'VERSION', 'REASON', 'AGE']);
      expect(await header(['-n', NS, 'ptok'])).toEqual(['NAME', 'SERVER', 'SECRET', 'TTL', 'EXPIRES', 'READY', 'REASON', 'TOKEN ID', 'AGE']);
      expect(await header(['-n', NS, 'ulr'])).toEqual(['NAME', 'SERVER', 'READY', 'UNLOCKED', 'REASON', 'ATTEMPTS', 'LAST UNLOCK', 'KEY ID', 'SUSPEND', 'APPROVAL', 'AGE']);
      const narrow = table((await kubectl(['-n', NS, 'get', 'ulr', 'shared'])).stdout);
      expect(narrow[0]).toEqual(['NAME', 'SERVER', 'READY', 'UNLOCKED', 'REASON', 'ATTEMPTS', 'AGE']);
      expect(narrow[1]?.slice(0, 2)).toEqual(['shared', 'shared']);
    });

    it('lists every namespaced kind under the `pika` category and resolves the short names', async () => {
      const r = await kubectl(['-n', NS, 'get', 'pika', '-o', 'name']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^pikaserver.pika.io\/main$/m);
      expect(r.stdout).toMatch(/^pikaconfig.pika.io\/app$/m);
      expect(r.stdout).toMatch(/^pikatoken.pika.io\/eso$/m);
      expect(r.stdout).toMatch(/^unlockrequest.pika.io\/shared$/m);
      const short = await kubectl(['get', 'cpsrv,psrv,pcfg,ptok,ulr', '-A', '-o', 'name']);
      expect(short.code, short.stderr).toBe(0);
      expect(short.stdout).toMatch(/^clusterpikaserver.pika.io\/shared$/m);
    });
  });
});
