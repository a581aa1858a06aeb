// Lifecycle on the real Docker engine, through the HTTP API: idle stop, pre-start, post-start.
// The test image's CMD serves /home/src over HTTP on 6789 (busybox httpd).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { dockerSkipReason, ensureDocker, httpGetText, newRunId, TEST_IMAGE, uniqueName } from '../support/docker.js';
import { condition, waitForWs, writeHook } from './helpers.js';

const skip = dockerSkipReason();
const runId = newRunId();
let srv: TestServer;

before(async () => {
  if (skip) return;
  await ensureDocker();
  srv = await startTestServer({
    clusterType: 'docker',
    env: { WSM_CULLER_PERIOD_SECONDS: '1', WSM_PRE_START_TIMEOUT_SECONDS: '2', WSM_POST_START_TIMEOUT_SECONDS: '20' },
  });
});
after(async () => {
  await srv?.close();
});

async function create(suffix: string, lifecycle_config: Record<string, unknown>): Promise<string> {
  const name = uniqueName(runId, suffix);
  const res = await srv.request('POST', '/api/workspaces', {
    body: { workspace: { name, cluster_type: 'docker', container_config: `image: ${TEST_IMAGE}\n`, lifecycle_config } },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return name;
}

describe('lifecycle on Docker', { skip }, () => {
  test('an idle workspace is stopped after its limit', async () => {
    const name = await create('idle', { termination_policy: { enable_auto_termination: true, max_idle_seconds: 2 } });
    const ws = await waitForWs(srv, name, (w) => w.instance.status === 'STOPPED', 'stopped for idleness', 60_000);
    assert.equal(ws.desired_state, 'stopped');
    assert.equal(ws.last_operation.actor, 'auto-termination');
    assert.equal(ws.last_operation.action, 'auto_stop');
    assert.ok(ws.activity.last_auto_stop.idle_seconds >= 2);
    // busybox httpd has no /api/statuses: the probe failure is reported, and is not activity.
    assert.match(ws.activity.probe_error, /404/);
  });

  test('pre-start writes a file the main process then serves', async () => {
    await writeHook(srv, 'docker/pre-ok.sh', '#!/bin/sh\necho "prepared in $HOSTNAME" > /home/src/prepared.txt\n');
    const name = await create('preok', { pre_start_script_path: 'docker/pre-ok.sh' });
    const ws = await waitForWs(srv, name, (w) => w.instance.status === 'RUNNING', 'RUNNING', 60_000);
    assert.match(await httpGetText(`http://${ws.instance.ip}/prepared.txt`), /^prepared in /);
  });

  test('a failing pre-start script: FAILED with PreStartFailed, the exit code and its last lines', async () => {
    await writeHook(srv, 'docker/pre-fail.sh', '#!/bin/sh\necho "cannot reach the database"\nexit 3\n');
    const name = await create('prefail', { pre_start_script_path: 'docker/pre-fail.sh' });
    const ws = await waitForWs(srv, name, (w) => w.instance.status === 'FAILED', 'FAILED', 60_000);
    assert.equal(ws.exit_code, 3);
    assert.match(condition(ws, 'PreStartFailed')?.message ?? '', /code 3[\s\S]*cannot reach the database/);
    assert.equal(ws.last_operation.action, 'create');
    assert.equal(ws.last_operation.state, 'failed', 'the start did not succeed');
  });

  test('a pre-start script past its timeout fails the start', async () => {
    await writeHook(srv, 'docker/pre-hang.sh', '#!/bin/sh\necho "hanging"\nsleep 600\n');
    const name = await create('prehang', { pre_start_script_path: 'docker/pre-hang.sh' });
    const ws = await waitForWs(srv, name, (w) => w.instance.status === 'FAILED', 'FAILED after the timeout', 60_000);
    assert.equal(ws.exit_code, 124);
    assert.match(condition(ws, 'PreStartFailed')?.message ?? '', /timed out[\s\S]*hanging/);
  });

  test('post-start command and hook run in the container after it started, and are recorded', async () => {
    await writeHook(srv, 'docker/post-ok.sh', '#!/bin/sh\ntest -f /home/src/command.txt || exit 9\necho "hook ran" > /home/src/hook.txt\necho hook output\n');
    const name = await create('postok', { post_start: { command: ['sh', '-c', 'echo "command ran" > /home/src/command.txt'], hook_path: 'docker/post-ok.sh' } });
    const ws = await waitForWs(srv, name, (w) => condition(w, 'PostStart')?.status === 'True', 'PostStart succeeded', 60_000);
    assert.equal(await httpGetText(`http://${ws.instance.ip}/hook.txt`), 'hook ran\n');
    const op = (await srv.request('GET', `/api/workspaces/${name}/operations`)).body.operations.find((o: any) => o.action === 'create');
    assert.deepEqual(op.details.post_start.steps.map((s: any) => [s.step, s.exit_code]), [['command', 0], ['hook', 0]]);
    assert.match(op.details.post_start.steps[1].output, /hook output/);
  });

  test('a failing post-start hook: a warning by default, a failed workspace with fail_on_error', async () => {
    await writeHook(srv, 'docker/post-bad.sh', '#!/bin/sh\necho "seed failed"\nexit 5\n');
    const warn = await create('postwarn', { post_start: { hook_path: 'docker/post-bad.sh' } });
    const fatal = await create('postfatal', { post_start: { hook_path: 'docker/post-bad.sh', fail_on_error: true } });
    const w = await waitForWs(srv, warn, (x) => Boolean(condition(x, 'PostStartFailed')), 'PostStartFailed', 60_000);
    assert.equal(condition(w, 'PostStartFailed').reason, 'Warning');
    assert.match(condition(w, 'PostStartFailed').message, /code 5[\s\S]*seed failed/);
    assert.equal(w.instance.status, 'RUNNING');
    const f = await waitForWs(srv, fatal, (x) => x.instance.status === 'FAILED', 'FAILED', 60_000);
    assert.equal(condition(f, 'PostStartFailed').reason, 'WorkspaceFailed');
    assert.match(f.status_message, /seed failed/);
  });
});
