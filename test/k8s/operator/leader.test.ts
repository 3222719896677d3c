/**
 * Leader election on a real Lease: one leader at a time, hand-over on release, take-over after
 * expiry, and never two leaders from a race (compare-and-swap on resourceVersion).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeaderElector, leaseApi, type LeaseApi } from '../../../src/operator/runtime/leader-election.ts';
import { type Cluster, startCluster } from '../cluster.ts';

let cluster: Cluster;
let api: LeaseApi;

beforeAll(async () => {
  cluster = await startCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  api = leaseApi(kc);
  expect((await cluster.kubectl(['create', 'namespace', 'pika-system'])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await cluster.stop();
});

function elector(identity: string, name: string, now: () => number = Date.now) {
  const log: string[] = [];
  const e = createLeaderElector(api, {
    namespace: 'pika-system',
    name,
    identity,
    leaseDurationMs: 15_000,
    now,
    onStartedLeading: () => log.push('start'),
    onStoppedLeading: () => log.push('stop'),
  });
  return { e, log };
}

describe('leader election', () => {
  it('elects one leader, hands over on release', async () => {
    const a = elector('replica-a', 'handover');
    const b = elector('replica-b', 'handover');
    await a.e.tick();
    await b.e.tick();
    expect([a.e.isLeader(), b.e.isLeader()]).toEqual([true, false]);
    await a.e.tick(); // renewing keeps it
    await b.e.tick();
    expect(b.e.isLeader()).toBe(false);
    await a.e.stop();
    expect(a.log).toEqual(['start', 'stop']);
    await b.e.tick();
    expect(b.e.isLeader()).toBe(true);
    const lease = await api.read('pika-system', 'handover');
    expect(lease?.spec?.holderIdentity).toBe('replica-b');
    expect(lease?.spec?.leaseTransitions).toBe(1);
  });

  it('takes over a lease that was not renewed in time', async () => {
    let clock = Date.now();
    const a = elector('replica-a', 'expiry', () => clock);
    const b = elector('replica-b', 'expiry', () => clock);
    await a.e.tick();
    expect(a.e.isLeader()).toBe(true);
    clock += 10_000;
    await b.e.tick();
    expect(b.e.isLeader()).toBe(false); // still fresh
    clock += 10_000; // a never renewed: 20 s > 15 s
    await b.e.tick();
    expect(b.e.isLeader()).toBe(true);
  });

  it('lets exactly one of several racing replicas win', async () => {
    const racers = ['r1', 'r2', 'r3', 'r4'].map((id) => elector(id, 'race'));
    await Promise.all(racers.map((r) => r.e.tick()));
    expect(racers.filter((r) => r.e.isLeader())).toHaveLength(1);
  });
});
