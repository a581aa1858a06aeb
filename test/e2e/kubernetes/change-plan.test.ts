// The change plan on Kubernetes (wsm serve against the fake API server over HTTP), held to what was
// really written: the StatefulSet's pod template changed (the pod rolls) exactly when the plan said the
// patch interrupts the workspace, for every field a plan covers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKubeApi } from '../../support/fake-kube-api/index.js';
import { eventually, startTestServer, type TestServer } from '../../support/server.js';
import { planCases, runPlanCases, type Effect } from '../../support/change-plan-cases.js';

const NS = 'team';
let fake: FakeKubeApi;
let srv: TestServer;
let dir: string;

before(async () => {
  fake = await FakeKubeApi.start();
  dir = await mkdtemp(join(tmpdir(), 'wsm-k8s-plan-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, fake.kubeConfig(NS).exportConfig());
  srv = await startTestServer({ clusterType: 'k8s', env: { KUBECONFIG: kubeconfig, WSM_KUBE_NAMESPACE: NS } });
});
after(async () => {
  await srv?.close();
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

const EXPECTED: Record<string, Effect> = {
  'container_config.image': 'recreate',
  'container_config.env': 'recreate',
  inherited_env: 'recreate',
  'container_config.resources': 'recreate',
  'container_config.command': 'recreate',
  'container_config.args': 'recreate',
  'container_config.working_dir': 'recreate',
  'container_config.port': 'recreate',
  'container_config.host_port': 'none',
  'container_config.restart_policy': 'live',
  'container_config.start_timeout_seconds': 'live',
  'container_config.image_pull_policy': 'recreate',
  'container_config.image_pull_secrets': 'recreate',
  'container_config.volumes': 'none',
  'container_config.public_url': 'none',
  'container_config.service_type': 'live',
  'container_config.nodeSelector': 'recreate',
  'container_config.tolerations': 'recreate',
  'container_config.affinity': 'recreate',
  'container_config.labels': 'recreate',
  'container_config.annotations': 'recreate',
  'lifecycle_config.termination_policy': 'live',
  'lifecycle_config.pre_start_script_path': 'recreate',
  'lifecycle_config.post_start': 'recreate',
};

test('k8s: every field of a patch changes the pod template exactly when its plan says so', async () => {
  const name = 'plan-k8s';
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, cluster_type: 'k8s', container_config: 'image: wsm-test/busybox:1' } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const template = async () => {
    const sts = fake.get('statefulsets', NS, name) as any;
    assert.ok(sts, 'the StatefulSet exists');
    return JSON.stringify(sts.spec.template);
  };
  const cases = await planCases(srv, { command: '[httpd, -f, -p, "6789"]', args: '[-v]', workingDir: '/tmp', volume: 'plan-extra' });
  const ran = await runPlanCases({
    srv,
    name,
    cases,
    expected: EXPECTED,
    identity: template,
    after: async (field) => {
      if (field === 'container_config.service_type') assert.equal((fake.get('services', NS, `${name}-service`) as any).spec.type, 'NodePort');
    },
  });
  assert.deepEqual(ran.sort(), Object.keys(EXPECTED).sort(), 'every field of the plan was tried');
  assert.deepEqual(fake.invalidWrites, []);
});

test('k8s: a dry run asks the API server (dryRun=All) and keeps nothing; what it refuses is a 400 naming the field', async () => {
  const name = 'plan-dry';
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, cluster_type: 'k8s', container_config: 'image: wsm-test/busybox:1' } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await eventually(async () => (await srv.request('GET', `/api/workspaces/${name}`)).body.workspace.instance.status === 'RUNNING');
  // What wsm writes; the status (the simulated kubelet's) and the revision that counts its writes move on their own.
  const written = (o: any) => JSON.stringify({ labels: o.metadata.labels, annotations: o.metadata.annotations, spec: o.spec });
  const sts = () => written(fake.get('statefulsets', NS, name));
  const svc = () => written(fake.get('services', NS, `${name}-service`));
  const stored = async () => (await srv.request('GET', `/api/workspaces/${name}`)).body.workspace.resource_version;
  const operations = async () => (await srv.request('GET', `/api/workspaces/${name}/operations`)).body.operations.length;
  const before = { sts: sts(), svc: svc(), version: await stored(), ops: await operations() };
  const dryWrites = () => fake.requests.filter((r) => r.query.dryRun === 'All' && r.path.includes(`/${name}`)).map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`);

  const ok = await srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace: { action: 'patch', dry_run: true, container_config: 'service_type: NodePort\nenv:\n  - name: A\n    value: "1"' } } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.plan.engine_check.status, 'accepted');
  assert.equal(ok.body.plan.effect, 'recreate');
  assert.deepEqual(dryWrites(), [`PUT statefulsets/${name}`, `PATCH services/${name}-service`]);

  const bad = await srv.request('PUT', `/api/workspaces/${name}`, {
    body: { workspace: { action: 'patch', dry_run: true, container_config: 'annotations:\n  seccomp.security.alpha.kubernetes.io/pod: bogus' } },
  });
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  assert.equal(bad.body.error.type, 'validation_error');
  assert.deepEqual(bad.body.error.errors.map((e: any) => e.field), ['container_config.annotations["seccomp.security.alpha.kubernetes.io/pod"]']);
  assert.match(bad.body.error.errors[0].message, /Kubernetes would reject this.*must be a valid seccomp profile/);

  assert.deepEqual({ sts: sts(), svc: svc(), version: await stored(), ops: await operations() }, before, 'the objects, the workspace and its operations are as they were');

  // A pre-start script is delivered in the hooks ConfigMap: that write is checked too (a create: there is none yet).
  await writeFile(join(srv.hooksDir, 'dry-pre.sh'), '#!/bin/sh\ntrue\n');
  const hooks = await srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace: { action: 'patch', dry_run: true, lifecycle_config: { pre_start_script_path: 'dry-pre.sh' } } } });
  assert.equal(hooks.status, 200, JSON.stringify(hooks.body));
  assert.match(hooks.body.plan.engine_check.message, /create configmap plan-dry-hooks, replace statefulset plan-dry, patch service plan-dry-service/);
  assert.equal(fake.get('configmaps', NS, `${name}-hooks`), undefined, 'the ConfigMap was only checked');

  // An API server that fails (not refuses) the check: the plan is still answered, saying it was not checked.
  fake.failNext({ method: 'PUT', path: `/apis/apps/v1/namespaces/${NS}/statefulsets/${name}` }, { status: 503, message: 'etcd is away' });
  const unchecked = await srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace: { action: 'patch', dry_run: true, container_config: 'env:\n  - name: B\n    value: "2"' } } });
  assert.equal(unchecked.status, 200, JSON.stringify(unchecked.body));
  assert.equal(unchecked.body.plan.engine_check.status, 'unavailable');
  assert.match(unchecked.body.plan.engine_check.message, /etcd is away/);
});
