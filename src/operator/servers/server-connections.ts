import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { Agent, fetch as undiciFetch } from 'undici';
import type { ClusterPikaServer, PikaServer } from '../../shared/crds/index.ts';
import { parseDuration } from '../../shared/duration.ts';
import type { Kube } from '../kube/kube.ts';
import { followChangeFeed, type ConfigChange } from '../pika/change-feed.ts';
import { createPikaClient, type PikaClient } from '../pika/pika-client.ts';

/**
 * Resolves a `serverRef` to a live connection: the server object from the informer cache, its
 * token (and CA) from a Secret, a pika client, and the server's change feed. This is where the
 * multi-tenancy rules live (SPEC §13.1, issue 7.7), so no reconciler can bypass them:
 * - a PikaServer serves only its own namespace, and its Secret references carry no namespace;
 * - a ClusterPikaServer serves only the namespaces it lists (`*` for all): a tenant cannot point
 *   at a shared server to borrow its token (no confused deputy).
 * It also tracks each server's lock state, so reconcilers can hold off while it is locked and
 * everything is re-read the moment it unlocks.
 */

export interface ServerRef {
  readonly kind?: 'PikaServer' | 'ClusterPikaServer' | undefined;
  readonly name: string;
}

export interface ServerConnection {
  /** `PikaServer/<ns>/<name>` or `ClusterPikaServer/<name>`. */
  readonly key: string;
  readonly client: PikaClient;
  /** undefined until known. */
  readonly locked: boolean | undefined;
  /** Newest change-feed revision seen for a path (undefined: none seen since connecting). */
  revisionOf(path: string): number | undefined;
  /** The newest revision the feed has seen for any path. */
  readonly revision: number | undefined;
}

/** Why a serverRef cannot be used; `terminal` when only a change to some object can fix it. */
export class ResolveError extends Error {
  readonly reason: string;
  readonly terminal: boolean;
  constructor(reason: string, message: string, terminal: boolean) {
    super(message);
    this.name = 'ResolveError';
    this.reason = reason;
    this.terminal = terminal;
  }
}

export type ServerEvent = { readonly type: 'change'; readonly change: ConfigChange } | { readonly type: 'resync' } | { readonly type: 'locked' } | { readonly type: 'unlocked' };

export interface ServerConnectionsDeps {
  readonly servers: { get(name: string, namespace?: string): PikaServer | undefined };
  readonly clusterServers: { get(name: string): ClusterPikaServer | undefined };
  readonly kube: Pick<Kube, 'get'>;
  readonly onEvent: (serverKey: string, event: ServerEvent) => void;
  readonly onCall?: (route: string, status: number) => void;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  /** How long a token read from its Secret is trusted before it is read again. */
  readonly secretTtlMs?: number;
  readonly feedMaxBackoffMs?: number;
}

interface Entry {
  readonly fingerprint: string;
  readonly resourceVersion: string;
  readonly client: PikaClient;
  locked: boolean | undefined;
  readAt: number;
  feed: { stop(): Promise<void> } | undefined;
  revisions: Map<string, number>;
  revision: number | undefined;
}

export const serverKeyOf = (ref: ServerRef, consumerNamespace: string): string =>
  ref.kind === 'ClusterPikaServer' ? `ClusterPikaServer/${ref.name}` : `PikaServer/${consumerNamespace}/${ref.name}`;

export type ServerConnections = ReturnType<typeof createServerConnections>;

export function createServerConnections(deps: ServerConnectionsDeps) {
  const entries = new Map<string, Entry>();
  const now = deps.now ?? Date.now;
  const ttl = deps.secretTtlMs ?? 30_000;

  async function secretValue(namespace: string, name: string, key: string, what: string): Promise<string> {
    const secret = await deps.kube.get<V1Secret>({ apiVersion: 'v1', kind: 'Secret', namespace, name });
    if (!secret) throw new ResolveError(`${what}SecretNotFound`, `Secret ${namespace}/${name} (${what.toLowerCase()}) does not exist`, false);
    const raw = secret.data?.[key];
    if (raw === undefined) throw new ResolveError(`${what}SecretKeyMissing`, `Secret ${namespace}/${name} has no key "${key}"`, false);
    const value = Buffer.from(raw, 'base64').toString('utf8').trim();
    if (value === '') throw new ResolveError(`${what}SecretKeyMissing`, `key "${key}" of Secret ${namespace}/${name} is empty`, false);
    return value;
  }

  /** The PEM CA to trust for the server, if it names one (inline or from a Secret). */
  async function caOf(spec: PikaServer['spec'] | ClusterPikaServer['spec'], secretNamespace: string): Promise<string | undefined> {
    if (spec.caBundle) return Buffer.from(spec.caBundle, 'base64').toString('utf8');
    if (!spec.caSecretRef) return undefined;
    const caNamespace = 'namespace' in spec.caSecretRef ? spec.caSecretRef.namespace : secretNamespace;
    return secretValue(caNamespace, spec.caSecretRef.name, spec.caSecretRef.key ?? 'ca.crt', 'CA');
  }

  /** The server object a consumer in `namespace` may use, after the tenancy checks. */
  function serverFor(ref: ServerRef, namespace: string, tenancy = true): { spec: PikaServer['spec'] | ClusterPikaServer['spec']; secretNamespace: string; resourceVersion: string } {
    if (ref.kind === 'ClusterPikaServer') {
      const server = deps.clusterServers.get(ref.name);
      if (!server) throw new ResolveError('ServerNotFound', `ClusterPikaServer ${ref.name} does not exist`, false);
      const allowed = server.spec.allowedNamespaces;
      if (tenancy && !allowed.includes('*') && !allowed.includes(namespace))
        throw new ResolveError('NamespaceNotAllowed', `ClusterPikaServer ${ref.name} does not allow namespace ${namespace} (spec.allowedNamespaces)`, true);
      return { spec: server.spec, secretNamespace: server.spec.tokenSecretRef.namespace, resourceVersion: server.metadata.resourceVersion ?? '' };
    }
    const server = deps.servers.get(ref.name, namespace);
    if (!server) throw new ResolveError('ServerNotFound', `PikaServer ${namespace}/${ref.name} does not exist`, false);
    return { spec: server.spec, secretNamespace: namespace, resourceVersion: server.metadata.resourceVersion ?? '' };
  }

  async function build(key: string, ref: ServerRef, namespace: string, tenancy: boolean): Promise<Entry> {
    const { spec, secretNamespace, resourceVersion } = serverFor(ref, namespace, tenancy);
    const token = await secretValue(secretNamespace, spec.tokenSecretRef.name, spec.tokenSecretRef.key ?? 'token', 'Token');
    const ca = await caOf(spec, secretNamespace);
    const fingerprint = createHash('sha256').update(`${resourceVersion}\0${token}\0${ca ?? ''}`).digest('hex');
    const previous = entries.get(key);
    if (previous && previous.fingerprint === fingerprint) {
      previous.readAt = now();
      return previous;
    }
    if (previous) await previous.feed?.stop();
    const timeoutMs = spec.timeout ? parseDuration(spec.timeout) : 10_000;
    // A private CA needs undici's own fetch with a dispatcher; the system trust store does not.
    const doFetch = ca ? ((input: string, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher: new Agent({ connect: { ca } }) })) as unknown as typeof fetch : deps.fetch;
    const client = createPikaClient({ url: spec.url.replace(/\/+$/, ''), token, timeoutMs }, { ...(doFetch ? { fetch: doFetch } : {}), ...(deps.onCall ? { onCall: deps.onCall } : {}) });
    const entry: Entry = { fingerprint, resourceVersion, client, locked: previous?.locked, readAt: now(), feed: undefined, revisions: new Map(), revision: undefined };
    entries.set(key, entry);
    return entry;
  }

  function startFeed(key: string, entry: Entry): void {
    if (entry.feed) return;
    entry.feed = followChangeFeed(
      entry.client,
      {
        onChange(change) {
          entry.revisions.set(change.path, change.revision);
          entry.revision = Math.max(entry.revision ?? 0, change.revision);
          deps.onEvent(key, { type: 'change', change });
        },
        onResync() {
          deps.onEvent(key, { type: 'resync' });
        },
      },
      { maxBackoffMs: deps.feedMaxBackoffMs ?? 5_000 },
    );
  }

  function view(key: string, entry: Entry): ServerConnection {
    return {
      key,
      client: entry.client,
      get locked() {
        return entry.locked;
      },
      revisionOf: (path) => entry.revisions.get(path),
      get revision() {
        return entry.revision;
      },
    };
  }

  return {
    /**
     * The connection for `ref` as seen from `namespace`; `feed` starts the server's change feed
     * (PikaConfigs want it, PikaTokens do not). `tenancy: false` is for the server's own
     * reconciler only (checking a ClusterPikaServer is not serving a namespace). Throws ResolveError.
     */
    async resolve(ref: ServerRef, namespace: string, options: { feed?: boolean; tenancy?: boolean } = {}): Promise<ServerConnection> {
      const key = serverKeyOf(ref, namespace);
      const cached = entries.get(key);
      const tenancy = options.tenancy ?? true;
      // Tenancy is checked on every call, from the cache: an allowedNamespaces change applies at once.
      const { resourceVersion } = serverFor(ref, namespace, tenancy);
      const entry = cached && now() - cached.readAt < ttl && cached.resourceVersion === resourceVersion ? cached : await build(key, ref, namespace, tenancy);
      if (options.feed) startFeed(key, entry);
      return view(key, entry);
    },
    /**
     * Records what a call saw. Transitions are announced once: `locked` so the server is watched
     * closely from now on, `unlocked` so every dependent resyncs at once.
     */
    setLocked(key: string, locked: boolean): void {
      const entry = entries.get(key);
      if (!entry) return;
      const was = entry.locked;
      entry.locked = locked;
      if (was !== true && locked) deps.onEvent(key, { type: 'locked' });
      if (was === true && !locked) deps.onEvent(key, { type: 'unlocked' });
    },
    lockedState(key: string): boolean | undefined {
      return entries.get(key)?.locked;
    },
    /** The server object is gone: drop its connection and feed. */
    async forget(key: string): Promise<void> {
      const entry = entries.get(key);
      entries.delete(key);
      await entry?.feed?.stop();
    },
    async stop(): Promise<void> {
      await Promise.all([...entries.values()].map(async (e) => e.feed?.stop()));
      entries.clear();
    },
  };
}

