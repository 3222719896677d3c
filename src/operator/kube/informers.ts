import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, makeInformer, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import type { ClusterPikaServer, PikaConfig, PikaServer, PikaToken, UnlockRequest } from '../../shared/crds/index.ts';

/**
 * List+watch caches of everything the operator reacts to (style §4.2.8): handlers receive only
 * the object's identity and turn it into queue keys; reconcilers read current state from these
 * caches. A watch that fails is restarted with capped backoff (client-node stops on error).
 */

export type InformerEvent = 'add' | 'update' | 'delete';

/** Any object with Kubernetes metadata (the CRD types keep timestamps as the strings they are on the wire). */
type Resource = object;

export interface ResourceInformer<T extends Resource> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
  /** Resolves once the first list is in the cache. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createResourceInformer<T extends Resource>(
  kc: KubeConfig,
  path: string,
  list: () => Promise<{ items: T[] }>,
  options: { readonly labelSelector?: string; readonly onEvent: (type: InformerEvent, obj: T) => void; readonly onError?: (err: unknown) => void },
): ResourceInformer<T> {
  const informer = makeInformer<KubernetesObject>(kc, path, list, options.labelSelector);
  let stopped = false;
  let failures = 0;
  for (const type of ['add', 'update', 'delete'] as const) informer.on(type, (obj) => { options.onEvent(type, obj as T); });
  informer.on('connect', () => { failures = 0; });
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    options.onError?.(err);
    failures++;
    setTimeout(() => {
      if (!stopped) informer.start().catch((e: unknown) => options.onError?.(e));
    }, Math.min(500 * 2 ** Math.min(failures - 1, 6), 30_000)).unref();
  });
  return {
    get: (name, namespace) => informer.get(name, namespace) as T | undefined,
    list: (namespace) => informer.list(namespace) as readonly T[],
    start: () => informer.start(),
    async stop() {
      stopped = true;
      await informer.stop();
    },
  };
}

/** The label every object the operator writes carries; the Secret/ConfigMap informers select on it. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'pika-operator';

export interface Informers {
  readonly configs: ResourceInformer<PikaConfig>;
  readonly servers: ResourceInformer<PikaServer>;
  readonly clusterServers: ResourceInformer<ClusterPikaServer>;
  readonly tokens: ResourceInformer<PikaToken>;
  readonly unlockRequests: ResourceInformer<UnlockRequest>;
  readonly secrets: ResourceInformer<V1Secret>;
  readonly configMaps: ResourceInformer<V1ConfigMap>;
}

export interface InformerHandlers {
  readonly configs: (type: InformerEvent, obj: PikaConfig) => void;
  readonly servers: (type: InformerEvent, obj: PikaServer) => void;
  readonly clusterServers: (type: InformerEvent, obj: ClusterPikaServer) => void;
  readonly tokens: (type: InformerEvent, obj: PikaToken) => void;
  readonly unlockRequests: (type: InformerEvent, obj: UnlockRequest) => void;
  readonly managed: (type: InformerEvent, obj: V1Secret | V1ConfigMap) => void;
  readonly onError?: (resource: string, err: unknown) => void;
}

export function createInformers(kc: KubeConfig, handlers: InformerHandlers): Informers & { start(): Promise<void>; stop(): Promise<void> } {
  const customs = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = <T extends Resource>(plural: string, onEvent: (type: InformerEvent, obj: T) => void) =>
    createResourceInformer<T>(kc, `/apis/pika.io/v1alpha1/${plural}`, async () => (await customs.listClusterCustomObject({ group: 'pika.io', version: 'v1alpha1', plural })) as { items: T[] }, {
      onEvent,
      onError: (err) => handlers.onError?.(plural, err),
    });
  const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
  const informers: Informers = {
    configs: custom<PikaConfig>('pikaconfigs', handlers.configs),
    servers: custom<PikaServer>('pikaservers', handlers.servers),
    clusterServers: custom<ClusterPikaServer>('clusterpikaservers', handlers.clusterServers),
    tokens: custom<PikaToken>('pikatokens', handlers.tokens),
    unlockRequests: custom<UnlockRequest>('unlockrequests', handlers.unlockRequests),
    secrets: createResourceInformer<V1Secret>(kc, '/api/v1/secrets', () => core.listSecretForAllNamespaces({ labelSelector: selector }), {
      labelSelector: selector,
      onEvent: handlers.managed,
      onError: (err) => handlers.onError?.('secrets', err),
    }),
    configMaps: createResourceInformer<V1ConfigMap>(kc, '/api/v1/configmaps', () => core.listConfigMapForAllNamespaces({ labelSelector: selector }), {
      labelSelector: selector,
      onEvent: handlers.managed,
      onError: (err) => handlers.onError?.('configmaps', err),
    }),
  };
  const all = Object.values(informers) as ResourceInformer<Resource>[];
  return {
    ...informers,
    // Servers first: a PikaConfig reconciled before its server is cached would report ServerNotFound.
    async start() {
      await Promise.all([informers.servers.start(), informers.clusterServers.start(), informers.secrets.start(), informers.configMaps.start()]);
      await Promise.all([informers.configs.start(), informers.tokens.start(), informers.unlockRequests.start()]);
    },
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
