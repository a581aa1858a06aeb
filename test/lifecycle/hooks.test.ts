// Pre-start scripts and post-start hooks end to end on the local runtime, through the HTTP API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, startTestServer, type TestServer } from '../support/server.js';
import { condition, getWs, localHome, serverConfig, waitForWs, writeHook } from './helpers.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer({ env: { WSM_PRE_START_TIMEOUT_SECONDS: '2', WSM_POST_START_TIMEOUT_SECONDS: '10' } });
});
after(async () => {
  await srv?.close();
});

async function create(name: string, lifecycle_config: Record<string, unknown>) {
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: serverConfig(), lifecycle_config } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.workspace;
}

async function served(ws: any, path: string): Promise<string> {
  return eventually(async () => {
    try {
      const res = await fetch(`http://${ws.instance.ip}${path}`);
      return res.status === 200 ? await res.text() : undefined;
    } catch {
      return undefined;
    }
  }, 10_000, `${path} served`);
}

const act = (name: string, workspace: Record<string, unknown>) => srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace } });

describe('pre-start script', () => {
  test('runs before the main process, which sees what it wrote, on every start', async () => {
    await writeHook(srv, 'pre/ok.sh', '#!/bin/sh\necho "prepared for $WSM_WORKSPACE" >> prepared.txt\n');
    await create('pre-ok', { pre_start_script_path: 'pre/ok.sh' });
    const ws = await waitForWs(srv, 'pre-ok', (w) => w.instance.status === 'RUNNING', 'RUNNING');
    assert.equal(await served(ws, '/file/prepared.txt'), 'prepared for pre-ok\n');
    assert.equal((await act('pre-ok', { action: 'stop' })).status, 200);
    await waitForWs(srv, 'pre-ok', (w) => w.instance.status === 'STOPPED', 'STOPPED');
    assert.equal((await act('pre-ok', { action: 'resume' })).status, 200);
    const again = await waitForWs(srv, 'pre-ok', (w) => w.instance.status === 'RUNNING', 'RUNNING again');
    assert.equal(await served(again, '/file/prepared.txt'), 'prepared for pre-ok\nprepared for pre-ok\n');
  });

  test('a failing script keeps the workspace from starting: FAILED, PreStartFailed, exit code, last lines', async () => {
    await writeHook(srv, 'pre/fail.sh', '#!/bin/sh\necho "checking the database"\necho "database unreachable" >&2\nexit 3\n');
    await create('pre-fail', { pre_start_script_path: 'pre/fail.sh' });
    const ws = await waitForWs(srv, 'pre-fail', (w) => w.instance.status === 'FAILED', 'FAILED');
    assert.equal(ws.exit_code, 3);
    const c = condition(ws, 'PreStartFailed');
    assert.ok(c, JSON.stringify(ws.conditions));
    assert.equal(c.reason, 'PreStartFailed');
    assert.match(c.message, /code 3/);
    assert.match(c.message, /checking the database\ndatabase unreachable/);
    assert.match(ws.status_message, /database unreachable/);
    assert.equal(existsSync(join(localHome(srv, 'pre-fail'), 'main-started.txt')), false, 'the main process never ran');
    assert.equal(ws.last_operation.action, 'create');
    assert.equal(ws.last_operation.state, 'failed', 'the start did not succeed');
    assert.match(ws.last_operation.error, /pre-start/);
  });

  test('a script that hangs past its timeout fails the start', async () => {
    await writeHook(srv, 'pre/hang.sh', '#!/bin/sh\necho "waiting forever"\nsleep 600\n');
    await create('pre-hang', { pre_start_script_path: 'pre/hang.sh' });
    const ws = await waitForWs(srv, 'pre-hang', (w) => w.instance.status === 'FAILED', 'FAILED after the timeout');
    assert.equal(ws.exit_code, 124);
    const c = condition(ws, 'PreStartFailed');
    assert.equal(c.reason, 'PreStartTimedOut');
    assert.match(c.message, /timed out after 2 s/);
    assert.match(c.message, /waiting forever/);
    assert.equal(existsSync(join(localHome(srv, 'pre-hang'), 'main-started.txt')), false);
  });
});

describe('post-start', () => {
  test('with wait_for_port, the command, then the hook, run once the main process answers, on every start, and are recorded', async () => {
    // The command checks the main process is up; the hook checks the command ran first.
    await writeHook(srv, 'post/ok.sh', '#!/bin/sh\ntest -f command-ran.txt || exit 9\necho "hook in $WSM_WORKSPACE" >> hook-ran.txt\necho "hook says hi"\n');
    await create('post-ok', { post_start: { command: "sh -c 'cat main-started.txt >> command-ran.txt && echo command says hi'", hook_path: 'post/ok.sh', wait_for_port: true } });
    const ws = await waitForWs(srv, 'post-ok', (w) => condition(w, 'PostStart')?.status === 'True', 'PostStart succeeded');
    assert.equal(ws.instance.status, 'RUNNING');
    assert.equal(condition(ws, 'PostStartFailed'), undefined);
    const home = localHome(srv, 'post-ok');
    assert.equal(readFileSync(join(home, 'command-ran.txt'), 'utf8'), 'yes\n');
    assert.equal(readFileSync(join(home, 'hook-ran.txt'), 'utf8'), 'hook in post-ok\n');

    const ops = await srv.request('GET', '/api/workspaces/post-ok/operations');
    const createOp = ops.body.operations.find((o: any) => o.action === 'create');
    const steps = createOp.details.post_start.steps;
    assert.deepEqual(steps.map((s: any) => [s.step, s.exit_code, s.timed_out]), [['command', 0, false], ['hook', 0, false]]);
    assert.match(steps[0].output, /command says hi/);
    assert.match(steps[1].output, /hook says hi/);
    assert.equal(typeof steps[0].duration_ms, 'number');

    assert.equal((await act('post-ok', { action: 'stop' })).status, 200);
    await waitForWs(srv, 'post-ok', (w) => w.instance.status === 'STOPPED', 'STOPPED');
    assert.equal((await act('post-ok', { action: 'resume' })).status, 200);
    await eventually(async () => readFileSync(join(home, 'hook-ran.txt'), 'utf8').split('\n').length === 3, 20_000, 'the hook ran again after resume');
    const resumed = await waitForWs(srv, 'post-ok', (w) => condition(w, 'PostStart')?.status === 'True', 'PostStart succeeded again');
    assert.equal(resumed.last_operation.action, 'resume');
    assert.equal(resumed.last_operation.details.post_start.ok, true);
  });

  test('by default post-start runs at once, beside a process that never listens; with wait_for_port the create operation says what it waits for', async () => {
    const never = `command: ["sh", "-c", "sleep 3600"]`;
    const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'post-now', container_config: never, lifecycle_config: { post_start: { command: ['sh', '-c', 'echo ran early'] } } } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const now = await waitForWs(srv, 'post-now', (w) => condition(w, 'PostStart')?.status === 'True', 'PostStart done without a port');
    assert.equal(now.last_operation.state, 'succeeded');
    assert.equal(now.last_operation.details.waiting_for, undefined, 'nothing left waiting');
    assert.ok(now.conditions.some((c: any) => c.type === 'Listening' && c.status === 'False'), 'it never listened');

    const waits = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'post-waits', container_config: never, lifecycle_config: { post_start: { command: ['true'], wait_for_port: true } } } } });
    assert.equal(waits.status, 201, JSON.stringify(waits.body));
    const pending = await waitForWs(srv, 'post-waits', (w) => Boolean(w.last_operation?.details?.waiting_for), 'the operation to say what it waits for');
    assert.equal(pending.instance.status, 'RUNNING');
    assert.equal(pending.last_operation.state, 'running');
    assert.match(pending.last_operation.details.waiting_for, /^post-start waits for the workspace to accept connections on 127\.0\.0\.1:\d+ \(post_start\.wait_for_port; at most 10 s\), then runs$/);
    assert.equal(condition(pending, 'PostStart').message, pending.last_operation.details.waiting_for);
  });

  test('a failing command is a warning by default: shown as a condition, the workspace keeps running', async () => {
    await create('post-warn', { post_start: { command: ['sh', '-c', 'echo "could not warm the cache"; exit 4'] } });
    const ws = await waitForWs(srv, 'post-warn', (w) => Boolean(condition(w, 'PostStartFailed')), 'PostStartFailed');
    const c = condition(ws, 'PostStartFailed');
    assert.equal(c.reason, 'Warning');
    assert.match(c.message, /exited with code 4/);
    assert.match(c.message, /could not warm the cache/);
    assert.equal(ws.instance.status, 'RUNNING');
    const op = (await srv.request('GET', '/api/workspaces/post-warn/operations')).body.operations.find((o: any) => o.action === 'create');
    assert.equal(op.state, 'succeeded');
    assert.equal(op.details.post_start.steps[0].exit_code, 4);
    await served(ws, '/');
  });

  test('with fail_on_error a failing hook fails the workspace until it is started again', async () => {
    await writeHook(srv, 'post/bad.sh', '#!/bin/sh\necho "migration failed"\nexit 2\n');
    await create('post-fatal', { post_start: { hook_path: 'post/bad.sh', fail_on_error: true } });
    const ws = await waitForWs(srv, 'post-fatal', (w) => w.instance.status === 'FAILED', 'FAILED');
    const c = condition(ws, 'PostStartFailed');
    assert.equal(c.reason, 'WorkspaceFailed');
    assert.match(c.message, /post-start hook exited with code 2/);
    assert.match(c.message, /migration failed/);
    assert.match(ws.status_message, /migration failed/);
    const op = (await srv.request('GET', '/api/workspaces/post-fatal/operations')).body.operations.find((o: any) => o.action === 'create');
    assert.equal(op.state, 'failed');
    assert.match(op.error, /migration failed/);
    // It stays FAILED (the process was stopped), also after the controller looks again.
    await srv.server.controller.resync();
    await srv.server.controller.drained();
    assert.equal((await getWs(srv, 'post-fatal')).instance.status, 'FAILED');

    await writeHook(srv, 'post/good.sh', '#!/bin/sh\necho fine\n');
    const fixed = await act('post-fatal', { action: 'patch', lifecycle_config: { post_start: { hook_path: 'post/good.sh' } } });
    assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    const back = await waitForWs(srv, 'post-fatal', (w) => w.instance.status === 'RUNNING' && condition(w, 'PostStart')?.status === 'True', 'RUNNING with a good hook');
    assert.equal(condition(back, 'PostStartFailed'), undefined);
  });

  test('a hook that runs past the post-start timeout is a failure that says so', async () => {
    await writeHook(srv, 'post/slow.sh', '#!/bin/sh\necho "still going"\nsleep 600\n');
    await create('post-slow', { post_start: { hook_path: 'post/slow.sh' } });
    const ws = await waitForWs(srv, 'post-slow', (w) => Boolean(condition(w, 'PostStartFailed')), 'PostStartFailed', 40_000);
    assert.match(condition(ws, 'PostStartFailed').message, /timed out after 1\d\.\d s/);
    assert.equal(ws.instance.status, 'RUNNING');
  });
});
