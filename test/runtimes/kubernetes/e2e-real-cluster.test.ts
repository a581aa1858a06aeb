// wsm on a real Kubernetes API server (v1.32.13, with its controller-manager; no kubelet: a test kubelet
// writes pod status). Each test: its own namespace, wsm as its own ServiceAccount with the shipped Role,
// and assertions on the real objects and on what the HTTP API reports. CI runs it (scripts/ci/start-kube.sh);
// locally it runs when WSM_TEST_KUBECONFIG is set.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { gone, realClusterSkip, until } from './real-cluster/cluster.js';
import { act, condition, createWorkspace, settled, startRealWsm, type RealWsm } from './real-cluster/wsm.js';

const skip = realClusterSkip();

async function withWsm(tag: string, body: (w: RealWsm) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const w = await startRealWsm(tag, env);
  try {
    await body(w);
  } finally {
    await w.close();
  }
}

const running = (w: RealWsm, name: string) => w.waitFor(name, (x) => x.instance.status === 'RUNNING' && x.observed_generation === x.generation, 'RUNNING');
const envOf = (container: any) => Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value]));
const paths = (ing: any) => (ing.spec?.rules ?? []).flatMap((r: any) => r.http?.paths ?? []).map((p: any) => p.path);

describe('wsm on a real API server: the actions', { skip }, () => {
  test('create, stop, resume, patch (env added and removed, image tag, resources, nodeSelector, tolerations), delete keeping the claim', async () => {
    await withWsm('life', async (w) => {
      const { apps, core } = w.admin;
      const namespace = w.ns.name;
      await createWorkspace(w, 'life', 'env:\n  - name: KEEP\n    value: "1"\n  - name: DROP\n    value: "2"\n');
      let ws = await running(w, 'life');
      assert.equal(ws.instance.name, 'life-0');
      assert.match(ws.instance.ip, /^10\.96\.\d+\.\d+:6789$/, 'the real Service\'s ClusterIP');
      const sts = await apps.readNamespacedStatefulSet({ name: 'life', namespace });
      assert.equal(sts.spec!.serviceName, 'life-service');
      assert.equal(sts.spec!.template.spec!.containers[0]!.name, 'life-container');
      assert.equal(sts.metadata!.labels!['app.kubernetes.io/managed-by'], 'wsm');
      const svc = await core.readNamespacedService({ name: 'life-service', namespace });
      // Whose they are: the installation id wsm was given, so another installation leaves them alone.
      assert.deepEqual([sts, svc].map((o) => o.metadata!.labels!['wsm.io/installation']), ['real-life', 'real-life']);
      assert.equal(`${svc.spec!.clusterIP}:6789`, ws.instance.ip);
      assert.ok(await core.readNamespacedPersistentVolumeClaim({ name: 'mage-data-life-0', namespace }));

      let op = await act(w, 'life', { action: 'stop' });
      assert.equal((await settled(w, 'life', op.id)).state, 'succeeded');
      await w.waitFor('life', (x) => x.instance.status === 'STOPPED', 'STOPPED');
      assert.equal((await apps.readNamespacedStatefulSet({ name: 'life', namespace })).spec!.replicas, 0);
      await until(() => gone(() => core.readNamespacedPod({ name: 'life-0', namespace })), 'the pod to go');
      assert.ok(await core.readNamespacedService({ name: 'life-service', namespace }), 'the Service stays while stopped');

      op = await act(w, 'life', { action: 'resume' });
      assert.equal((await settled(w, 'life', op.id)).state, 'succeeded');
      await running(w, 'life');

      op = await act(w, 'life', {
        action: 'patch',
        container_config: [
          'image_tag: "1.37"',
          'unset_env: [DROP]',
          'env:\n  - name: ADDED\n    value: "yes"',
          'resources:\n  limits:\n    cpu: 500m\n    memory: 256Mi\n  requests:\n    cpu: 100m',
          'nodeSelector:\n  pool: data',
          'tolerations:\n  - key: dedicated\n    operator: Equal\n    value: data\n    effect: NoSchedule',
        ].join('\n'),
      });
      assert.equal((await settled(w, 'life', op.id)).state, 'succeeded', 'the patch rolled the pod and it came back');
      ws = await running(w, 'life');
      const pod = await core.readNamespacedPod({ name: 'life-0', namespace });
      const c = pod.spec!.containers[0]!;
      assert.equal(c.image, 'busybox:1.37');
      assert.deepEqual(envOf(c), { KEEP: '1', ADDED: 'yes' });
      assert.deepEqual(c.resources!.limits, { cpu: '500m', memory: '256Mi' });
      // The API server defaults a missing request to its limit (memory here).
      assert.deepEqual(c.resources!.requests, { cpu: '100m', memory: '256Mi' });
      assert.deepEqual(pod.spec!.nodeSelector, { pool: 'data' });
      assert.ok(pod.spec!.tolerations!.some((t) => t.key === 'dedicated' && t.value === 'data' && t.effect === 'NoSchedule'));

      const res = await w.srv.request('DELETE', '/api/workspaces/life');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await until(async () => (await w.srv.request('GET', '/api/workspaces/life')).status === 404, 'the workspace to be deleted');
      assert.ok(await gone(() => apps.readNamespacedStatefulSet({ name: 'life', namespace })));
      assert.ok(await gone(() => core.readNamespacedService({ name: 'life-service', namespace })));
      assert.ok(await core.readNamespacedPersistentVolumeClaim({ name: 'mage-data-life-0', namespace }), 'the claim is kept (retention Retain, no delete_volume)');
    }, { WSM_INSTALLATION_ID: 'real-life' });
  });

  test('add_to_ingress twice gives one path; two workspaces share the Ingress; deleting the last leaves a valid Ingress; delete_volume deletes the claim', async () => {
    await withWsm('ing', async (w) => {
      const { net, core } = w.admin;
      const namespace = w.ns.name;
      await createWorkspace(w, 'ing-a');
      await createWorkspace(w, 'ing-b');
      await running(w, 'ing-a');
      await running(w, 'ing-b');
      for (let i = 0; i < 2; i++) assert.equal((await settled(w, 'ing-a', (await act(w, 'ing-a', { action: 'add_to_ingress' })).id)).state, 'succeeded');
      assert.equal((await settled(w, 'ing-b', (await act(w, 'ing-b', { action: 'add_to_ingress' })).id)).state, 'succeeded');
      const ing = await net.readNamespacedIngress({ name: 'wsm-ingress', namespace });
      assert.deepEqual(paths(ing).sort(), ['/ing-a', '/ing-b'], 'one path each');

      for (const name of ['ing-a', 'ing-b']) {
        const res = await w.srv.request('DELETE', `/api/workspaces/${name}?delete_volume=true`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const op = await settled(w, name, res.body.operation.id).catch(() => undefined);
        assert.notEqual(op?.state, 'failed', `deleting ${name} failed: ${op?.error}`);
        await until(async () => (await w.srv.request('GET', `/api/workspaces/${name}`)).status === 404, `${name} to be deleted`, 30_000);
        assert.ok(await gone(() => w.admin.apps.readNamespacedStatefulSet({ name, namespace })), `statefulset ${name} is gone`);
        assert.ok(await gone(() => core.readNamespacedService({ name: `${name}-service`, namespace })), `service ${name}-service is gone`);
        await until(() => gone(() => core.readNamespacedPersistentVolumeClaim({ name: `mage-data-${name}-0`, namespace })), `the claim of ${name} to be deleted`);
      }
      const left = await net.readNamespacedIngress({ name: 'wsm-ingress', namespace });
      assert.deepEqual(paths(left), [], 'no path is left, and the Ingress the real server holds is valid');
    });
  });
});

describe('wsm on a real API server: repairs what was changed behind its back', { skip }, () => {
  test('a deleted Service is recreated, and wsm says so', async () => {
    await withWsm('svc', async (w) => {
      const { core } = w.admin;
      const namespace = w.ns.name;
      await createWorkspace(w, 'svc');
      await running(w, 'svc');
      const before = await core.readNamespacedService({ name: 'svc-service', namespace });
      await core.deleteNamespacedService({ name: 'svc-service', namespace });
      const svc = await until(async () => {
        const s = await core.readNamespacedService({ name: 'svc-service', namespace }).catch(() => undefined);
        return s && s.metadata!.uid !== before.metadata!.uid ? s : undefined;
      }, 'the Service to be recreated', 30_000);
      assert.deepEqual(svc.spec!.selector, { app: 'svc' });
      const ws = await w.waitFor('svc', (x) => x.instance.status === 'RUNNING' && Boolean(condition(x, 'Repaired')), 'RUNNING and Repaired');
      assert.match(condition(ws, 'Repaired').message, /recreated service svc-service/);
      assert.equal(condition(ws, 'ServiceReady'), undefined);
    });
  });

  test('a deleted hooks ConfigMap, an edited one, a removed Ingress path and replicas scaled by hand are put back', async () => {
    await withWsm('fix', async (w) => {
      const { core, net, apps } = w.admin;
      const namespace = w.ns.name;
      await writeFile(join(w.srv.hooksDir, 'pre.sh'), '#!/bin/sh\necho ready\n', { mode: 0o755 });
      await createWorkspace(w, 'fix', '', { lifecycle_config: { pre_start_script_path: 'pre.sh' } });
      await running(w, 'fix');
      await settled(w, 'fix', (await act(w, 'fix', { action: 'add_to_ingress' })).id);
      const original = await core.readNamespacedConfigMap({ name: 'fix-hooks', namespace });

      await core.deleteNamespacedConfigMap({ name: 'fix-hooks', namespace });
      await until(async () => (await core.readNamespacedConfigMap({ name: 'fix-hooks', namespace }).catch(() => undefined))?.data?.['pre-start'] === original.data!['pre-start'], 'the ConfigMap to be recreated', 30_000);
      const installation = (await apps.readNamespacedStatefulSet({ name: 'fix', namespace })).metadata!.labels!['wsm.io/installation'];
      assert.ok(installation);
      assert.equal((await core.readNamespacedConfigMap({ name: 'fix-hooks', namespace })).metadata!.labels!['wsm.io/installation'], installation, 'the repair made it with the installation label');

      await core.replaceNamespacedConfigMap({ name: 'fix-hooks', namespace, body: { ...(await core.readNamespacedConfigMap({ name: 'fix-hooks', namespace })), data: { 'pre-start': 'rm -rf /home/src\n' } } });
      await until(async () => (await core.readNamespacedConfigMap({ name: 'fix-hooks', namespace })).data?.['pre-start'] === original.data!['pre-start'], 'the edited ConfigMap to be restored', 30_000);

      const ing = await net.readNamespacedIngress({ name: 'wsm-ingress', namespace });
      ing.spec!.rules = [{ host: 'kept.example.com' }];
      await net.replaceNamespacedIngress({ name: 'wsm-ingress', namespace, body: ing });
      await until(async () => paths(await net.readNamespacedIngress({ name: 'wsm-ingress', namespace })).includes('/fix'), 'the Ingress path to be put back', 30_000);

      await apps.patchNamespacedStatefulSetScale({ name: 'fix', namespace, body: { spec: { replicas: 0 } } }, mergePatch());
      await until(async () => (await apps.readNamespacedStatefulSet({ name: 'fix', namespace })).spec!.replicas === 1, 'the replicas to be scaled back', 30_000);
      // The scale is put back before the status saying so is written: wait for the status, not the object.
      const ws = await w.waitFor('fix', (x) => x.instance.status === 'RUNNING' && /statefulset fix/.test(condition(x, 'Repaired')?.message ?? ''), 'RUNNING and Repaired naming the StatefulSet');
      assert.match(condition(ws, 'Repaired').message, /statefulset fix/);
      assert.equal(ws.desired_state, 'running');
    });
  });
});

/** The client sends JSON Patch by default; a merge patch needs its content type. */
const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
