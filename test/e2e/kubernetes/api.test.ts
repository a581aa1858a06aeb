// `wsm serve --cluster-type k8s` end to end: the HTTP API, the controller and the Kubernetes runtime,
// talking through KUBECONFIG to the fake API server over HTTP, exactly as to a cluster.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKubeApi } from '../../support/fake-kube-api/index.js';
import { eventually, request, startTestServer, type TestServer } from '../../support/server.js';

let fake: FakeKubeApi;
let srv: TestServer;
let dir: string;
let kubeconfig: string;
const NS = 'team';

before(async () => {
  fake = await FakeKubeApi.start();
  dir = await mkdtemp(join(tmpdir(), 'wsm-k8s-e2e-'));
  kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, fake.kubeConfig(NS).exportConfig());
  srv = await startTestServer({
    clusterType: 'k8s',
    env: { KUBECONFIG: kubeconfig, WSM_KUBE_NAMESPACE: NS, WSM_INGRESS_NAME: 'shared', WSM_INGRESS_PATH_TYPE: 'Prefix' },
  });
});
after(async () => {
  await srv?.close();
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

const sts = (name: string) => fake.get('statefulsets', NS, name) as any;
const status = async (name: string) => (await srv.request('GET', `/api/workspaces/${name}`)).body.workspace;

describe('the API on Kubernetes', () => {
  test('create makes the StatefulSet, Service and volume claim with Mage\'s names, and it runs', async () => {
    const res = await srv.request('POST', '/api/workspaces', {
      body: {
        workspace: {
          name: 'kws',
          container_config: 'image: mageai/mageai:0.9.76\nenv:\n  - name: KEEP\n    value: "1"\n  - name: DROP\n    value: "2"\nnodeSelector:\n  pool: data\n',
          storage_request_size: 5,
          pvc_retention_policy: 'Delete',
        },
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.workspace.cluster_type, 'k8s');
    const ws = await eventually(async () => {
      const w = await status('kws');
      return w.instance.status === 'RUNNING' && w;
    });
    assert.equal(ws.instance.name, 'kws-0');
    const set = sts('kws');
    const pod = set.spec.template.spec;
    assert.equal(pod.containers[0].name, 'kws-container');
    assert.equal(pod.containers[0].image, 'mageai/mageai:0.9.76');
    assert.deepEqual(pod.nodeSelector, { pool: 'data' });
    assert.equal(set.spec.volumeClaimTemplates[0].metadata.name, 'mage-data');
    assert.equal(set.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '5Gi');
    assert.equal(set.spec.persistentVolumeClaimRetentionPolicy.whenDeleted, 'Delete');
    assert.equal(set.metadata.labels['app.kubernetes.io/managed-by'], 'wsm');
    assert.ok(fake.get('services', NS, 'kws-service'));
    assert.deepEqual(fake.invalidWrites, []);
  });

  test('stop scales to 0 and keeps the Service and claim; resume scales back', async () => {
    const stop = await srv.request('PUT', '/api/workspaces/kws', { body: { workspace: { action: 'stop' } } });
    assert.equal(stop.status, 200);
    await eventually(async () => (await status('kws')).instance.status === 'STOPPED');
    assert.equal(sts('kws').spec.replicas, 0);
    assert.ok(fake.get('services', NS, 'kws-service'));
    assert.ok(fake.get('persistentvolumeclaims', NS, 'mage-data-kws-0'));
    const resume = await srv.request('PUT', '/api/workspaces/kws', { body: { workspace: { action: 'resume' } } });
    assert.equal(resume.status, 200);
    await eventually(async () => (await status('kws')).instance.status === 'RUNNING');
    assert.equal(sts('kws').spec.replicas, 1);
  });

  test('patch removes an env var for real and changes the image tag', async () => {
    const res = await srv.request('PUT', '/api/workspaces/kws', {
      body: { workspace: { action: 'patch', container_config: 'image_tag: 2026.06.16\nunset_env: [DROP]\nenv:\n  - name: KEEP\n    value: "changed"' } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await eventually(async () => {
      const w = await status('kws');
      return w.instance.status === 'RUNNING' && w.observed_generation === w.generation;
    });
    const container = sts('kws').spec.template.spec.containers[0];
    assert.equal(container.image, 'mageai/mageai:2026.06.16');
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.equal(env.KEEP, 'changed');
    assert.equal(env.DROP, undefined);
  });

  test('add_to_ingress twice adds one path, and the url comes from the rule\'s host', async () => {
    fake.put('ingresses', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'shared', namespace: NS },
      spec: { tls: [{ hosts: ['ws.example.com'] }], rules: [{ host: 'ws.example.com' }] },
    } as any);
    for (let i = 0; i < 2; i++) {
      const res = await srv.request('PUT', '/api/workspaces/kws', { body: { workspace: { action: 'add_to_ingress' } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const ws = await eventually(async () => {
      const w = await status('kws');
      return w.url === 'https://ws.example.com/kws' && w;
    });
    assert.equal(ws.ingress_enabled, true);
    const paths = (fake.get('ingresses', NS, 'shared') as any).spec.rules[0].http.paths;
    assert.deepEqual(paths.map((p: any) => [p.path, p.pathType, p.backend.service.name, p.backend.service.port.number]), [['/kws', 'Prefix', 'kws-service', 6789]]);
  });

  test('delete removes the objects and the ingress path; the claim goes with retention policy Delete', async () => {
    const res = await srv.request('DELETE', '/api/workspaces/kws');
    assert.equal(res.status, 200);
    await eventually(async () => (await srv.request('GET', '/api/workspaces/kws')).status === 404);
    assert.equal(sts('kws'), undefined);
    assert.equal(fake.get('services', NS, 'kws-service'), undefined);
    await eventually(async () => fake.get('persistentvolumeclaims', NS, 'mage-data-kws-0') === undefined);
    // The last path gone, the rule keeps its host and loses its http block: `http.paths: []` is invalid.
    assert.deepEqual((fake.get('ingresses', NS, 'shared') as any).spec.rules, [{ host: 'ws.example.com' }]);
    assert.deepEqual(fake.invalidWrites, []);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('wsm killed with SIGKILL mid-action on Kubernetes', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  test('a stop asked just before the kill is carried out after the restart', async () => {
    const dataDir = join(dir, 'restart-data');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const token = 'k8s-restart-admin';
    const start = async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data-dir', dataDir, '--port', String(port), '--cluster-type', 'k8s'], {
        env: { ...process.env, KUBECONFIG: kubeconfig, WSM_KUBE_NAMESPACE: NS, WSM_ADMIN_TOKEN: token, WSM_LOG_LEVEL: 'warn', WSM_ACTION_WAIT_MS: '0' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      await eventually(async () => {
        try {
          return (await fetch(`${base}/api/status`)).ok;
        } catch {
          return false;
        }
      }, 30_000, 'the server');
      return child;
    };
    let child = await start();
    const created = await request(base, 'POST', '/api/workspaces', { defaultToken: token, body: { workspace: { name: 'krestart' } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await eventually(async () => (await request(base, 'GET', '/api/workspaces/krestart', { defaultToken: token })).body.workspace.instance.status === 'RUNNING');
    // Make the API server slow to take the scale, so the kill lands while the stop is under way.
    fake.failNext({ method: 'PATCH', path: /statefulsets\/krestart\/scale/ }, { hang: true });
    fake.failNext({ method: 'PUT', path: /statefulsets\/krestart\/scale/ }, { hang: true });
    const stop = await request(base, 'PUT', '/api/workspaces/krestart', { defaultToken: token, body: { workspace: { action: 'stop' } } });
    assert.equal(stop.status, 200);
    assert.notEqual(stop.body.operation.state, 'succeeded');
    // Killed only once the scale request hangs in the API server: killed sooner, the restarted server
    // would be the one to meet the hang.
    const scaling = (r: { method: string; path: string }) => (r.method === 'PATCH' || r.method === 'PUT') && /statefulsets\/krestart\/scale/.test(r.path);
    await eventually(async () => fake.requests.some(scaling), 10_000, 'the scale request reaching the API server');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(sts('krestart').spec.replicas, 1, 'the stop had not reached the cluster');

    child = await start();
    await eventually(async () => (await request(base, 'GET', '/api/workspaces/krestart', { defaultToken: token })).body.workspace.instance.status === 'STOPPED', 30_000, 'STOPPED after the restart');
    assert.equal(sts('krestart').spec.replicas, 0);
    const ops = await request(base, 'GET', '/api/workspaces/krestart/operations', { defaultToken: token });
    assert.equal(ops.body.operations[0].action, 'stop');
    assert.equal(ops.body.operations[0].state, 'succeeded');
    await request(base, 'DELETE', '/api/workspaces/krestart', { defaultToken: token });
    await eventually(async () => (await request(base, 'GET', '/api/workspaces/krestart', { defaultToken: token })).status === 404);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});
