// Change plans on a real API server: a dry run is checked by the server itself (dryRun=All) and keeps
// nothing; what the server refuses is a 400 naming the workspace API's field, the same refusal a real
// patch only meets later. A real patch's plan holds: the StatefulSet's spec (its generation) changes
// exactly when the plan says the pod rolls.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { realClusterSkip } from './real-cluster/cluster.js';
import { createWorkspace, settled, startRealWsm } from './real-cluster/wsm.js';

const skip = realClusterSkip();
const BOGUS = 'annotations:\n  seccomp.security.alpha.kubernetes.io/pod: bogus';

describe('change plans on a real API server', { skip }, () => {
  test('a dry run is checked with dryRun=All, keeps nothing, and names the field the server refuses', async () => {
    const w = await startRealWsm('plan');
    try {
      const { apps } = w.admin;
      const namespace = w.ns.name;
      const name = 'plan';
      await createWorkspace(w, name);
      await w.waitFor(name, (x) => x.instance.status === 'RUNNING' && x.observed_generation === x.generation, 'RUNNING');
      const sts = () => apps.readNamespacedStatefulSet({ name, namespace });
      const put = (workspace: Record<string, unknown>) => w.srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace: { action: 'patch', ...workspace } } });
      const before = await sts();
      const wsBefore = await w.ws(name);

      const ok = await put({ dry_run: true, container_config: 'env:\n  - name: PLANNED\n    value: "1"' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.plan.engine_check.status, 'accepted', JSON.stringify(ok.body.plan));
      assert.match(ok.body.plan.engine_check.message, /replace statefulset plan/);

      const bad = await put({ dry_run: true, container_config: BOGUS });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.deepEqual(bad.body.error.errors.map((e: any) => e.field), ['container_config.annotations["seccomp.security.alpha.kubernetes.io/pod"]']);
      assert.match(bad.body.error.errors[0].message, /must be a valid seccomp profile/);

      const after = await sts();
      assert.equal(after.metadata!.resourceVersion, before.metadata!.resourceVersion, 'the server kept nothing of either dry run');
      const wsAfter = await w.ws(name);
      assert.deepEqual([wsAfter.resource_version, wsAfter.generation], [wsBefore.resource_version, wsBefore.generation]);

      // Without dry_run wsm takes the change, and the server refuses it only when the controller writes it.
      const real = await put({ container_config: BOGUS });
      assert.equal(real.status, 200, JSON.stringify(real.body));
      const op = await settled(w, name, real.body.operation.id);
      assert.equal(op.state, 'failed');
      assert.match(op.error, /must be a valid seccomp profile/);
    } finally {
      await w.close();
    }
  });

  test('the StatefulSet spec changes exactly when the plan says the pod rolls', async () => {
    const w = await startRealWsm('plan-real');
    try {
      const { apps } = w.admin;
      const namespace = w.ns.name;
      const name = 'plan-real';
      await createWorkspace(w, name);
      await w.waitFor(name, (x) => x.instance.status === 'RUNNING' && x.observed_generation === x.generation, 'RUNNING');
      const specGeneration = async () => (await apps.readNamespacedStatefulSet({ name, namespace })).metadata!.generation;
      for (const [patch, rolls] of [
        [{ lifecycle_config: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 3600 } } }, false],
        [{ container_config: 'env:\n  - name: PLANNED\n    value: "1"' }, true],
        [{ container_config: 'service_type: NodePort' }, false],
      ] as const) {
        const before = await specGeneration();
        const res = await w.srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace: { action: 'patch', ...patch } } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.plan.interrupts, rolls, JSON.stringify(res.body.plan));
        assert.equal((await settled(w, name, res.body.operation.id)).state, 'succeeded');
        assert.equal((await specGeneration()) !== before, rolls, `${JSON.stringify(patch)}: the plan said ${res.body.plan.effect}`);
      }
    } finally {
      await w.close();
    }
  });
});
