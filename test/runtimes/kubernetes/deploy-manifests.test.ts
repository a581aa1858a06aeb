// The manifests in deploy/kubernetes (three replicas on PostgreSQL) and its overlay deploy/kubernetes-sqlite
// (one replica, SQLite on a volume): schema-valid, wired together, draining within the grace period, and
// granting exactly what the runtime uses. With kubectl the overlay is built with its kustomize; with
// WSM_TEST_KUBECONFIG both are also applied to the real API server with a server-side dry run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { unknownFieldProblems } from '../../support/fake-kube-api/validate.js';
import { applyUntil, harness, workspace } from './helpers.js';

type Obj = Record<string, any>;
const DIR = join(import.meta.dirname, '../../../deploy/kubernetes');
const SQLITE_DIR = join(import.meta.dirname, '../../../deploy/kubernetes-sqlite');
const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));

const MODELS: Record<string, { model: new (d: never) => { validate(): void }; clientType: string }> = {
  Deployment: { model: Deployment as never, clientType: 'V1Deployment' },
  Role: { model: Role as never, clientType: 'V1Role' },
  RoleBinding: { model: RoleBinding as never, clientType: 'V1RoleBinding' },
  PersistentVolumeClaim: { model: PersistentVolumeClaim as never, clientType: 'V1PersistentVolumeClaim' },
  PodDisruptionBudget: { model: PodDisruptionBudget as never, clientType: 'V1PodDisruptionBudget' },
  Service: { model: Service as never, clientType: 'V1Service' },
  ServiceAccount: { model: ServiceAccount as never, clientType: 'V1ServiceAccount' },
};

/** The base's resources, as its kustomization.yaml lists them. */
function manifests(): Obj[] {
  const files: string[] = (parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as Obj).resources;
  return files.flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => ({ ...(d.toJS() as Obj), __file: f })));
}

function built(dir: string): Obj[] {
  return parseAllDocuments(execFileSync(kubectl!, ['kustomize', dir], { encoding: 'utf8' })).map((d) => d.toJS() as Obj);
}

function assertValid(all: Obj[]): void {
  for (const { __file, ...m } of all) {
    const what = __file ?? `${m.kind} ${m.metadata.name}`;
    const entry = MODELS[m.kind];
    assert.ok(entry, `${what}: unexpected kind ${m.kind}`);
    assert.doesNotThrow(() => new entry.model(m as never).validate(), `${what} is schema-valid`);
    assert.deepEqual(unknownFieldProblems(m, entry.clientType), [], `${what} has no misplaced fields`);
    assert.equal(m.metadata.namespace, undefined, `${what} takes its namespace from kubectl -n`);
  }
}

const envOf = (dep: Obj): Record<string, Obj> => Object.fromEntries(dep.spec.template.spec.containers[0].env.map((e: Obj) => [e.name, e]));

const byKind = (kind: string): Obj => {
  const found = manifests().find((m) => m.kind === kind);
  assert.ok(found, `a ${kind} manifest`);
  return found;
};

describe('deploy/kubernetes manifests', () => {
  test('every manifest is a valid object of a known kind, namespace-scoped and without a fixed namespace', () => {
    const all = manifests();
    assert.deepEqual(all.map((m) => m.kind).sort(), ['Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    assertValid(all);
  });

  test('three replicas on PostgreSQL: the URL from a Secret, rolling updates that never go below three, a disruption budget, and a grace period the drain fits in', () => {
    const dep = byKind('Deployment');
    const pod = dep.spec.template.spec;
    const env = envOf(dep);
    assert.equal(dep.spec.replicas, 3);
    assert.deepEqual(env.WSM_DATABASE_URL!.valueFrom, { secretKeyRef: { name: 'wsm-database', key: 'url' } });
    assert.deepEqual(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const pdb = byKind('PodDisruptionBudget');
    assert.deepEqual(pdb.spec.selector.matchLabels, dep.spec.template.metadata.labels);
    assert.equal(pdb.spec.maxUnavailable, 1, 'two of three replicas stay through a voluntary disruption');
    // The probe notices a drain well before it ends, and SIGKILL comes only after the drain and the
    // longest wait of a request in flight (WSM_ACTION_WAIT_MS, default 30 s).
    const drainSeconds = Number(env.WSM_DRAIN_SECONDS!.value);
    const probe = pod.containers[0].readinessProbe;
    assert.ok(probe.periodSeconds * probe.failureThreshold < drainSeconds, 'readiness fails within the drain');
    assert.ok(pod.terminationGracePeriodSeconds >= drainSeconds + 30, 'the grace period covers the drain and requests in flight');
  });

  test('the SQLite overlay: one replica, recreated (never two on the file), data on a volume, no database URL, no budget', { skip: kubectl ? false : 'kubectl (for kustomize) is not installed' }, () => {
    const all = built(SQLITE_DIR);
    assertValid(all);
    assert.deepEqual(all.map((m) => m.kind).sort(), ['Deployment', 'PersistentVolumeClaim', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    const dep = all.find((m) => m.kind === 'Deployment')!;
    assert.equal(dep.spec.replicas, 1);
    assert.deepEqual(dep.spec.strategy, { type: 'Recreate' });
    const env = envOf(dep);
    assert.equal(env.WSM_DATABASE_URL, undefined);
    const pod = dep.spec.template.spec;
    const mount = pod.containers[0].volumeMounts.find((v: Obj) => v.mountPath === env.WSM_DATA_DIR!.value);
    assert.deepEqual(pod.volumes.find((v: Obj) => v.name === mount.name), { name: 'data', persistentVolumeClaim: { claimName: all.find((m) => m.kind === 'PersistentVolumeClaim')!.metadata.name } });
    // The base, built the same way, is what the files say.
    assert.deepEqual(built(DIR).map((m) => m.kind).sort(), manifests().map((m) => m.kind).sort());
  });

  const kubeconfig = process.env.WSM_TEST_KUBECONFIG;
  test('the real API server accepts both (server-side dry run)', { skip: kubeconfig && kubectl ? false : 'needs WSM_TEST_KUBECONFIG and kubectl' }, () => {
    const ns = `wsm-deploy-${randomBytes(4).toString('hex')}`;
    const run = (args: string[], input?: string) => execFileSync(kubectl!, ['--kubeconfig', kubeconfig!, ...args], { encoding: 'utf8', input });
    run(['create', 'namespace', ns]);
    try {
      for (const dir of [DIR, SQLITE_DIR]) {
        const out = run(['apply', '-n', ns, '--dry-run=server', '-k', dir]);
        assert.match(out, /deployment\.apps\/wsm (created|configured) \(server dry run\)/);
      }
    } finally {
      run(['delete', 'namespace', ns, '--wait=false']);
    }
  });

  test('the Deployment runs wsm in k8s mode with the admin token from a Secret, a data dir and a readiness probe', () => {
    const dep = byKind('Deployment');
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    assert.equal(c.image, 'wsm:latest');
    assert.equal(pod.serviceAccountName, byKind('ServiceAccount').metadata.name);
    const env = Object.fromEntries(c.env.map((e: Obj) => [e.name, e]));
    assert.equal(env.WSM_CLUSTER_TYPE.value, 'k8s');
    assert.deepEqual(env.WSM_ADMIN_TOKEN.valueFrom, { secretKeyRef: { name: 'wsm-admin', key: 'token' } });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 6789 });
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 6789 });
    // Metrics on their own port, annotated for Prometheus, and reachable through the Service for a ServiceMonitor.
    const metricsPort = c.ports.find((p: Obj) => p.name === 'metrics').containerPort;
    assert.equal(env.WSM_METRICS_PORT.value, String(metricsPort));
    assert.equal(dep.spec.template.metadata.annotations['prometheus.io/port'], String(metricsPort));
    assert.deepEqual(env.WSM_METRICS_TOKEN.valueFrom.secretKeyRef, { name: 'wsm-metrics', key: 'token', optional: true });
    const mount = c.volumeMounts.find((v: Obj) => v.mountPath === env.WSM_DATA_DIR.value);
    assert.ok(mount, 'the data dir is on a volume');
    assert.ok(pod.volumes.find((v: Obj) => v.name === mount.name), 'the data volume exists');
    const svc = byKind('Service');
    assert.deepEqual(svc.spec.selector, dep.spec.template.metadata.labels);
    assert.equal(svc.spec.ports[0].targetPort, c.ports[0].containerPort);
    assert.equal(svc.spec.ports.find((p: Obj) => p.name === 'metrics').targetPort, metricsPort);
    const binding = byKind('RoleBinding');
    assert.equal(binding.roleRef.name, byKind('Role').metadata.name);
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'wsm' }]);
  });

  test('the Role grants every verb the runtime uses, and nothing it does not', async () => {
    const granted = new Set<string>();
    for (const rule of byKind('Role').rules as Obj[]) {
      for (const g of rule.apiGroups) for (const r of rule.resources) for (const v of rule.verbs) granted.add(`${g}/${r}:${v}`);
    }
    // A full life cycle against the fake, then every request mapped to the RBAC verb it needs.
    const h = await harness({ ingressName: 'shared' });
    const stop = h.runtime.watch(() => undefined);
    try {
      const hooks = { pre_start: { path: 'p', content: Buffer.from('true') } };
      const ws = workspace('rbac', { ingress: { enabled: true }, hooks });
      await applyUntil(h.runtime, ws, 'RUNNING');
      const posted = { ...ws, generation: 2, env: [], hooks: { post_start: { path: 'q', content: Buffer.from('true') } }, container: { service_type: 'NodePort' as const } };
      await applyUntil(h.runtime, posted, 'RUNNING');
      // What the controller does on Kubernetes: the post-start record (exec, events) and the probe (pod proxy).
      await h.runtime.readPostStart(posted);
      h.fake.setExecHandler(() => ({ stdout: 'not json', exitCode: 0 }));
      await h.runtime.readPostStart(posted);
      await h.runtime.httpGet(posted, '/api/statuses', 2000);
      await applyUntil(h.runtime, { ...ws, generation: 3, desired: 'stopped' }, 'STOPPED');
      await h.runtime.listInstances();
      await h.runtime.remove(ws, { deleteVolume: true });
    } finally {
      stop();
      await h.close();
    }
    const used = new Set<string>();
    for (const r of h.fake.requests) {
      // The pod proxy carries the workspace's own path after /proxy.
      const m = /^\/(?:api\/v1|apis\/([^/]+)\/v1)\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+))?(?:\/(proxy)\/.*|\/([^/]+))?$/.exec(r.path);
      assert.ok(m, `unexpected path ${r.path}`);
      const [, group = '', resource, name, proxy, other] = m;
      const sub = proxy ?? other;
      // exec is a GET upgraded to a WebSocket, which RBAC checks as create on pods/exec.
      const verb = sub === 'exec' ? 'create' : r.method === 'GET' ? (name ? 'get' : r.query.watch ? 'watch' : 'list') : ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[r.method]!;
      used.add(`${group}/${resource}${sub ? `/${sub}` : ''}:${verb}`);
    }
    for (const u of used) assert.ok(granted.has(u), `the Role must grant ${u}`);
    // Beyond what the runtime does: watching events, for people troubleshooting with the same account, and
    // the workspace proxy's way in from outside the cluster, the service proxy with every method's verb
    // (test/proxy/proxy-kube.test.ts runs it against the real API server with this Role).
    const expectedExtra = ['/events:watch', ...['get', 'create', 'update', 'patch', 'delete'].map((v) => `/services/proxy:${v}`)];
    const unused = [...granted].filter((g) => !used.has(g) && !expectedExtra.includes(g));
    assert.deepEqual(unused, [], 'the Role grants nothing the runtime does not use');
  });
});
