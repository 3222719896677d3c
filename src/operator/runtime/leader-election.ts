import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';

/**
 * Leader election on a coordination.k8s.io/v1 Lease (client-go's algorithm, which the JS client
 * lacks): the holder renews every `retryPeriodMs`; anyone may take the lease once it has not been
 * renewed for `leaseDurationMs`; every write is a compare-and-swap on resourceVersion, so two
 * replicas can never both believe they lead. A leader that cannot renew before
 * `renewDeadlineMs` steps down on its own.
 */
export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly now?: () => number;
}

export interface LeaseApi {
  read(namespace: string, name: string): Promise<V1Lease | undefined>;
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

export function leaseApi(kc: KubeConfig): LeaseApi {
  const api = kc.makeApiClient(CoordinationV1Api);
  return {
    async read(namespace, name) {
      try {
        return await api.readNamespacedLease({ namespace, name });
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
    create: (namespace, body) => api.createNamespacedLease({ namespace, body }),
    replace: (namespace, name, body) => api.replaceNamespacedLease({ namespace, name, body }),
  };
}

export function createLeaderElector(api: LeaseApi, options: LeaderElectionOptions) {
  const duration = options.leaseDurationMs ?? 15_000;
  const deadline = options.renewDeadlineMs ?? 10_000;
  const retry = options.retryPeriodMs ?? 2_000;
  const now = options.now ?? Date.now;
  let leading = false;
  let lastRenew = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const micro = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

  function desired(base: V1Lease | undefined, transitions: number): V1Lease {
    const t = now();
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: options.name, namespace: options.namespace, ...(base?.metadata?.resourceVersion ? { resourceVersion: base.metadata.resourceVersion } : {}) },
      spec: {
        holderIdentity: options.identity,
        leaseDurationSeconds: Math.ceil(duration / 1000),
        acquireTime: (leading ? base?.spec?.acquireTime : undefined) ?? (micro(t) as unknown as Date),
        renewTime: micro(t) as unknown as Date,
        leaseTransitions: transitions,
      },
    };
  }

  /** One attempt to acquire or renew; true when we hold the lease afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const current = await api.read(options.namespace, options.name);
    if (!current) {
      await api.create(options.namespace, desired(undefined, 0));
      return true;
    }
    const holder = current.spec?.holderIdentity;
    const renewed = current.spec?.renewTime ? new Date(current.spec.renewTime).getTime() : 0;
    const expired = renewed + (current.spec?.leaseDurationSeconds ?? 0) * 1000 < now();
    if (holder !== options.identity && holder && !expired) return false;
    const transitions = (current.spec?.leaseTransitions ?? 0) + (holder === options.identity ? 0 : 1);
    await api.replace(options.namespace, options.name, desired(current, transitions));
    return true;
  }

  function setLeading(value: boolean): void {
    if (value === leading) return;
    leading = value;
    if (value) options.onStartedLeading();
    else options.onStoppedLeading();
  }

  async function tick(): Promise<void> {
    try {
      const held = await tryAcquireOrRenew();
      if (held) lastRenew = now();
      setLeading(held);
    } catch {
      // A conflict or an API error: we lead only while our last renewal is recent enough.
      if (leading && now() - lastRenew > deadline) setLeading(false);
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void tick().then(schedule);
    }, retry);
    timer.unref();
  }

  return {
    async start(): Promise<void> {
      await tick();
      schedule();
    },
    /** Steps down: releases the lease so another replica can take over without waiting. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (!leading) return;
      try {
        const current = await api.read(options.namespace, options.name);
        if (current?.spec?.holderIdentity === options.identity) {
          const released: V1Lease = {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: options.name, namespace: options.namespace, resourceVersion: current.metadata?.resourceVersion },
            spec: { holderIdentity: '', leaseDurationSeconds: 1, renewTime: micro(now()) as unknown as Date, leaseTransitions: current.spec.leaseTransitions },
          };
          await api.replace(options.namespace, options.name, released);
        }
      } finally {
        setLeading(false);
      }
    },
    isLeader: () => leading,
    tick,
  };
}
