/**
 * The deploy artifacts (SPEC §13.3) against a real kube-apiserver: the kustomize base
 * (ci/kubernetes) and the Helm chart (charts/pika, Helm built by test/k8s/helm.sh) render, lint,
 * and every rendered object passes a server-side dry run; the pod templates pass the `restricted`
 * Pod Security Standard as the API server enforces it; the operator's RBAC grants what it needs and
 * nothing more (`kubectl auth can-i` on the real authorizer); the CRD copies kustomize needs are
 * in sync with crds/, the chart's crds/ is crds/ itself; values.yaml is documented and its schema
 * rejects bad values.
 */
import { execFile } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, parse, parseAllDocuments, parseDocument, type YAMLMap } from 'yaml';
import { type Cluster, type RunResult, startCluster } from './cluster.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const HELM_SH = join(ROOT, 'test/k8s/helm.sh');
const CHART = join(ROOT, 'charts/pika');
const KUSTOMIZE = join(ROOT, 'ci/kubernetes');
const NS = 'pika-system';
const HELM_NS = 'pika-helm';
const OPERATOR_SA = `system:serviceaccount:${NS}:pika-operator`;
const SERVER_SA = `system:serviceaccount:${NS}:pika-server`;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  securityContext: Record<string, unknown>;
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  enableServiceLinks: boolean;
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; [k: string]: unknown }[];
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function run(cmd: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** YAML 1.1, as the API machinery reads manifests (`defaultMode: 0400` is octal). */
const docs = (yaml: string): K8sObject[] =>
  parseAllDocuments(yaml, { version: '1.1' })
    .map((d) => d.toJSON() as K8sObject | null)
    .filter((d): d is K8sObject => d !== null);
const find = (objs: K8sObject[], kind: string, name?: string): K8sObject => {
  const hit = objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!hit) throw new Error(`no ${kind} ${name ?? ''} in ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hit;
};
const podSpec = (workload: K8sObject): PodSpec => (workload['spec'] as { template: { spec: PodSpec } }).template.spec;
const kinds = (objs: K8sObject[]): string[] => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const crdFiles = (): string[] => readdirSync(join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml')).sort();

const HARDENED_CONTAINER = {
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The security fields both pods must have, whichever tool rendered them. */
function expectHardened(spec: PodSpec, what: string): void {
  expect(spec.securityContext, what).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
  expect(spec.enableServiceLinks, `${what}: service links inject PIKA_* variables`).toBe(false);
  for (const c of spec.containers) expect(c.securityContext, `${what}/${c.name}`).toMatchObject(HARDENED_CONTAINER);
}

/** A Pod as the StatefulSet or Deployment controller would create it from the template. */
function podFrom(workload: K8sObject, namespace: string): K8sObject {
  const spec = structuredClone(podSpec(workload));
  const claims = (workload['spec'] as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? [];
  spec.volumes = [...(spec.volumes ?? []), ...claims.map((c) => ({ name: c.metadata.name, persistentVolumeClaim: { claimName: `${c.metadata.name}-${workload.metadata.name}-0` } }))];
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${workload.metadata.name}-0`, namespace }, spec };
}

describe('deploy artifacts (ci/kubernetes, charts/pika, Dockerfile)', () => {
  let cluster: Cluster;
  let helmBin: string;
  let kustomized: K8sObject[];

  const kubectl = (args: readonly string[], input?: string): Promise<RunResult> => cluster.kubectl(args, input === undefined ? {} : { input });
  const ok = async (args: readonly string[], input?: string): Promise<RunResult> => {
    const r = await kubectl(args, input);
    expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  const helm = (args: readonly string[]): Promise<RunResult> => run(helmBin, args);
  /** `helm template` of the chart; fails the test on a non-zero exit. */
  const template = async (release: string, ...set: string[]): Promise<K8sObject[]> => {
    const r = await helm(['template', release, CHART, '--namespace', HELM_NS, ...set.flatMap((s) => ['--set', s])]);
    expect(r.code, r.stderr).toBe(0);
    return docs(r.stdout);
  };
  /** Server-side dry run of every object: schema, defaults, admission (PodSecurity warnings included). */
  const dryRun = async (objs: K8sObject[]): Promise<RunResult> => {
    const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], objs.map((o) => JSON.stringify(o)).join('\n'));
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const canI = async (as: string, ...args: string[]): Promise<boolean> => {
    const r = await kubectl(['auth', 'can-i', '--as', as, ...args]);
    expect(r.stdout.trim(), `${args.join(' ')}: ${r.stderr}`).toMatch(/^(yes|no)$/);
    return r.stdout.trim() === 'yes';
  };

  beforeAll(async () => {
    const built = await run('bash', [HELM_SH, 'build']);
    if (built.code !== 0) throw new Error(`helm.sh build failed:\n${built.stderr}`);
    helmBin = built.stdout.trim();
    cluster = await startCluster();
    const rendered = await kubectl(['kustomize', KUSTOMIZE]);
    if (rendered.code !== 0) throw new Error(`kubectl kustomize ${KUSTOMIZE}: ${rendered.stderr}`);
    kustomized = docs(rendered.stdout);
    // CRDs for real (custom resources and RBAC on them then validate), then the namespaces the
    // namespaced objects' dry runs need: the base's own, and one for the chart, both enforcing
    // the restricted Pod Security Standard.
    await ok(['apply', '--server-side', ...crdFiles().flatMap((f) => ['-f', join(ROOT, 'crds', f)])]);
    const crdNames = crdFiles().map((f) => `crd/${(parse(readFileSync(join(ROOT, 'crds', f), 'utf8')) as K8sObject).metadata.name}`);
    await ok(['wait', '--for=condition=Established', '--timeout=60s', ...crdNames]);
    await ok(['apply', '-f', '-'], JSON.stringify(find(kustomized, 'Namespace')));
    const helmNs = structuredClone(find(kustomized, 'Namespace'));
    helmNs.metadata = { name: HELM_NS, labels: helmNs.metadata.labels ?? {} };
    await ok(['apply', '-f', '-'], JSON.stringify(helmNs));
  });

  afterAll(async () => {
    await (cluster as Cluster | undefined)?.stop();
  });

  describe('CRDs have one source, crds/', () => {
    it('ci/kubernetes/crds/ holds current copies (sync-crds.sh --check) that kustomize renders unchanged', async () => {
      const check = await run('bash', [join(KUSTOMIZE, 'sync-crds.sh'), '--check']);
      expect(check.code, check.stderr).toBe(0);
      const crds = kustomized.filter((o) => o.kind === 'CustomResourceDefinition');
      expect(crds.map((c) => c.metadata.name).sort()).toEqual(
        crdFiles()
          .map((f) => (parse(readFileSync(join(ROOT, 'crds', f), 'utf8')) as K8sObject).metadata.name)
          .sort(),
      );
      for (const f of crdFiles()) {
        const source = parse(readFileSync(join(ROOT, 'crds', f), 'utf8')) as K8sObject;
        const out = find(crds, 'CustomResourceDefinition', source.metadata.name);
        expect(out['spec'], f).toEqual(source['spec']);
      }
    });

    it('the check fails on a stale copy', async () => {
      const copy = join(KUSTOMIZE, 'crds', crdFiles()[0]!);
      const original = readFileSync(copy, 'utf8');
      try {
        writeFileSync(copy, `${original}# edited\n`);
        const check = await run('bash', [join(KUSTOMIZE, 'sync-crds.sh'), '--check']);
        expect(check.code).toBe(1);
        expect(check.stderr).toContain('ci/kubernetes/crds/ is stale');
      } finally {
        writeFileSync(copy, original);
      }
    });

    it("the chart's crds/ is a symlink to crds/, and helm renders exactly those CRDs", async () => {
      expect(lstatSync(join(CHART, 'crds')).isSymbolicLink()).toBe(true);
      expect(realpathSync(join(CHART, 'crds'))).toBe(join(ROOT, 'crds'));
      const r = await helm(['template', 'pika', CHART, '--namespace', HELM_NS, '--include-crds']);
      expect(r.code, r.stderr).toBe(0);
      const crds = docs(r.stdout).filter((o) => o.kind === 'CustomResourceDefinition');
      expect(crds.map((c) => c['spec'])).toEqual(crdFiles().map((f) => (parse(readFileSync(join(ROOT, 'crds', f), 'utf8')) as K8sObject)['spec']));
    });
  });

  describe('kustomize base (kubectl apply -k ci/kubernetes)', () => {
    it('renders every object of SPEC §13.3, all namespaced ones in pika-system', () => {
      expect(kinds(kustomized.filter((o) => o.kind !== 'CustomResourceDefinition'))).toEqual([
        'ClusterRole/pika-operator',
        'ClusterRoleBinding/pika-operator',
        'ConfigMap/pika-config',
        'Deployment/pika-operator',
        'Namespace/pika-system',
        'Role/pika-operator-leader-election',
        'RoleBinding/pika-operator-leader-election',
        'Secret/pika-unlock',
        'Service/pika',
        'Service/pika-public',
        'ServiceAccount/pika-operator',
        'ServiceAccount/pika-server',
        'StatefulSet/pika',
      ]);
      const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'];
      for (const o of kustomized.filter((x) => !clusterScoped.includes(x.kind))) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NS);
    });

    it('passes a server-side dry run with no Pod Security warning', async () => {
      const r = await dryRun(kustomized);
      expect(r.stdout).toContain('statefulset.apps/pika created (server dry run)');
      expect(r.stderr).not.toMatch(/PodSecurity|would violate/);
    });

    it('hardens both pods; the server has no API token, the operator knows its namespace and identity', () => {
      const server = podSpec(find(kustomized, 'StatefulSet', 'pika'));
      const operator = podSpec(find(kustomized, 'Deployment', 'pika-operator'));
      expectHardened(server, 'server');
      expectHardened(operator, 'operator');
      expect(server.automountServiceAccountToken).toBe(false);
      expect(find(kustomized, 'ServiceAccount', 'pika-server')['automountServiceAccountToken']).toBe(false);
      expect(server.serviceAccountName).toBe('pika-server');
      expect(server.securityContext['fsGroup']).toBe(10001);
      const [pika] = server.containers;
      expect(pika!.args).toEqual(['server', '--config', '/etc/pika/config/pika.yaml']);
      expect(pika!.volumeMounts?.map((m) => m.mountPath).sort()).toEqual(['/data', '/etc/pika/config', '/etc/pika/unlock', '/tmp']);
      expect(pika!.readinessProbe?.httpGet.path).toBe('/healthz');
      expect(pika!.ports?.map((p) => [p.name, p.containerPort])).toEqual([['http', 8080], ['public', 8081]]);
      const [op] = operator.containers;
      expect(op!.args).toEqual(['operator']);
      expect(op!.env).toEqual([
        { name: 'PIKA_OPERATOR_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'PIKA_OPERATOR_IDENTITY', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ]);
      expect(op!.ports).toEqual([{ name: 'metrics', containerPort: 8081, protocol: 'TCP' }]);
      expect([op!.livenessProbe?.httpGet, op!.readinessProbe?.httpGet]).toEqual([{ path: '/healthz', port: 'metrics' }, { path: '/readyz', port: 'metrics' }]);
    });

    it('configures the server from the ConfigMap: data on the volume, the public port on', () => {
      const cm = find(kustomized, 'ConfigMap', 'pika-config') as K8sObject & { data: Record<string, string> };
      expect(parse(cm.data['pika.yaml']!)).toMatchObject({ server: { port: 8080, public_port: 8081 }, storage: { path: '/data/pika' } });
      expect((find(kustomized, 'Secret', 'pika-unlock') as K8sObject & { stringData: unknown }).stringData).toEqual({ passphrase: '' });
    });

    it('an overlay with the auto-unlock component, a real passphrase and another image renders and dry-runs', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pika-overlay-'));
      try {
        writeFileSync(join(dir, 'passphrase.txt'), 'correct horse battery staple\n');
        const base = relative(dir, KUSTOMIZE);
        writeFileSync(
          join(dir, 'kustomization.yaml'),
          [
            `resources: [${base}]`,
            `components: [${base}/components/auto-unlock]`,
            'secretGenerator:',
            '  - {name: pika-unlock, namespace: pika-system, behavior: replace, files: [passphrase=passphrase.txt]}',
            'images:',
            '  - {name: pika, newName: registry.example.com/team/pika, newTag: 1.2.3}',
            '',
          ].join('\n'),
        );
        const r = await ok(['kustomize', dir]);
        const objs = docs(r.stdout);
        const sts = find(objs, 'StatefulSet', 'pika');
        expect(podSpec(sts).containers[0]!.env).toEqual([{ name: 'PIKA_ENCRYPTION_PASSWORD_FILE', value: '/etc/pika/unlock/passphrase' }]);
        expect(podSpec(sts).containers[0]!.image).toBe('registry.example.com/team/pika:1.2.3');
        expect(podSpec(find(objs, 'Deployment')).containers[0]!.image).toBe('registry.example.com/team/pika:1.2.3');
        const secret = find(objs, 'Secret', 'pika-unlock') as K8sObject & { data: Record<string, string> };
        expect(Buffer.from(secret.data['passphrase']!, 'base64').toString()).toBe('correct horse battery staple\n');
        expect(podSpec(sts).volumes?.find((v) => v.name === 'unlock')).toMatchObject({ secret: { secretName: 'pika-unlock' } });
        await dryRun(objs);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('Pod Security: the API server admits both pods under `restricted`', () => {
    it('creates the pods of both workloads in the enforcing namespace (server dry run)', async () => {
      for (const workload of [find(kustomized, 'StatefulSet', 'pika'), find(kustomized, 'Deployment', 'pika-operator')]) {
        const r = await kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(podFrom(workload, NS)));
        expect(r.code, `${workload.kind}: ${r.stderr}`).toBe(0);
      }
    });

    it('rejects the same pod with a weakened security context (the check can fail)', async () => {
      const pod = podFrom(find(kustomized, 'StatefulSet', 'pika'), NS) as K8sObject & { spec: PodSpec };
      pod.spec.containers[0]!.securityContext = { ...pod.spec.containers[0]!.securityContext, allowPrivilegeEscalation: true, capabilities: {} };
      const r = await kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/violates PodSecurity "restricted:latest".*allowPrivilegeEscalation/s);
    });
  });

  describe('RBAC: least privilege, checked by the real authorizer', () => {
    const rules = (): Rule[] => find(kustomized, 'ClusterRole', 'pika-operator')['rules'] as Rule[];

    beforeAll(async () => {
      // RBAC objects and ServiceAccounts for real (nothing else: no controller would run them anyway).
      const rbac = kustomized.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
      await ok(['apply', '-f', '-'], rbac.map((o) => JSON.stringify(o)).join('\n'));
      await ok(['create', 'namespace', 'team-a']);
      // The authorizer reads RBAC from an informer cache: wait until it has both bindings.
      const deadline = Date.now() + 30_000;
      const seen = async (): Promise<boolean> =>
        (await kubectl(['auth', 'can-i', '--as', OPERATOR_SA, 'list', 'secrets', '-A'])).stdout.trim() === 'yes' &&
        (await kubectl(['auth', 'can-i', '--as', OPERATOR_SA, 'get', 'leases.coordination.k8s.io', '-n', NS])).stdout.trim() === 'yes';
      while (!(await seen())) {
        if (Date.now() > deadline) throw new Error('the RBAC of the operator never took effect');
      }
    });

    it('the ClusterRole has no wildcard and only the verbs the operator uses', () => {
      for (const r of rules()) {
        expect([...r.apiGroups, ...r.resources, ...r.verbs]).not.toContain('*');
        expect(r.resources.every((x) => !x.includes('*'))).toBe(true);
      }
      const verbs = new Set(rules().flatMap((r) => r.verbs));
      expect([...verbs].sort()).toEqual(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
      expect(rules().flatMap((r) => r.apiGroups).sort()).toEqual(['', '', 'apps', 'events.k8s.io', 'pika.io', 'pika.io', 'pika.io', 'pika.io']);
    });

    it('lets the operator do its job, cluster-wide', async () => {
      const allowed: string[][] = [
        ['watch', 'pikaconfigs.pika.io', '--all-namespaces'],
        ['list', 'clusterpikaservers.pika.io'],
        ['patch', 'pikaconfigs.pika.io', '--subresource=status', '-n', 'team-a'],
        ['update', 'pikatokens.pika.io', '-n', 'team-a'],
        ['update', 'pikaconfigs.pika.io', '--subresource=finalizers', '-n', 'team-a'],
        ['create', 'secrets', '-n', 'team-a'],
        ['delete', 'configmaps', '-n', 'team-a'],
        ['patch', 'deployments.apps', '-n', 'team-a'],
        ['patch', 'daemonsets.apps', '-n', 'team-a'],
        ['create', 'events', '-n', 'team-a'],
        ['create', 'events.events.k8s.io', '-n', 'team-a'],
        ['create', 'leases.coordination.k8s.io', '-n', NS],
        ['update', 'leases.coordination.k8s.io', '-n', NS],
      ];
      for (const a of allowed) expect(await canI(OPERATOR_SA, ...a), a.join(' ')).toBe(true);
    });

    it('denies the operator everything else', async () => {
      const denied: string[][] = [
        ['update', 'pikaconfigs.pika.io', '-n', 'team-a'], // the spec is the user's
        ['create', 'pikaconfigs.pika.io', '-n', 'team-a'],
        ['delete', 'pikatokens.pika.io', '-n', 'team-a'],
        ['update', 'clusterpikaservers.pika.io'],
        ['create', 'deployments.apps', '-n', 'team-a'],
        ['delete', 'statefulsets.apps', '-n', 'team-a'],
        ['update', 'deployments.apps', '-n', 'team-a'],
        ['create', 'pods', '-n', 'team-a'],
        ['create', 'pods', '--subresource=exec', '-n', 'team-a'],
        ['create', 'serviceaccounts', '--subresource=token', '-n', 'team-a'],
        ['get', 'nodes'],
        ['list', 'namespaces'],
        ['create', 'leases.coordination.k8s.io', '-n', 'team-a'], // leases only in its own namespace
        ['delete', 'leases.coordination.k8s.io', '-n', NS],
        ['update', 'customresourcedefinitions.apiextensions.k8s.io'],
        ['bind', 'clusterroles.rbac.authorization.k8s.io'],
        ['escalate', 'clusterroles.rbac.authorization.k8s.io'],
        ['impersonate', 'serviceaccounts'],
        ['*', '*'],
      ];
      for (const d of denied) expect(await canI(OPERATOR_SA, ...d), d.join(' ')).toBe(false);
    });

    it('gives the server no API rights at all', async () => {
      for (const d of [['get', 'secrets', '-n', NS], ['list', 'configmaps', '-n', NS], ['get', 'pikaservers.pika.io', '-n', NS], ['get', 'leases.coordination.k8s.io', '-n', NS]]) {
        expect(await canI(SERVER_SA, ...d), d.join(' ')).toBe(false);
      }
    });

    it('the chart grants exactly the same rules', async () => {
      const chartRole = find(await template('pika'), 'ClusterRole');
      expect(chartRole['rules']).toEqual(rules());
    });
  });

  describe('Helm chart (charts/pika)', () => {
    it('lints, also with --strict', async () => {
      for (const strict of [[], ['--strict']]) {
        const r = await helm(['lint', CHART, ...strict]);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      }
    });

    it('renders the same objects as kustomize by default, hardened, and they pass a server-side dry run', async () => {
      const objs = await template('pika');
      expect(kinds(objs)).toEqual([
        'ClusterRole/pika-operator',
        'ClusterRoleBinding/pika-operator',
        'ConfigMap/pika-config',
        'Deployment/pika-operator',
        'Role/pika-operator-leader-election',
        'RoleBinding/pika-operator-leader-election',
        'Service/pika',
        'Service/pika-public',
        'ServiceAccount/pika-operator',
        'ServiceAccount/pika-server',
        'StatefulSet/pika',
      ]);
      const server = podSpec(find(objs, 'StatefulSet'));
      expectHardened(server, 'chart server');
      expectHardened(podSpec(find(objs, 'Deployment')), 'chart operator');
      expect(server.automountServiceAccountToken).toBe(false);
      expect(server.containers[0]!.image).toBe('pika:0.1.0');
      expect(server.containers[0]!.volumeMounts?.map((m) => m.mountPath)).not.toContain('/etc/pika/unlock');
      const volumeClaim = (find(objs, 'StatefulSet')['spec'] as { volumeClaimTemplates: { spec: unknown }[] }).volumeClaimTemplates[0];
      expect(volumeClaim?.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
      for (const o of objs.filter((x) => !x.kind.startsWith('Cluster'))) expect(o.metadata.namespace).toBe(HELM_NS);
      const r = await dryRun(objs);
      expect(r.stderr).not.toMatch(/PodSecurity|would violate/);
    });

    it('operator.enabled=false renders only the server, with no RBAC', async () => {
      const objs = await template('pika', 'operator.enabled=false');
      expect(kinds(objs)).toEqual(['ConfigMap/pika-config', 'Service/pika', 'Service/pika-public', 'ServiceAccount/pika-server', 'StatefulSet/pika']);
      await dryRun(objs);
    });

    it('server.enabled=false renders only the operator', async () => {
      const objs = await template('ops', 'server.enabled=false');
      expect(objs.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Role', 'RoleBinding', 'ServiceAccount']);
      await dryRun(objs);
    });

    it('server.publicPort.enabled=false drops the public Service, the container port and public_port', async () => {
      const objs = await template('pika', 'server.publicPort.enabled=false');
      expect(objs.filter((o) => o.kind === 'Service').map((o) => o.metadata.name)).toEqual(['pika']);
      expect(podSpec(find(objs, 'StatefulSet')).containers[0]!.ports?.map((p) => p.name)).toEqual(['http']);
      const cfg = parse((find(objs, 'ConfigMap') as K8sObject & { data: Record<string, string> }).data['pika.yaml']!);
      expect(cfg.server).toEqual({ host: '0.0.0.0', port: 8080 });
      await dryRun(objs);
    });

    it('takes a custom image, storage, scheduling, unlock Secret and config, and still dry-runs', async () => {
      const objs = await template(
        'acme',
        'image.repository=registry.example.com/team/pika',
        'image.tag=1.2.3',
        'image.pullPolicy=Always',
        'server.persistence.size=20Gi',
        'server.persistence.storageClass=fast-ssd',
        'server.nodeSelector.disktype=ssd',
        'server.unlock.enabled=true',
        'server.unlock.existingSecret=pika-passphrase',
        'server.config.audit.retention=720h',
        'server.publicPort.port=9091',
        'operator.replicas=2',
      );
      const sts = find(objs, 'StatefulSet', 'acme-pika');
      const spec = podSpec(sts);
      for (const c of [spec.containers[0]!, podSpec(find(objs, 'Deployment')).containers[0]!]) {
        expect(c).toMatchObject({ image: 'registry.example.com/team/pika:1.2.3', imagePullPolicy: 'Always' });
      }
      expect(sts['spec']).toMatchObject({
        volumeClaimTemplates: [{ spec: { storageClassName: 'fast-ssd', resources: { requests: { storage: '20Gi' } } } }],
        template: { spec: { nodeSelector: { disktype: 'ssd' } } },
      });
      expect(spec.volumes?.find((v) => v.name === 'unlock')).toEqual({
        name: 'unlock',
        secret: { secretName: 'pika-passphrase', defaultMode: 0o400, items: [{ key: 'passphrase', path: 'passphrase' }] },
      });
      const cfg = parse((find(objs, 'ConfigMap') as K8sObject & { data: Record<string, string> }).data['pika.yaml']!);
      expect(cfg).toMatchObject({ server: { public_port: 9091 }, encryption: { password_file: '/etc/pika/unlock/passphrase' }, audit: { retention: '720h' } });
      expect(find(objs, 'Service', 'acme-pika-public')['spec']).toMatchObject({ ports: [{ port: 9091, targetPort: 'public' }] });
      expect((find(objs, 'Deployment')['spec'] as { replicas: number }).replicas).toBe(2);
      await dryRun(objs);
    });

    it('restarts the server when its rendered config changes (checksum annotation)', async () => {
      const sum = async (...set: string[]) => find(await template('pika', ...set), 'StatefulSet')['spec'];
      const a = JSON.stringify(await sum());
      const b = JSON.stringify(await sum('server.logLevel=debug'));
      expect(a).toMatch(/"checksum\/config":"[0-9a-f]{64}"/);
      expect(b.match(/"checksum\/config":"([0-9a-f]{64})"/)?.[1]).not.toBe(a.match(/"checksum\/config":"([0-9a-f]{64})"/)?.[1]);
    });

    it('values.schema.json rejects bad values before anything renders', async () => {
      const bad: [string, RegExp][] = [
        ['image.pullPolicy=Sometimes', /pullPolicy.*must be one of/],
        ['unknownTopLevel=1', /additional properties 'unknownTopLevel' not allowed/],
        ['server.persistence.sizee=2Gi', /additional properties 'sizee' not allowed/],
        ['server.port=70000', /\/server\/port.*maximum/],
        ['server.persistence.size=lots', /\/server\/persistence\/size.*does not match pattern/],
        ['server.unlock.enabled=true', /\/server\/unlock\/existingSecret.*minLength/],
        ['server.config.bogus.x=1', /invalid propertyName 'bogus'/],
        ['server.logLevel=verbose', /logLevel.*must be one of/],
      ];
      for (const [set, message] of bad) {
        const r = await helm(['template', 'pika', CHART, '--set', set]);
        expect(r.code, set).not.toBe(0);
        expect(r.stderr, set).toMatch(/values don't meet the specifications of the schema/);
        expect(r.stderr, set).toMatch(message);
      }
      const same = await helm(['template', 'pika', CHART, '--set', 'server.publicPort.port=8080']);
      expect(same.code).not.toBe(0);
      expect(same.stderr).toContain('server.publicPort.port must differ from server.port');
    });

    it('documents every value in values.yaml and in the README table', () => {
      const doc = parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
      const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
      const undocumented: string[] = [];
      const documented: string[] = [];
      // A key is documented by a `# -- …` comment, or is a section whose keys all are.
      const walk = (map: YAMLMap, path: string): boolean =>
        map.items
          .map((pair, i) => {
            const key = `${path}${String((pair.key as { value: unknown }).value)}`;
            const comment = (pair.key as { commentBefore?: string }).commentBefore ?? (i === 0 ? map.commentBefore : undefined);
            if (comment?.split('\n').some((l) => l.trim().startsWith('-- '))) {
              documented.push(key);
              return true;
            }
            if (isMap(pair.value) && pair.value.items.length > 0 && walk(pair.value, `${key}.`)) return true;
            undocumented.push(key);
            return false;
          })
          .every(Boolean);
      walk(doc.contents as YAMLMap, '');
      expect(undocumented).toEqual([]);
      expect(documented.length).toBeGreaterThan(40);
      expect(documented.filter((k) => !readme.includes(`| \`${k}\` |`))).toEqual([]);
    });
  });

  describe('Dockerfile', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

    it('runs as the numeric user the manifests require, with the data volume and the documented entrypoint', () => {
      expect(runtime).toMatch(/^USER 10001:10001$/m);
      expect(runtime).toMatch(/^VOLUME \["\/data"\]$/m);
      expect(runtime).toMatch(/^ENTRYPOINT \["node", "bin\/pika\.js"\]$/m);
      expect(runtime).toMatch(/^CMD \["server"\]$/m);
      expect(runtime).toMatch(/PIKA_STORAGE_PATH=\/data\/pika/);
      // The runtime stage installs no dev dependencies and runs no package scripts.
      expect(dockerfile).toMatch(/npm ci --omit=dev --ignore-scripts/);
      const cm = parse((find(kustomized, 'ConfigMap', 'pika-config') as K8sObject & { data: Record<string, string> }).data['pika.yaml']!);
      expect(cm.storage.path.startsWith('/data/')).toBe(true);
    });

    it('.dockerignore lets in everything the Dockerfile copies from the context', () => {
      const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
      expect(sources.sort()).toEqual(['bin', 'bin', 'package-lock.json', 'package-lock.json', 'package.json', 'package.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json', 'web']);
      const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
      for (const s of new Set(sources)) expect(ignore, s).toMatch(new RegExp(`^!${s.replaceAll('.', '\\.')}(/\\*\\*)?$`, 'm'));
    });
  });
});
