/**
 * The real External Secrets Operator against a real pika (SPEC §13.2, issue 8): ESO's controller
 * (github.com/external-secrets/external-secrets, built from the Go module proxy by
 * test/k8s/eso.sh), a real kube-apiserver (cluster.sh), a real pika server process with its public
 * port, and the real `pika operator` process minting the webhook token Secrets from PikaTokens.
 * No part is faked. The manifests are the ones in ci/kubernetes/examples, with only the Service
 * URLs pointed at this test's loopback ports, so the examples are known to work end to end.
 *
 * It shows: ExternalSecrets filled through the provider endpoint (`/eso/v1/secret`, JSON with
 * `jsonPath: $.value`, SecretStore and ClusterSecretStore) and the seed style (`/data/<key>`, raw
 * body); a change in pika reaching the Secret at the next refresh; ESO's rules for a missing key
 * (404 → Retain: Ready=False/SecretSyncedError, Secret kept; Delete: Secret deleted); ESO refusing a
 * token Secret without the label `external-secrets.io/type: webhook`; pika's reason phrase as the
 * only error text ESO shows; a PushSecret writing into pika through `/eso/v1/push`. A second
 * describe applies every example with a server-side dry run, so a schema mistake fails CI.
 *
 * ESO v0.16.2's quirks encoded here (kubernetes-prior-art.md §1a and ESO's source): errors surface
 * as the Event `UpdateFailed` carrying `endpoint gave error <status line>`; `NoSecretError` reads
 * "Secret does not exist"; unlabelled token Secrets fail before any request is sent; the CRD
 * requires `result` even without jsonPath; the default push body cannot take a key with `/`;
 * `.remoteRef.namespace` is not filled (a raw `<no value>` reaches pika).
 *
 * Needs `npm run build:server` first (pika and `pika operator` run from dist/).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, type Session } from '../e2e/support/http.ts';
import { freePort, type PikaProcess, REPO_ROOT, startPika, stopAllPika } from '../e2e/support/server-process.ts';
import { type Cluster, type RunResult, startCluster } from './cluster.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ESO_SH = join(ROOT, 'test/k8s/eso.sh');
const EXAMPLES = join(ROOT, 'ci/kubernetes/examples');
/** The Service URLs the examples name, replaced by this test's loopback URLs. */
const EXAMPLE_PUBLIC_URL = 'http://pika-public.pika-system.svc:8081';
const EXAMPLE_MAIN_URL = 'http://pika.pika-system.svc:8080';
const NS = 'demo';
const LABEL = 'external-secrets.io/type';
/** Generous: ESO retries failures with an exponential backoff, and 2 cores are shared. */
const WAIT_MS = 90_000;

const CONFIG_V1 = 'db:\n  host: v1.internal\n  port: 5432\n  password: "s3cr3t: with colon"\n';
const CONFIG_V2 = 'db:\n  host: db.internal\n  port: 5432\n  password: "s3cr3t: with colon"\n';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Obj {
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  status?: { conditions?: Condition[] };
}
interface K8sEvent {
  type: string;
  reason: string;
  message: string;
}

let cluster: Cluster;
let pika: PikaProcess;
let publicUrl: string;
let admin: Session;
let readToken: string;
const children: ChildProcess[] = [];
const logs = new Map<string, string>();

function run(cmd: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on('close', (code) => { done({ code: code ?? -1, stdout, stderr }); });
  });
}

/** Starts a long-running child whose output is kept for failure messages; killed in afterAll. */
function daemon(name: string, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  logs.set(name, '');
  const keep = (chunk: Buffer) => { logs.set(name, (logs.get(name) ?? '') + chunk.toString()); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  children.push(child);
  return child;
}
const tail = (name: string): string => (logs.get(name) ?? '').split('\n').slice(-40).join('\n');
process.once('exit', () => { for (const c of children) c.kill('SIGKILL'); });

async function kubectl(args: readonly string[], input?: string): Promise<RunResult> {
  return cluster.kubectl(args, input === undefined ? {} : { input });
}
async function ok(args: readonly string[], input?: string): Promise<RunResult> {
  const r = await kubectl(args, input);
  expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}
const apply = (yaml: string) => ok(['apply', '-f', '-'], yaml);

/** An example file with the in-cluster Service URLs pointed at this test's pika. */
function example(file: string): string {
  return readFileSync(join(EXAMPLES, file), 'utf8').replaceAll(EXAMPLE_PUBLIC_URL, publicUrl).replaceAll(EXAMPLE_MAIN_URL, pika.origin);
}

async function getObj(kind: string, name: string, namespace = NS): Promise<Obj | undefined> {
  const r = await kubectl(['get', kind, name, '-n', namespace, '-o', 'json']);
  if (r.code !== 0) {
    expect(r.stderr, `kubectl get ${kind} ${name}`).toMatch(/NotFound/);
    return undefined;
  }
  return JSON.parse(r.stdout) as Obj;
}

/**
 * Polls `probe` until it returns something other than undefined; fails with `diagnose()` (say, the
 * object's status) and the tails of ESO's and the operator's logs.
 */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, diagnose: () => Promise<string> = () => Promise.resolve('')): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}\n${await diagnose()}\n--- external-secrets:\n${tail('eso')}\n--- pika operator:\n${tail('operator')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
/** Status and Events of an object, for failure messages. */
async function describeObj(kind: string, name: string): Promise<string> {
  const got = await kubectl(['get', kind, name, '-n', NS, '-o', 'jsonpath={.status}']);
  const evs = (await events(name)).map((e) => `${e.type} ${e.reason}: ${e.message}`);
  return `--- ${kind} ${name} status: ${got.stdout}${got.stderr}\n${evs.join('\n')}`;
}

/** The decoded data of a Secret once `check` accepts it. */
async function secretData(name: string, check: (data: Record<string, string>) => boolean = () => true): Promise<Record<string, string>> {
  return eventually(`Secret ${NS}/${name}`, async () => {
    const s = await getObj('secret', name);
    if (!s?.data) return undefined;
    const data = Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    return check(data) ? data : undefined;
  }, () => describeObj('externalsecret', name));
}

async function ready(kind: string, name: string, namespace = NS): Promise<Condition | undefined> {
  return (await getObj(kind, name, namespace))?.status?.conditions?.find((c) => c.type === 'Ready');
}
async function waitReady(kind: string, name: string, status: 'True' | 'False', reason: string): Promise<Condition> {
  return eventually(`${kind} ${name} Ready=${status}/${reason}`, async () => {
    const c = await ready(kind, name);
    return c?.status === status && c.reason === reason ? c : undefined;
  }, () => describeObj(kind, name));
}

async function events(name: string): Promise<K8sEvent[]> {
  const r = await ok(['get', 'events', '-n', NS, '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: K8sEvent[] }).items;
}
async function waitEvent(name: string, reason: string, message: RegExp): Promise<K8sEvent> {
  const found = async () => (await events(name)).find((e) => e.reason === reason && message.test(e.message));
  return eventually(`Event ${reason} ${message} on ${name}`, found, () => describeObj('externalsecret', name));
}

/** An ExternalSecret of one key (through SecretStore `pika` by default), refreshed every second. */
function externalSecret(name: string, remote: { key: string; property?: string }, extra: { store?: string; kind?: string; deletionPolicy?: string } = {}): string {
  return `
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: ${name}, namespace: ${NS}}
spec:
  refreshInterval: 1s
  secretStoreRef: {name: ${extra.store ?? 'pika'}, kind: ${extra.kind ?? 'SecretStore'}}
  target: {name: ${name}, deletionPolicy: ${extra.deletionPolicy ?? 'Retain'}}
  data:
    - secretKey: value
      remoteRef: ${JSON.stringify(remote)}
`;
}

async function save(path: string, format: 'json' | 'yaml', content: string): Promise<void> {
  await admin.save(path, { format, content });
}

/** What pika's public port serves at `path` for the read token (what ESO must have copied). */
async function served(path: string): Promise<string> {
  const res = await fetch(`${publicUrl}${path}`, { headers: { Authorization: `Bearer ${readToken}`, Accept: 'application/octet-stream' } });
  expect(res.status, path).toBe(200);
  return res.text();
}

async function seed(): Promise<void> {
  await save('myapp/config', 'yaml', CONFIG_V1);
  await save('myapp/config', 'yaml', CONFIG_V2);
  const prod = await admin.request('POST', '/api/v1/file/myapp/config?variant=prod', { meta: { format: 'yaml' }, content: 'db:\n  host: prod.internal\n' });
  expect(prod.status, prod.text()).toBe(201);
  await save('myapp/feature-flags', 'json', '{"beta": true, "limit": 10, "theme": "dark"}');
  await save('shared/settings', 'json', '{"region": "eu-west-1"}');
  await save('other/secret', 'json', '{"x": "out of the token\'s scope"}');
}

/** A pika token with `tokens.manage` for the operator's PikaServers (it bounds every PikaToken). */
async function operatorToken(): Promise<string> {
  const r = await admin.request('POST', '/api/v1/tokens', {
    name: 'operator',
    scopes: [{ path: '**', operations: ['read', 'write'] }],
    capabilities: ['tokens.manage'],
  });
  expect(r.status, r.text()).toBe(201);
  return r.json<{ raw_key: string }>().raw_key;
}

async function installCrds(esoCrds: string): Promise<void> {
  await ok(['apply', '-f', join(ROOT, 'crds')]);
  // The ESO bundle's CRDs are too big for client-side apply's last-applied annotation (256 KiB).
  await ok(['apply', '--server-side', '-f', esoCrds]);
  await ok(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=120s']);
}

beforeAll(async () => {
  // Built in the background by scripts/test.sh; built here when missing (nothing is skipped).
  const built = await run('bash', [ESO_SH, 'build']);
  if (built.code !== 0) throw new Error(`eso.sh build failed:\n${built.stderr}`);
  const esoBin = built.stdout.trim();
  const crds = await run('bash', [ESO_SH, 'crds']);
  if (crds.code !== 0) throw new Error(`eso.sh crds failed:\n${crds.stderr}`);

  cluster = await startCluster();
  await installCrds(crds.stdout.trim());
  await apply(`
apiVersion: v1
kind: Namespace
metadata: {name: pika-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}, labels: {pika.io/eso: "true"}}
`);

  const publicPort = await freePort();
  pika = await startPika({ env: { PIKA_SERVER_PUBLIC_PORT: String(publicPort) } });
  publicUrl = `http://127.0.0.1:${publicPort}`;
  admin = await register(pika.baseUrl);
  await seed();
  const token = await operatorToken();
  for (const ns of ['pika-system', NS]) await ok(['-n', ns, 'create', 'secret', 'generic', 'pika-token', `--from-literal=token=${token}`]);

  const env = { PATH: process.env['PATH'], KUBECONFIG: cluster.kubeconfig };
  daemon('operator', process.execPath, [join(REPO_ROOT, 'bin', 'pika.js'), 'operator'], {
    ...env,
    PIKA_OPERATOR_LEADER_ELECTION: 'false',
    PIKA_OPERATOR_HEALTH_ADDR: `127.0.0.1:${await freePort()}`,
    PIKA_OPERATOR_IDENTITY: 'eso-test',
    PIKA_LOG_LEVEL: 'info',
  });
  // The controller only (no `webhook` / `certcontroller` subcommands: no admission webhooks, no
  // cert rotation), no leader election, no metrics listener. KUBECONFIG: controller-runtime's
  // --kubeconfig is a Go flag that ESO's cobra command does not expose.
  daemon('eso', esoBin, ['--enable-leader-election=false', '--metrics-addr=0', '--loglevel=debug', '--concurrent=4'], env);
});

afterAll(async () => {
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  const closed = running.map((c) => new Promise((r) => c.once('close', r)));
  for (const c of running) c.kill('SIGTERM');
  const late = setTimeout(() => { for (const c of running) c.kill('SIGKILL'); }, 10_000);
  await Promise.all(closed);
  clearTimeout(late);
  await stopAllPika();
  await cluster.stop();
}, 60_000);

describe('ci/kubernetes/examples against the API server (ESO and pika CRDs installed)', () => {
  const files = readdirSync(EXAMPLES).filter((f) => /\.ya?ml$/.test(f)).sort();

  it('has the ESO and pika examples the README describes', () => {
    const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) expect(readme, `README.md explains ${f}`).toContain(`\`${f}\``);
  });

  it.each(files)('%s passes a server-side dry run', async (file) => {
    const r = await kubectl(['apply', '--dry-run=server', '-f', join(EXAMPLES, file)]);
    expect(r.stderr, file).toBe('');
    expect(r.code, file).toBe(0);
    expect(r.stdout).toMatch(/\(server dry run\)/);
  });

  it('a schema mistake fails the dry run (the check can fail)', async () => {
    const broken = readFileSync(join(EXAMPLES, 'eso-externalsecret.yaml'), 'utf8').replace('deletionPolicy: Retain', 'deletionPolicy: Sometimes');
    const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], broken);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/deletionPolicy: Unsupported value: "Sometimes"/);
  });

  it('ESO v0.16 requires `result` in a webhook store, even without jsonPath (hence `result: {}`)', async () => {
    const raw = readFileSync(join(EXAMPLES, 'eso-secretstore-data.yaml'), 'utf8');
    expect(raw).toContain('      result: {}\n');
    const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], raw.replace('      result: {}\n', ''));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/spec\.provider\.webhook\.result: Required value/);
  });
});

describe('the real ESO controller against a real pika', () => {
  it('the operator mints the token Secrets of pika-tokens.yaml, labelled for ESO', async () => {
    await apply(example('pika-server.yaml'));
    await apply(example('pika-tokens.yaml'));
    for (const [ns, name] of [[NS, 'pika-eso-token'], [NS, 'pika-push-token'], ['pika-system', 'pika-eso-token']] as const) {
      const s = await eventually(`token Secret ${ns}/${name}`, () => getObj('secret', name, ns));
      expect(s.metadata.labels?.[LABEL], `${ns}/${name}`).toBe('webhook');
      expect(Buffer.from(s.data?.['token'] ?? '', 'base64').toString()).toMatch(/^pika_[0-9a-f]{64}$/);
    }
    readToken = Buffer.from((await getObj('secret', 'pika-eso-token'))?.data?.['token'] ?? '', 'base64').toString();
  });

  it('provider endpoint (/eso/v1/secret, jsonPath $.value): SecretStore and ClusterSecretStore fill the Secrets', async () => {
    for (const f of ['eso-secretstore.yaml', 'eso-clustersecretstore.yaml', 'eso-externalsecret.yaml']) await apply(example(f));
    expect(await secretData('myapp-db')).toEqual({
      host: 'db.internal',
      port: '5432',
      password: 's3cr3t: with colon',
      'prod-host': 'prod.internal',
      // dataFrom.extract: ESO parses the JSON itself (booleans and numbers become text).
      beta: 'true',
      limit: '10',
      theme: 'dark',
    });
    expect(await secretData('shared-settings')).toEqual({ region: 'eu-west-1' });
    expect(await ready('externalsecret', 'myapp-db')).toMatchObject({ status: 'True', reason: 'SecretSynced' });
    expect(await ready('secretstore', 'pika')).toMatchObject({ status: 'True', reason: 'Valid' });
    const css = await eventually('ClusterSecretStore pika Ready', async () => {
      const r = await ok(['get', 'clustersecretstore', 'pika', '-o', 'json']);
      return (JSON.parse(r.stdout) as Obj).status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    });
    expect(css.reason).toBe('Valid');
  });

  it('/data style (raw body, the key carries ?variant=&version=): each key is the config file as GET /data serves it', async () => {
    for (const f of ['eso-secretstore-data.yaml', 'eso-externalsecret-data.yaml']) await apply(example(f));
    const data = await secretData('app-config');
    expect(data['config.yaml']).toBe(CONFIG_V2);
    expect(data['config-v1.yaml']).toBe(CONFIG_V1);
    expect(data['config-prod.yaml']).toBe(await served('/data/myapp%2Fconfig%3Fvariant%3Dprod'));
    expect(data['config-prod.yaml']).toContain('prod.internal');
  });

  it('a change in pika reaches the Secret at the next refresh (refreshInterval 1s)', async () => {
    await save('myapp/live', 'json', '{"greeting": "hello"}');
    await apply(externalSecret('live', { key: 'myapp/live', property: 'greeting' }));
    expect(await secretData('live')).toEqual({ value: 'hello' });
    await save('myapp/live', 'json', '{"greeting": "bonjour"}');
    expect(await secretData('live', (d) => d['value'] !== 'hello')).toEqual({ value: 'bonjour' });
  });

  it('a missing key (404): Retain keeps the Secret and turns Ready=False, Delete deletes the Secret', async () => {
    await save('myapp/temp', 'json', '{"kept": "1", "dropped": "2"}');
    await apply(externalSecret('gone-retain', { key: 'myapp/temp', property: 'kept' }));
    await apply(externalSecret('gone-delete', { key: 'myapp/temp', property: 'dropped' }, { deletionPolicy: 'Delete' }));
    expect(await secretData('gone-retain')).toEqual({ value: '1' });
    expect(await secretData('gone-delete')).toEqual({ value: '2' });

    await save('myapp/temp', 'json', '{"other": "3"}'); // both properties gone: 404 Pika Property Not Found
    const retained = await waitReady('externalsecret', 'gone-retain', 'False', 'SecretSyncedError');
    expect(retained.message).toBe('could not get secret data from provider');
    expect((await waitEvent('gone-retain', 'UpdateFailed', /Secret does not exist/)).type).toBe('Warning');
    expect((await getObj('secret', 'gone-retain'))?.data?.['value']).toBe(Buffer.from('1').toString('base64'));

    const deleted = await waitReady('externalsecret', 'gone-delete', 'True', 'SecretDeleted');
    expect(deleted.message).toMatch(/DeletionPolicy=Delete/);
    expect(await eventually('Secret gone-delete deleted', async () => ((await getObj('secret', 'gone-delete')) ? undefined : true))).toBe(true);
  });

  it('ESO refuses a token Secret without the label external-secrets.io/type: webhook (ESO\'s rule since 0.10)', async () => {
    const store = example('eso-secretstore.yaml').replace('name: pika\n  namespace', 'name: unlabelled\n  namespace').replace('name: pika-eso-token', 'name: plain-token');
    expect(store).toContain('name: unlabelled');
    await apply(`
apiVersion: v1
kind: Secret
metadata: {name: plain-token, namespace: ${NS}}
stringData: {token: ${readToken}}
`);
    await apply(store);
    await apply(externalSecret('unlabelled', { key: 'myapp/config', property: 'db.host' }, { store: 'unlabelled' }));
    await waitReady('externalsecret', 'unlabelled', 'False', 'SecretSyncedError');
    await waitEvent('unlabelled', 'UpdateFailed', /secret does not contain needed label 'external-secrets.io\/type: webhook'/);
    expect(await getObj('secret', 'unlabelled')).toBeUndefined();

    // A label with another value is refused too; `webhook` makes the same Secret usable.
    await ok(['-n', NS, 'label', 'secret', 'plain-token', `${LABEL}=other`]);
    await ok(['-n', NS, 'annotate', '--overwrite', 'externalsecret', 'unlabelled', 'force-sync=1']);
    await waitEvent('unlabelled', 'UpdateFailed', /secret type is not 'webhook'/);
    await ok(['-n', NS, 'label', '--overwrite', 'secret', 'plain-token', `${LABEL}=webhook`]);
    await ok(['-n', NS, 'annotate', '--overwrite', 'externalsecret', 'unlabelled', 'force-sync=2']);
    expect(await secretData('unlabelled')).toEqual({ value: 'db.internal' });
  });

  it('only the status line reaches the user: pika\'s reason phrase is the error text (403 out of scope)', async () => {
    await apply(externalSecret('forbidden', { key: 'other/secret', property: 'x' }));
    await waitReady('externalsecret', 'forbidden', 'False', 'SecretSyncedError');
    const event = await waitEvent('forbidden', 'UpdateFailed', /endpoint gave error 403 /);
    expect(event.message).toMatch(/endpoint gave error 403 Pika Forbidden/);
    expect(await getObj('secret', 'forbidden')).toBeUndefined();
  });

  it('ESO v0.16 does not fill .remoteRef.namespace: `&ns={{ .remoteRef.namespace }}` sends a raw <no value>', async () => {
    const store = example('eso-clustersecretstore.yaml')
      .replace('name: pika\nspec', 'name: pika-ns\nspec')
      .replace('{{ .remoteRef.version }}"', '{{ .remoteRef.version }}&ns={{ .remoteRef.namespace }}"');
    expect(store).toContain('&ns={{ .remoteRef.namespace }}"');
    await apply(store);
    await apply(externalSecret('with-ns', { key: 'shared/settings', property: 'region' }, { store: 'pika-ns', kind: 'ClusterSecretStore' }));
    await waitReady('externalsecret', 'with-ns', 'False', 'SecretSyncedError');
    const event = await waitEvent('with-ns', 'UpdateFailed', /endpoint gave error|failed to call endpoint/);
    expect(event.message).toMatch(/endpoint gave error 400 Pika Bad Request/);
  });

  it('PushSecret (eso-pushsecret.yaml) stores a Secret key in pika through /eso/v1/push', async () => {
    await apply(`
apiVersion: v1
kind: Secret
metadata: {name: db-credentials, namespace: ${NS}}
stringData: {password: "pushed: s3cr3t"}
`);
    await apply(example('eso-pushsecret.yaml'));
    const pushed = await eventually('pushed/db-password in pika', async () => {
      const res = await admin.request('GET', '/api/v1/file/pushed/db-password');
      return res.status === 200 ? res : undefined;
    }, () => describeObj('pushsecret', 'db-password'));
    expect(Buffer.from(pushed.json<{ data: string }>().data, 'base64').toString()).toBe('pushed: s3cr3t');
    const synced = await eventually('PushSecret db-password Ready', async () => {
      const c = await ready('pushsecret', 'db-password');
      return c?.status === 'True' ? c : undefined;
    }, () => describeObj('pushsecret', 'db-password'));
    expect(synced.reason).toBe('Synced');
  });

  it('without `body`, ESO\'s default push body template breaks on a remote key with a `/` (hence the example\'s body)', async () => {
    const manifest = example('eso-pushsecret.yaml');
    const body = '      body: "{{ index .remoteRef .remoteRef.remoteKey }}"\n';
    expect(manifest).toContain(body);
    const renamed = manifest.replace(body, '').replace('name: pika-push\n', 'name: pika-push-nobody\n')
      .replace('{name: pika-push, kind', '{name: pika-push-nobody, kind').replace('name: db-password\n', 'name: no-body\n');
    expect(renamed.match(/pika-push-nobody/g)).toHaveLength(2);
    await apply(renamed);
    const failed = await eventually('PushSecret no-body Ready=False', async () => {
      const c = await ready('pushsecret', 'no-body');
      return c?.status === 'False' ? c : undefined;
    }, () => describeObj('pushsecret', 'no-body'));
    expect(failed.message).toMatch(/failed to parse body: template: webhooktemplate:1: bad character U\+002F '\/'/);
  });
});
