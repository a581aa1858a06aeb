// wsm on a real API server that goes away and comes back (the kube-apiserver process stopped and started
// again), and a real 409 Conflict. Serial: stopping the API server would disturb any other test using it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KubernetesRuntime } from '../../../src/runtimes/kubernetes/index.js';
import { realClusterSkip, stopApiServer, until } from './real-cluster/cluster.js';
import { ApiProxy } from './real-cluster/proxy.js';
import { act, condition, createWorkspace, settled, startRealWsm } from './real-cluster/wsm.js';
import { workspace } from './helpers.js';

const skip = realClusterSkip();

describe('wsm on a real API server that restarts', { skip }, () => {
  test('a stop asked while the API server is down is carried out once it is back; the watches recover', async () => {
    // A create or action answers at once: the outage must not hold the request.
    const w = await startRealWsm('restart', { WSM_ACTION_WAIT_MS: '0' });
    try {
      const { apps, core } = w.admin;
      const namespace = w.ns.name;
      await createWorkspace(w, 'steady');
      // Generous: a previous API server restart may still have the controller-manager reconnecting.
      await w.waitFor('steady', (x) => x.instance.status === 'RUNNING', 'RUNNING', 120_000);

      const startAgain = await stopApiServer(w.admin);
      let started = false;
      try {
        const op = await act(w, 'steady', { action: 'stop' });
        // What the API shows meanwhile: the engine cannot be reached, and the operation is not lost.
        const down = await w.waitFor('steady', (x) => condition(x, 'Reconciled')?.reason === 'RuntimeError', 'the outage to show', 60_000);
        assert.match(condition(down, 'Reconciled').message, /Kubernetes API unreachable/);
        const ops = await w.srv.request('GET', '/api/workspaces/steady/operations');
        assert.ok(['pending', 'running'].includes(ops.body.operations.find((o: any) => o.id === op.id).state));
        await startAgain();
        started = true;
        // Right after the restart the server answers 403 until its RBAC caches are loaded: wsm must retry
        // that, not fail the stop. The controller's backoff after the outage's failures (up to a minute)
        // sets how soon it tries again: a generous deadline.
        const done = await settled(w, 'steady', op.id, 180_000);
      assert.equal(done.state, 'succeeded', done.error);
        await w.waitFor('steady', (x) => x.instance.status === 'STOPPED', 'STOPPED after the restart', 60_000);
        assert.equal((await apps.readNamespacedStatefulSet({ name: 'steady', namespace })).spec!.replicas, 0);
      } finally {
        if (!started) await startAgain();
      }

      // The watches follow again: with the resync an hour away, only they can tell wsm of these.
      // The controller-manager reconnects on its own schedule before it recreates the pod.
      assert.equal((await settled(w, 'steady', (await act(w, 'steady', { action: 'resume' })).id, 120_000)).state, 'succeeded');
      const before = await core.readNamespacedService({ name: 'steady-service', namespace });
      await core.deleteNamespacedService({ name: 'steady-service', namespace });
      await until(async () => (await core.readNamespacedService({ name: 'steady-service', namespace }).catch(() => undefined))?.metadata?.uid !== undefined, 'the Service to be recreated', 60_000);
      assert.notEqual((await core.readNamespacedService({ name: 'steady-service', namespace })).metadata!.uid, before.metadata!.uid);
      w.kubelet.decide = () => ({ kind: 'crash-loop', restarts: 2, exitCode: 137 });
      await w.waitFor('steady', (x) => (x.conditions as any[]).some((c) => c.reason === 'CrashLoopBackOff'), 'the pod\'s new state through the pod watch', 60_000);
    } finally {
      await w.close();
    }
  });
});

describe('wsm on a real API server: a conflicting write', { skip }, () => {
  test('a 409 from the real server (someone wrote the StatefulSet between our read and write) is retried, and both writes are kept', async () => {
    const w = await startRealWsm('conflict');
    const proxy = new ApiProxy(new URL(w.admin.kc.getCurrentCluster()!.server));
    await proxy.start();
    const runtime = new KubernetesRuntime({ kubeConfig: proxy.kubeConfig(w.ns.wsmConfig), requestTimeoutMs: 10_000 });
    try {
      const namespace = w.ns.name;
      const ws = workspace('racy', { image: 'busybox:1.36', env: [{ name: 'A', value: '1' }] });
      await runtime.apply(ws);
      let raced = false;
      proxy.before = async (req) => {
        if (raced || req.method !== 'PUT' || req.path !== `/apis/apps/v1/namespaces/${namespace}/statefulsets/racy`) return;
        raced = true;
        // Another client's write lands first: the runtime's replace carries a resourceVersion now stale.
        const sts = await w.admin.apps.readNamespacedStatefulSet({ name: 'racy', namespace });
        sts.metadata!.annotations = { ...sts.metadata!.annotations, 'team.example.com/owner': 'data' };
        await w.admin.apps.replaceNamespacedStatefulSet({ name: 'racy', namespace, body: sts });
      };
      await runtime.apply({ ...ws, generation: 2, env: [{ name: 'A', value: '2' }] });
      const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/statefulsets/racy'));
      // The StatefulSet controller writes the status too, so a retry may meet another 409 before it sticks.
      const statuses = puts.map((r) => r.status);
      assert.equal(statuses[0], 409, 'the real server refused the stale write');
      assert.equal(statuses.at(-1), 200, 'a retry went through');
      assert.ok(statuses.slice(0, -1).every((s) => s === 409) && statuses.length <= 5, JSON.stringify(statuses));
      const sts = await w.admin.apps.readNamespacedStatefulSet({ name: 'racy', namespace });
      assert.deepEqual(sts.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value]), [['A', '2']]);
      assert.equal(sts.metadata!.annotations!['team.example.com/owner'], 'data', 'the other client\'s write is kept');
      await runtime.remove(ws, { deleteVolume: true });
    } finally {
      await runtime.close();
      await proxy.close();
      await w.close();
    }
  });
});
