// Pod states on a real API server, written as a kubelet would write them (pods/status, Events), read by
// wsm through its watches and shown by the HTTP API with the documented statuses and conditions.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { realClusterSkip, until } from './real-cluster/cluster.js';
import type { PodBehaviour } from './real-cluster/kubelet.js';
import { condition, createWorkspace, settled, startRealWsm, type RealWsm } from './real-cluster/wsm.js';

const skip = realClusterSkip();

async function withWsm(tag: string, behaviours: Record<string, PodBehaviour>, body: (w: RealWsm) => Promise<void>): Promise<void> {
  // These workspaces never become RUNNING: a create answers at once instead of waiting for the operation.
  const w = await startRealWsm(tag, { WSM_ACTION_WAIT_MS: '0' });
  w.kubelet.decide = (pod) => behaviours[String(pod.metadata?.labels?.app)] ?? { kind: 'ready' };
  try {
    await body(w);
  } finally {
    await w.close();
  }
}

const problem = (ws: any, reason: string) => (ws.conditions as any[]).find((c) => c.reason === reason);

describe('wsm on a real API server: pod states as the kubelet reports them', { skip }, () => {
  test('CrashLoopBackOff is FAILED with its restarts counted; ImagePullBackOff and FailedScheduling are PENDING with the kubelet\'s reason and message', async () => {
    const behaviours: Record<string, PodBehaviour> = {
      crashy: { kind: 'crash-loop', restarts: 4, exitCode: 1 },
      pully: { kind: 'image-pull-backoff', image: 'registry.invalid/team/mage:9' },
      homeless: { kind: 'unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' },
    };
    await withWsm('pods', behaviours, async (w) => {
      for (const name of Object.keys(behaviours)) await createWorkspace(w, name);

      const crashy = await w.waitFor('crashy', (x) => Boolean(problem(x, 'CrashLoopBackOff')), 'CrashLoopBackOff');
      // Nothing runs while the kubelet backs off: FAILED, as a crash loop on Docker or local is.
      assert.equal(crashy.instance.status, 'FAILED');
      assert.equal(crashy.restart_count, 4);
      assert.equal(crashy.last_termination.exit_code, 1);
      assert.ok(crashy.next_restart_at, 'the next retry, from the back-off and the end');
      assert.match(condition(crashy, 'Ready').message, /^exited with code 1; back-off 160 s before restart 5 \(at /);
      const crash = (crashy.conditions as any[]).find((c) => c.type === 'ContainersReady' && c.reason === 'CrashLoopBackOff');
      assert.equal(crash.type, 'ContainersReady', 'the kubelet\'s own word, beside Ready');
      assert.equal(crash.status, 'False');
      assert.match(crash.message, /^crashy-container: back-off 2m40s restarting failed container.* \(restarted 4 times, last exit code 1 Error\)$/);
      assert.equal(condition(crashy, 'Ready').status, 'False');

      const pully = await w.waitFor('pully', (x) => Boolean(problem(x, 'ImagePullBackOff')), 'ImagePullBackOff');
      assert.equal(pully.instance.status, 'PENDING');
      assert.equal(problem(pully, 'ImagePullBackOff').message, 'pully-container: Back-off pulling image "registry.invalid/team/mage:9"');
      assert.match(pully.status_message, /^ImagePullBackOff: /);

      const homeless = await w.waitFor('homeless', (x) => Boolean(problem(x, 'Unschedulable')), 'Unschedulable');
      assert.equal(homeless.instance.status, 'PENDING');
      const unscheduled = problem(homeless, 'Unschedulable');
      assert.equal(unscheduled.type, 'PodScheduled');
      assert.equal(unscheduled.message, '0/3 nodes are available: 3 Insufficient memory.');
      const events = await w.admin.core.listNamespacedEvent({ namespace: w.ns.name, fieldSelector: 'reason=FailedScheduling' });
      assert.equal(events.items[0]?.involvedObject.name, 'homeless-0');

      // The kubelet gets it running after all: the condition goes.
      behaviours.crashy = { kind: 'ready' };
      const recovered = await w.waitFor('crashy', (x) => x.instance.status === 'RUNNING', 'RUNNING after the crash loop');
      assert.equal(problem(recovered, 'CrashLoopBackOff'), undefined);
    });
  });

  test('a pod the namespace\'s ResourceQuota refuses: PENDING with the StatefulSet controller\'s FailedCreate message; RUNNING once the quota is lifted', async () => {
    await withWsm('quota', {}, async (w) => {
      await w.admin.core.createNamespacedResourceQuota({ namespace: w.ns.name, body: { metadata: { name: 'no-pods' }, spec: { hard: { pods: '0' } } } });
      await createWorkspace(w, 'overquota');
      const ws = await w.waitFor('overquota', (x) => Boolean(problem(x, 'FailedCreate')), 'FailedCreate');
      assert.equal(ws.instance.status, 'PENDING');
      const refused = problem(ws, 'FailedCreate');
      assert.equal(refused.type, 'PodCreated');
      assert.equal(refused.status, 'False');
      // Before the quota controller has counted the namespace, admission refuses with "status unknown".
      assert.match(refused.message, /^create Pod overquota-0 in StatefulSet overquota failed error: pods "overquota-0" is forbidden: (exceeded quota: no-pods|status unknown for quota: no-pods)/);
      assert.equal(ws.status_message, `the pod cannot be created: ${refused.message}`);
      const events = await w.admin.core.listNamespacedEvent({ namespace: w.ns.name, fieldSelector: 'reason=FailedCreate' });
      assert.equal(events.items[0]?.involvedObject.kind, 'StatefulSet', 'the refusal is the StatefulSet controller\'s event');

      await w.admin.core.deleteNamespacedResourceQuota({ name: 'no-pods', namespace: w.ns.name });
      const running = await w.waitFor('overquota', (x) => x.instance.status === 'RUNNING', 'RUNNING once the quota is gone', 90_000);
      assert.equal(problem(running, 'FailedCreate'), undefined);
    });
  });

  test('restart_policy never: once the kubelet reports the end, the StatefulSet is scaled to 0 and stays so; FAILED with why', async () => {
    await withWsm('never', { quitter: { kind: 'crash-loop', restarts: 1, exitCode: 4 } }, async (w) => {
      await createWorkspace(w, 'quitter', 'restart_policy: never\n');
      const ws = await w.waitFor('quitter', (x) => x.instance.status === 'FAILED' && /not restarted/.test(x.status_message ?? ''), 'FAILED, not restarted');
      assert.equal(ws.status_message, 'exited with code 4; not restarted (restart_policy never)');
      assert.equal(ws.desired_state, 'running');
      assert.equal(ws.last_termination.exit_code, 4);
      await until(async () => (await w.admin.apps.readNamespacedStatefulSet({ name: 'quitter', namespace: w.ns.name })).spec!.replicas === 0, 'the StatefulSet scaled to 0');
      await w.srv.server.controller.resync();
      await w.srv.server.controller.drained();
      assert.equal((await w.admin.apps.readNamespacedStatefulSet({ name: 'quitter', namespace: w.ns.name })).spec!.replicas, 0, 'not scaled back');
      assert.equal((await w.srv.request('GET', '/api/workspaces/quitter')).body.workspace.instance.status, 'FAILED');
    });
  });

  test('an init container pre-start that fails: FAILED with its exit code and its last output lines', async () => {
    await withWsm('pre', { prefail: { kind: 'init-failed', exitCode: 3, logs: 'checking the database\ndatabase unreachable\n' } }, async (w) => {
      await writeFile(join(w.srv.hooksDir, 'pre.sh'), '#!/bin/sh\necho checking the database\nexit 3\n', { mode: 0o755 });
      await createWorkspace(w, 'prefail', '', { lifecycle_config: { pre_start_script_path: 'pre.sh' } });
      const ws = await w.waitFor('prefail', (x) => x.instance.status === 'FAILED', 'FAILED');
      assert.equal(ws.exit_code, 3);
      const c = condition(ws, 'PreStartFailed');
      assert.equal(c.reason, 'PreStartFailed');
      assert.equal(c.message, 'pre-start script exited with code 3: checking the database\ndatabase unreachable');
      const sts = await w.admin.apps.readNamespacedStatefulSet({ name: 'prefail', namespace: w.ns.name });
      assert.equal(sts.spec!.template.spec!.initContainers![0]!.terminationMessagePolicy, 'FallbackToLogsOnError', 'what makes the kubelet keep the output');
    });
  });

  test('a postStart hook that fails with fail_on_error: the kubelet\'s event is read, FAILED, scaled to 0, the operation failed', async () => {
    const record = { ok: false, fail_on_error: true, started_ms: Date.now(), finished_ms: Date.now() + 40, steps: [{ step: 'command', exit_code: 2, duration_ms: 40, timed_out: false, output: 'migration failed' }] };
    await withWsm('post', { postfail: { kind: 'post-start-failed', exitCode: 2, output: `wsm-post-start-result: ${JSON.stringify(record)}\n` } }, async (w) => {
      const created = await createWorkspace(w, 'postfail', '', { lifecycle_config: { post_start: { command: 'sh -c "exit 2"', fail_on_error: true } } });
      assert.ok(created);
      const ws = await w.waitFor('postfail', (x) => x.instance.status === 'FAILED', 'FAILED');
      const c = condition(ws, 'PostStartFailed');
      assert.ok(c, JSON.stringify(ws.conditions));
      assert.equal(c.reason, 'WorkspaceFailed');
      assert.match(c.message, /^post-start (command|hook) exited with code 2 after [\d.]+ s: migration failed; the workspace was stopped/);
      await until(async () => (await w.admin.apps.readNamespacedStatefulSet({ name: 'postfail', namespace: w.ns.name })).spec!.replicas === 0, 'the StatefulSet scaled to 0');
      const ops = await w.srv.request('GET', '/api/workspaces/postfail/operations');
      const op = await settled(w, 'postfail', ops.body.operations.find((o: any) => o.action === 'create').id);
      assert.equal(op.state, 'failed');
      assert.equal(op.details.post_start.steps[0].exit_code, 2);
      // Stopped by wsm, not by hand: the repair leaves it stopped.
      await w.srv.server.controller.resync();
      await w.srv.server.controller.drained();
      assert.equal((await w.admin.apps.readNamespacedStatefulSet({ name: 'postfail', namespace: w.ns.name })).spec!.replicas, 0);
      assert.equal((await w.ws('postfail')).instance.status, 'FAILED');
    });
  });
});
