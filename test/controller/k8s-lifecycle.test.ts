// Lifecycle on Kubernetes end to end: a real wsm server with the Kubernetes runtime, pointed by a
// kubeconfig at the fake API server, whose simulated kubelet really runs the postStart hook (the
// wrapper wsm delivers, the user's command and script) in a per-pod directory. What is asserted is what
// the HTTP API shows. The culler's pass is driven directly (its own period is an hour).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startTestServer, type TestServer } from '../support/server.js';
import { FakeKubeApi, type PodOutcome } from '../support/fake-kube-api/index.js';
import { condition, getWs, sleep, waitForWs, writeHook } from '../lifecycle/helpers.js';

let fake: FakeKubeApi;
let srv: TestServer;
let dir: string;
/** What the simulated kubelet does with each workspace's pod (by workspace name). */
const outcomes = new Map<string, PodOutcome>();
/** What each workspace answers to the activity probe through the pod proxy. */
const statuses = new Map<string, unknown>();

before(async () => {
  fake = await FakeKubeApi.start();
  fake.setPodHook((pod) => outcomes.get(String(pod.metadata.labels?.app)));
  fake.setProxyHandler((pod, port, path) => {
    const body = statuses.get(String(pod.metadata.labels?.app));
    if (body === undefined || port !== 6789 || !path.startsWith('/api/statuses?_format=with_activity_details')) return undefined;
    return { status: 200, body: JSON.stringify(body) };
  });
  dir = await mkdtemp(join(tmpdir(), 'wsm-k8s-lifecycle-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, fake.kubeConfig('default').exportConfig());
  srv = await startTestServer({
    clusterType: 'k8s',
    env: { KUBECONFIG: kubeconfig, WSM_CULLER_PERIOD_SECONDS: '3600', WSM_PRE_START_TIMEOUT_SECONDS: '5' },
  });
});
after(async () => {
  await srv?.close();
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

async function create(name: string, lifecycle_config: Record<string, unknown>) {
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, cluster_type: 'k8s', lifecycle_config } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

async function createOp(name: string): Promise<any> {
  const ops = await srv.request('GET', `/api/workspaces/${name}/operations`);
  return ops.body.operations.find((o: any) => o.action === 'create');
}

describe('pre-start on Kubernetes', () => {
  test('a failing init container: FAILED, its exit code, PreStartFailed with the last lines of its output', async () => {
    await writeHook(srv, 'pre/fail.sh', '#!/bin/sh\necho "checking the database"\necho "database unreachable" >&2\nexit 3\n');
    // The kubelet reports the output only because wsm asks for it (FallbackToLogsOnError).
    outcomes.set('k-pre-fail', { kind: 'init-failed', container: 'pre-start', exitCode: 3, logs: 'checking the database\ndatabase unreachable\n', restarting: false });
    await create('k-pre-fail', { pre_start_script_path: 'pre/fail.sh' });
    const ws = await waitForWs(srv, 'k-pre-fail', (w) => w.instance.status === 'FAILED', 'FAILED');
    assert.equal(ws.exit_code, 3);
    const c = condition(ws, 'PreStartFailed');
    assert.ok(c, JSON.stringify(ws.conditions));
    assert.equal(c.status, 'True');
    assert.equal(c.reason, 'PreStartFailed');
    assert.equal(c.message, 'pre-start script exited with code 3: checking the database\ndatabase unreachable');
    assert.match(ws.status_message, /database unreachable/);
    assert.equal((await createOp('k-pre-fail')).state, 'failed');
  });

  test('a script past its timeout (exit 124), read from a crash-looping init container, is PreStartTimedOut', async () => {
    await writeHook(srv, 'pre/hang.sh', '#!/bin/sh\necho "waiting for the lock"\nsleep 600\n');
    outcomes.set('k-pre-hang', { kind: 'init-failed', container: 'pre-start', exitCode: 124, logs: 'waiting for the lock\n', durationSeconds: 5 });
    await create('k-pre-hang', { pre_start_script_path: 'pre/hang.sh' });
    const ws = await waitForWs(srv, 'k-pre-hang', (w) => w.instance.status === 'FAILED', 'FAILED');
    assert.equal(ws.exit_code, 124);
    const c = condition(ws, 'PreStartFailed');
    assert.equal(c.reason, 'PreStartTimedOut');
    assert.match(c.message, /^pre-start script exited with code 124 \(timed out after 5 s\): waiting for the lock$/);
  });
});

describe('post-start on Kubernetes (the postStart hook), recorded', () => {
  test('the command, then the hook, each with exit code, duration and output, on the operation and as PostStart', async () => {
    await writeHook(srv, 'post/ok.sh', '#!/bin/sh\ntest -f command-ran.txt || exit 9\necho "hook says hi"\n');
    await create('k-post-ok', { post_start: { command: "sh -c 'echo yes > command-ran.txt && echo command says hi'", hook_path: 'post/ok.sh' } });
    const ws = await waitForWs(srv, 'k-post-ok', (w) => condition(w, 'PostStart')?.status === 'True', 'PostStart succeeded');
    assert.equal(ws.instance.status, 'RUNNING');
    assert.equal(condition(ws, 'PostStart').reason, 'Succeeded');
    assert.equal(condition(ws, 'PostStartFailed'), undefined);
    const op = await createOp('k-post-ok');
    const result = op.details.post_start;
    assert.equal(result.ok, true);
    assert.equal(result.fail_on_error, false);
    assert.deepEqual(result.steps.map((s: any) => [s.step, s.exit_code, s.timed_out]), [['command', 0, false], ['hook', 0, false]]);
    assert.equal(result.steps[0].output, 'command says hi');
    assert.equal(result.steps[1].output, "hook says hi");
    assert.equal(typeof result.steps[1].duration_ms, 'number');
    // It was read from the pod over the exec websocket.
    assert.ok(fake.requests.some((r) => r.path === '/api/v1/namespaces/default/pods/k-post-ok-0/exec'));
  });

  test('a failing hook is a warning by default: PostStartFailed (Warning) with code and output, still RUNNING', async () => {
    await writeHook(srv, 'post/warn.sh', '#!/bin/sh\necho "could not warm the cache"\necho "cache: \\"redis\\" down" >&2\nexit 4\n');
    await create('k-post-warn', { post_start: { hook_path: 'post/warn.sh' } });
    const ws = await waitForWs(srv, 'k-post-warn', (w) => Boolean(condition(w, 'PostStartFailed')), 'PostStartFailed');
    const c = condition(ws, 'PostStartFailed');
    assert.equal(c.reason, 'Warning');
    assert.match(c.message, /^post-start hook exited with code 4 after \d+\.\d s: could not warm the cache\ncache: "redis" down; the workspace keeps running/);
    assert.equal(ws.instance.status, 'RUNNING');
    const op = await createOp('k-post-warn');
    assert.equal(op.state, 'succeeded');
    assert.equal(op.details.post_start.steps[0].exit_code, 4);
  });

  test('with fail_on_error the kubelet kills the container; its event is read: FAILED, stopped, operation failed', async () => {
    await writeHook(srv, 'post/bad.sh', '#!/bin/sh\necho "migration failed"\nexit 2\n');
    await create('k-post-fatal', { post_start: { hook_path: 'post/bad.sh', fail_on_error: true } });
    const ws = await waitForWs(srv, 'k-post-fatal', (w) => w.instance.status === 'FAILED', 'FAILED');
    const c = condition(ws, 'PostStartFailed');
    assert.ok(c, JSON.stringify(ws.conditions));
    assert.equal(c.reason, 'WorkspaceFailed');
    assert.match(c.message, /^post-start hook exited with code 2 after \d+\.\d s: migration failed; the workspace was stopped/);
    const op = await createOp('k-post-fatal');
    assert.equal(op.state, 'failed');
    assert.match(op.error, /migration failed/);
    assert.equal(op.details.post_start.steps[0].exit_code, 2);
    assert.ok(fake.list('events', 'default').some((e: any) => e.reason === 'FailedPostStartHook' && e.involvedObject.name === 'k-post-fatal-0'));
    // Stopped rather than left crash-looping, and it stays FAILED when the controller looks again.
    assert.equal((fake.get('statefulsets', 'default', 'k-post-fatal')!.spec as any).replicas, 0);
    await srv.server.controller.resync();
    await srv.server.controller.drained();
    assert.equal((await getWs(srv, 'k-post-fatal')).instance.status, 'FAILED');

    await writeHook(srv, 'post/good.sh', '#!/bin/sh\necho fine\n');
    const fixed = await srv.request('PUT', '/api/workspaces/k-post-fatal', { body: { workspace: { action: 'patch', lifecycle_config: { post_start: { hook_path: 'post/good.sh', fail_on_error: true } } } } });
    assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    const back = await waitForWs(srv, 'k-post-fatal', (w) => w.instance.status === 'RUNNING' && condition(w, 'PostStart')?.status === 'True', 'RUNNING with a good hook');
    assert.equal(condition(back, 'PostStartFailed'), undefined);
    assert.equal(back.last_operation.details.post_start.ok, true);
  });
});

describe('the idle probe on Kubernetes goes through the API server pod proxy', () => {
  const policy = { termination_policy: { enable_auto_termination: true, max_idle_seconds: 1 } };
  const mage = (last_user_request: string | null) => ({ statuses: [{ last_user_request, last_scheduler_activity: null, active_pipeline_run_count: 0 }] });

  test('recent user requests keep a workspace; an old last_user_request gets it stopped; a failed probe is shown', async () => {
    await create('k-busy', policy);
    await create('k-idle', policy);
    await create('k-silent', policy);
    for (const name of ['k-busy', 'k-idle', 'k-silent']) await waitForWs(srv, name, (w) => w.instance.status === 'RUNNING', 'RUNNING');
    statuses.set('k-idle', mage('2020-01-01T00:00:00'));
    await sleep(1_500); // past max_idle_seconds since the create
    statuses.set('k-busy', mage(new Date().toISOString()));

    await srv.server.culler.pass();

    const idle = await waitForWs(srv, 'k-idle', (w) => w.desired_state === 'stopped', 'k-idle stopped');
    assert.equal(idle.last_operation.actor, 'auto-termination');
    assert.equal(idle.activity.last_auto_stop.probe.last_activity_at, '2020-01-01T00:00:00.000Z');
    const busy = await getWs(srv, 'k-busy');
    assert.equal(busy.desired_state, 'running');
    assert.equal(busy.activity.last_activity_source, 'probe');
    // No answer through the proxy (503): not activity, reported, and the workspace is stopped.
    const silent = await waitForWs(srv, 'k-silent', (w) => w.desired_state === 'stopped', 'k-silent stopped');
    assert.match(silent.activity.probe_error, /HTTP 503/);

    const asked = fake.requests.filter((r) => /^\/api\/v1\/namespaces\/default\/pods\/k-(busy|idle)-0:6789\/proxy\/api\/statuses$/.test(r.path));
    assert.equal(asked.length, 2);
    assert.ok(asked.every((r) => r.query._format === 'with_activity_details'));
  });
});

describe('restarts on Kubernetes', () => {
  async function createWith(name: string, containerConfig: string) {
    const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, cluster_type: 'k8s', container_config: containerConfig } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }

  test('a crash loop: FAILED, the kubelet\'s restarts counted, the last termination, CrashLoopBackOff with the next retry', async () => {
    outcomes.set('k-crashy', { kind: 'crash-loop', message: 'back-off 40s restarting failed container=k-crashy-container pod=k-crashy-0' });
    await createWith('k-crashy', 'image: example/app:1\n');
    const ws = await waitForWs(srv, 'k-crashy', (w) => w.restart_count === 3, 'the restarts counted');
    assert.equal(ws.instance.status, 'FAILED');
    assert.equal(ws.restart_policy, 'always');
    assert.equal(ws.last_termination.exit_code, 1);
    assert.equal(ws.last_termination.log_tail, 'crashed on purpose');
    const ready = ws.conditions.filter((c: any) => c.type === 'Ready');
    assert.equal(ready.length, 1);
    assert.equal(ready[0].reason, 'CrashLoopBackOff');
    assert.match(ready[0].message, /^exited with code 1; back-off 40 s before restart 4 \(at /);
    assert.ok(ws.next_restart_at, 'the next retry is shown');
    // Seen again (a resync): counted once, not again.
    await srv.server.controller.resync();
    await srv.server.controller.drained();
    assert.equal((await getWs(srv, 'k-crashy')).restart_count, 3);
    const sts = fake.get('statefulsets', 'default', 'k-crashy');
    assert.equal((sts?.spec as any)?.replicas, 1, 'the kubelet restarts it, wsm leaves it');
  });

  test('restart_policy never: once the termination is seen the StatefulSet is scaled to 0 and the workspace is FAILED', async () => {
    outcomes.set('k-never', { kind: 'crash-loop', message: 'back-off 10s restarting failed container=k-never-container pod=k-never-0' });
    await createWith('k-never', 'image: example/app:1\nrestart_policy: never\n');
    const ws = await waitForWs(srv, 'k-never', (w) => w.instance.status === 'FAILED' && /not restarted/.test(w.status_message ?? ''), 'FAILED, not restarted');
    assert.match(ws.status_message, /^exited with code 1; not restarted \(restart_policy never\)$/);
    assert.equal(ws.desired_state, 'running', 'what was asked is kept');
    await eventually(async () => (fake.get('statefulsets', 'default', 'k-never')?.spec as any)?.replicas === 0, 10_000, 'replicas 0');
    // It stays so: a resync does not scale it up again.
    await srv.server.controller.resync();
    await srv.server.controller.drained();
    const later = await getWs(srv, 'k-never');
    assert.equal(later.instance.status, 'FAILED');
    assert.equal((fake.get('statefulsets', 'default', 'k-never')?.spec as any)?.replicas, 0);
  });
});
