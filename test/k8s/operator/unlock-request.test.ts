/**
 * UnlockRequest end to end (issue 8.4): a real kube-apiserver, a real pika server PROCESS (the
 * built dist/) restarted on the same data dir behind a fixed-port TCP forwarder (what a Service
 * in front of a restarted pod is), the operator in-process with its default intervals, and
 * `pika seal` run against the operator's `/v1/cert.pem` and the server's `/api/v1/key/status`.
 * The cases run in order on one server: unlock after a restart (measured), suspend, a sealed
 * value copied under another name, a wrong passphrase against its budget, approval mode.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type KubernetesObject, type V1Secret } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKube, type Kube } from '../../../src/operator/kube/kube.ts';
import { buildOperator } from '../../../src/operator/operator.ts';
import { APPROVE_ANNOTATION } from '../../../src/operator/reconcilers/unlock-request-reconciler.ts';
import { runSeal } from '../../../src/operator/unlock/seal-command.ts';
import { keysOfSecret } from '../../../src/operator/unlock/sealing-keys.ts';
import type { UnlockRequest } from '../../../src/shared/crds/index.ts';
import { register } from '../../e2e/support/http.ts';
import { makeTempDir, type PikaProcess, startPika, stopAllPika } from '../../e2e/support/server-process.ts';
import { type Cluster, startCluster } from '../cluster.ts';
import { OPERATOR_NS, operatorConfig } from './operator-env.ts';

const NS = 'demo';
const SERVER_KEY = 'unlock-request e2e server passphrase';
const WRONG_KEY = 'not the server passphrase at all';

let cluster: Cluster;
let kube: Kube;
let pika: PikaProcess;
let dataDir: string;
let forwarder: Forwarder;
let operator: ReturnType<typeof buildOperator>;
let operatorUrl: string;
const logs: string[] = [];

/** A TCP forwarder on a fixed port to whichever port pika listens on now. */
interface Forwarder {
  readonly url: string;
  retarget(port: number): void;
  close(): Promise<void>;
}

async function startForwarder(initialPort: number): Promise<Forwarder> {
  let target = initialPort;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    retarget(port) {
      target = port;
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => { resolve(); });
    }),
  };
}

const keyStatus = async () => (await (await fetch(`${forwarder.url}/api/v1/key/status`)).json()) as { initialized: boolean; unlocked: boolean; server_id: string };

/** Stops pika and starts it again on the same data dir (locked, as after any restart); returns when it answers. */
async function restartPika(): Promise<void> {
  await pika.stop();
  pika = await startPika({ dataDir });
  forwarder.retarget(pika.port);
  expect((await keyStatus()).unlocked).toBe(false);
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

const readRequest = (name: string) => kube.get<UnlockRequest>({ apiVersion: 'pika.io/v1alpha1', kind: 'UnlockRequest', namespace: NS, name });
const ready = async (name: string) => {
  const c = (await readRequest(name))?.status?.conditions?.find((x) => x.type === 'Ready');
  return c ? `${c.status}/${c.reason}` : undefined;
};

async function eventsOf(name: string): Promise<{ type: string; reason: string; message: string; count?: number }[]> {
  const listed = JSON.parse(await kubectlOk(['get', 'events', '-n', NS, '-o', 'json'])) as { items: { type: string; reason: string; message: string; count?: number; involvedObject: { kind: string; name: string } }[] };
  return listed.items.filter((e) => e.involvedObject.kind === 'UnlockRequest' && e.involvedObject.name === name);
}

/** `pika seal` as a user runs it: the key from the operator, the id from the server, the passphrase on stdin. */
async function sealed(name: string, passphrase: string, extra: string[] = []): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSeal(['--operator-url', operatorUrl, '-n', NS, '--name', name, '--server-url', forwarder.url, ...extra], {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    readPassphrase: async () => passphrase,
    readFile: () => Promise.reject(new Error('no files here')),
    fetch,
  });
  expect(code, err.join('')).toBe(0);
  return out.join('');
}

async function unlockAttempts(outcome: string): Promise<number> {
  const metric = await operator.metrics.registry.getSingleMetric('pika_operator_unlock_attempts_total')?.get();
  return metric?.values.find((v) => v.labels['outcome'] === outcome)?.value ?? 0;
}

/** Nothing may ever show the passphrases: status, Events, the operator's logs. */
async function expectNoPassphraseAnywhere(): Promise<void> {
  const requests = await kubectlOk(['get', 'unlockrequests', '-n', NS, '-o', 'json']);
  const events = await kubectlOk(['get', 'events', '-n', NS, '-o', 'json']);
  for (const text of [requests, events, logs.join('\n')]) {
    expect(text).not.toContain(SERVER_KEY);
    expect(text).not.toContain(WRONG_KEY);
  }
}

beforeAll(async () => {
  dataDir = makeTempDir('pika-unlock-');
  [cluster, pika] = await Promise.all([startCluster(), startPika({ dataDir })]);
  forwarder = await startForwarder(pika.port);
  const admin = await register(pika.baseUrl);
  expect((await admin.request('POST', '/api/v1/key/initialize', { key: SERVER_KEY })).status).toBe(200);
  // The operator's token for this server holds key.unlock and nothing else.
  const minted = await admin.request('POST', '/api/v1/tokens', { name: 'operator-unlock', scopes: [], capabilities: ['key.unlock'] });
  expect(minted.status, minted.text()).toBe(201);

  await kubectlOk(['apply', '-f', 'crds/']);
  await kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  for (const ns of [NS, OPERATOR_NS]) await kubectlOk(['create', 'namespace', ns]);
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  kube = createKube(kc);
  await kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pika-token', namespace: NS }, stringData: { token: minted.json<{ raw_key: string }>().raw_key } } as KubernetesObject, 'unlock-test');
  await kube.apply({ apiVersion: 'pika.io/v1alpha1', kind: 'PikaServer', metadata: { name: 'main', namespace: NS }, spec: { url: forwarder.url, tokenSecretRef: { name: 'pika-token' } } } as KubernetesObject, 'unlock-test');

  // The operator with the production intervals: unlock poll 5 s, locked/unreachable 2 s.
  const record = (level: string) => (obj: object, msg?: string) => { logs.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`); };
  operator = buildOperator(operatorConfig({ leaderElection: false, lockedCheckIntervalMs: 2_000, unlockCheckIntervalMs: 5_000 }), {
    kubeConfig: kc,
    logger: { info: record('info'), warn: record('warn'), error: record('error'), debug: record('debug') },
  });
  await operator.start();
  operatorUrl = `http://127.0.0.1:${(operator.healthAddress() as AddressInfo).port}`;
}, 600_000);

afterAll(async () => {
  await operator.stop().catch(() => undefined);
  await forwarder.close();
  await stopAllPika();
  await cluster.stop();
}, 60_000);

describe('UnlockRequest', () => {
  it('serves the sealing key the operator generated into its Secret', async () => {
    const secret = await kube.get<V1Secret>({ apiVersion: 'v1', kind: 'Secret', namespace: OPERATOR_NS, name: 'pika-operator-sealing' });
    const keys = await keysOfSecret(secret);
    expect(keys).toHaveLength(1);
    expect(keys[0]!.publicKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
    const response = await fetch(`${operatorUrl}/v1/cert.pem`);
    expect(response.headers.get('x-pika-key-id')).toBe(keys[0]!.kid);
    expect(await response.text()).toBe(keys[0]!.publicPem);
  });

  it('unlocks a restarted server within 10 s, with a value made by `pika seal`', async () => {
    const manifest = await sealed('main', SERVER_KEY);
    const parsed = parse(manifest) as UnlockRequest;
    expect(parsed.spec.serverRef).toEqual({ kind: 'PikaServer', name: 'main' });
    await kubectlOk(['apply', '-f', '-'], manifest);
    await expect.poll(() => ready('main'), { timeout: 15_000 }).toBe('True/ServerUnlocked');
    const before = await readRequest('main');
    expect(before?.status).toMatchObject({ serverId: (await keyStatus()).server_id, attempts: 0, observedGeneration: 1 });

    const stoppedAt = Date.now();
    await restartPika();
    const lockedAt = Date.now();
    await expect.poll(async () => (await keyStatus()).unlocked, { timeout: 10_000, interval: 50 }).toBe(true);
    const latency = Date.now() - lockedAt;
    console.log(`UnlockRequest: unlocked ${latency} ms after the restarted server answered (${Date.now() - stoppedAt} ms after the stop began)`);
    expect(latency).toBeLessThan(10_000);

    await expect.poll(() => ready('main')).toBe('True/Unlocked');
    const after = await readRequest('main');
    expect(after?.status).toMatchObject({ attempts: 0, keyId: before?.status?.keyId });
    expect(Date.parse(after?.status?.lastUnlockTime ?? '')).toBeGreaterThanOrEqual(lockedAt - 1_000);
    expect(after?.status?.conditions?.find((c) => c.type === 'Unlocked')?.status).toBe('True');
    expect((await eventsOf('main')).map((e) => `${e.type}/${e.reason}`)).toContain('Normal/Unlocked');
    expect(await unlockAttempts('unlocked')).toBe(1);
    await expectNoPassphraseAnywhere();
  });

  it('does nothing while suspended: the server stays locked', async () => {
    await kubectlOk(['patch', 'unlockrequest', '-n', NS, 'main', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await expect.poll(async () => (await readRequest('main'))?.status?.observedGeneration, { timeout: 10_000 }).toBe(2);
    await restartPika();
    await expect.poll(() => ready('main'), { timeout: 10_000 }).toBe('False/Suspended');
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await keyStatus()).unlocked).toBe(false);
    expect(await unlockAttempts('unlocked')).toBe(1);
  });

  it('refuses the same sealed value copied into another UnlockRequest name; the server stays locked', async () => {
    const original = await readRequest('main');
    await kubectlOk(['apply', '-f', '-'], `
apiVersion: pika.io/v1alpha1
kind: UnlockRequest
metadata: {name: copy, namespace: ${NS}}
spec:
  serverRef: {name: main}
  sealedKey: ${original?.spec.sealedKey ?? ''}
`);
    await expect.poll(() => ready('copy'), { timeout: 10_000 }).toBe('False/BindingMismatch');
    const copy = await readRequest('copy');
    expect(copy?.status?.conditions?.find((c) => c.type === 'Ready')?.message).toMatch(/bound to name "main", not "copy"/);
    expect(copy?.status?.lastError).toMatch(/name "main", not "copy"/);
    expect((await eventsOf('copy')).map((e) => `${e.type}/${e.reason}`)).toEqual(['Warning/BindingMismatch']);
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await keyStatus()).unlocked).toBe(false);
    expect(await unlockAttempts('wrong_passphrase')).toBe(0);
    expect(await unlockAttempts('unlocked')).toBe(1);
    await kubectlOk(['delete', 'unlockrequest', '-n', NS, 'copy']);
  });

  it('stops after the attempt budget on a wrong passphrase, with a clear condition and no further attempts', async () => {
    const manifest = parse(await sealed('wrong', WRONG_KEY)) as UnlockRequest;
    manifest.spec = { ...manifest.spec, maxAttempts: 2, backoff: '1s' };
    await kubectlOk(['apply', '-f', '-'], JSON.stringify(manifest));
    await expect.poll(() => ready('wrong'), { timeout: 20_000 }).toBe('False/AttemptBudgetExhausted');
    const status = (await readRequest('wrong'))?.status;
    expect(status).toMatchObject({ attempts: 2, lastError: 'wrong passphrase (attempt 2 of 2)' });
    expect(status?.conditions?.find((c) => c.type === 'Ready')?.message).toMatch(/pika rejected the passphrase 2 times \(maxAttempts 2\): no further attempts until the spec changes or the annotation pika.io\/reset-attempts gets a new value/);
    expect(await unlockAttempts('wrong_passphrase')).toBe(2);
    const reasons = (await eventsOf('wrong')).map((e) => `${e.type}/${e.reason}`);
    expect(reasons.filter((r) => r === 'Warning/WrongPassphrase')).toHaveLength(1); // attempt 1; the second is the budget's
    expect(reasons).toContain('Warning/AttemptBudgetExhausted');
    // No further attempts, whatever comes: time, and another restart (a `locked` event).
    await new Promise((r) => setTimeout(r, 4_000));
    await restartPika();
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await unlockAttempts('wrong_passphrase')).toBe(2);
    expect((await readRequest('wrong'))?.status?.attempts).toBe(2);
    expect((await keyStatus()).unlocked).toBe(false);
    await expectNoPassphraseAnywhere();
  });

  it('approval mode: no attempt until the annotation holds this lock’s pendingSince', async () => {
    await kubectlOk(['patch', 'unlockrequest', '-n', NS, 'main', '--type=merge', '-p', '{"spec":{"suspend":false,"requireApproval":true}}']);
    await expect.poll(() => ready('main'), { timeout: 10_000 }).toBe('False/WaitingForApproval');
    const pendingSince = (await readRequest('main'))?.status?.pendingSince;
    expect(pendingSince).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect((await eventsOf('main')).map((e) => `${e.type}/${e.reason}`)).toContain('Normal/ApprovalRequired');
    // An approval that is not for this lock approves nothing.
    await kubectlOk(['annotate', 'unlockrequest', '-n', NS, 'main', `${APPROVE_ANNOTATION}=yes`]);
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await keyStatus()).unlocked).toBe(false);
    expect(await unlockAttempts('unlocked')).toBe(1);

    const approvedAt = Date.now();
    await kubectlOk(['annotate', '--overwrite', 'unlockrequest', '-n', NS, 'main', `${APPROVE_ANNOTATION}=${pendingSince ?? ''}`]);
    await expect.poll(async () => (await keyStatus()).unlocked, { timeout: 10_000, interval: 50 }).toBe(true);
    console.log(`UnlockRequest: unlocked ${Date.now() - approvedAt} ms after the approval`);
    await expect.poll(() => ready('main')).toBe('True/Unlocked');
    expect((await readRequest('main'))?.status?.pendingSince).toBeUndefined();

    // The approval was for that lock only: after the next restart the operator waits again.
    await restartPika();
    await expect.poll(() => ready('main'), { timeout: 10_000 }).toBe('False/WaitingForApproval');
    expect((await readRequest('main'))?.status?.pendingSince).not.toBe(pendingSince);
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await keyStatus()).unlocked).toBe(false);
    await expectNoPassphraseAnywhere();
  });
});
