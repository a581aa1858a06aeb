// Pre-stop end to end on the local runtime, through the HTTP API: it runs inside the workspace before
// a stop, a failure postpones an idle stop (the culler is driven by an injected clock, not by waiting),
// refuses a manual one unless forced, and is reported but does not block a delete.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, startTestServer, type TestServer } from '../support/server.js';
import { condition, createRunning, getWs, localHome, serverConfig, waitForWs, writeHook } from './helpers.js';

let srv: TestServer;
let clockOffsetMs = 0;

before(async () => {
  srv = await startTestServer({ clock: () => Date.now() + clockOffsetMs, env: { WSM_CULLER_PERIOD_SECONDS: '3600' } });
  // Saves only once the test has allowed it, so one workspace can fail and then succeed.
  await writeHook(srv, 'stop/save.sh', '#!/bin/sh\nif [ ! -f allow-stop ]; then echo "cannot save: the notebook is locked" >&2; exit 4; fi\necho "saved at stop" > saved.txt\n');
});
after(async () => {
  await srv?.close();
});

const create = (name: string, lifecycle_config: Record<string, unknown>) => createRunning(srv, name, lifecycle_config);

const act = (name: string, workspace: Record<string, unknown>) => srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace } });
const allowStop = (name: string) => writeFile(join(localHome(srv, name), 'allow-stop'), 'yes\n');

describe('pre-stop', () => {
  test('runs inside the workspace before a manual stop; its output is on the operation', async () => {
    await create('ps-save', { pre_stop: { hook_path: 'stop/save.sh', timeout_seconds: 20 } });
    await allowStop('ps-save');
    const res = await act('ps-save', { action: 'stop' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const ws = await waitForWs(srv, 'ps-save', (w) => w.instance.status === 'STOPPED', 'STOPPED');
    assert.equal(readFileSync(join(localHome(srv, 'ps-save'), 'saved.txt'), 'utf8'), 'saved at stop\n');
    assert.equal(ws.last_operation.state, 'succeeded');
    assert.equal(ws.last_operation.details.pre_stop.ok, true);
    assert.equal(ws.last_operation.details.pre_stop.steps[0].step, 'hook');
  });

  test('a failing pre-stop refuses a manual stop (reported on the operation); force skips it', async () => {
    await create('ps-manual', { pre_stop: { hook_path: 'stop/save.sh' } });
    const res = await act('ps-manual', { action: 'stop' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const ws = await waitForWs(srv, 'ps-manual', (w) => w.last_operation?.state === 'failed', 'the stop to fail');
    assert.equal(ws.instance.status, 'RUNNING');
    assert.equal(ws.desired_state, 'running');
    assert.match(ws.last_operation.error, /pre-stop hook exited with code 4.*cannot save: the notebook is locked.*force/s);
    assert.equal(ws.last_operation.details.pre_stop.ok, false);
    const c = condition(ws, 'PreStopFailed');
    assert.equal(c?.reason, 'StopRefused', JSON.stringify(ws.conditions));

    const forcedRes = await act('ps-manual', { action: 'stop', force: true });
    assert.equal(forcedRes.status, 200, JSON.stringify(forcedRes.body));
    const stopped = await waitForWs(srv, 'ps-manual', (w) => w.instance.status === 'STOPPED', 'STOPPED by force');
    assert.equal(stopped.last_operation.details.pre_stop.skipped, 'force');
    assert.equal(condition(stopped, 'PreStopFailed'), undefined, 'the condition goes once the workspace stopped');
    assert.equal(existsSync(join(localHome(srv, 'ps-manual'), 'saved.txt')), false, 'force ran nothing');
  });

  test('a failing pre-stop postpones an idle stop; the culler tries again and stops it once it succeeds', async () => {
    await create('ps-idle', { pre_stop: { hook_path: 'stop/save.sh' }, termination_policy: { enable_auto_termination: true, max_idle_seconds: 60 } });
    clockOffsetMs = 3_600_000; // an hour later for the culler: long idle
    try {
      await srv.server.culler.pass();
      await srv.server.culler.settled();
      const ws = await waitForWs(srv, 'ps-idle', (w) => w.last_operation?.action === 'auto_stop' && w.last_operation.state === 'failed', 'the idle stop to be postponed');
      assert.equal(ws.instance.status, 'RUNNING');
      assert.equal(ws.desired_state, 'running');
      const c = condition(ws, 'PreStopFailed');
      assert.equal(c?.reason, 'StopPostponed', JSON.stringify(ws.conditions));
      assert.match(c.message, /postponed.*idle check tries again/);
      const audit = await srv.request('GET', '/api/audit?workspace=ps-idle');
      assert.ok(audit.body.events.some((e: any) => e.action === 'pre_stop' && e.result === 'error'), JSON.stringify(audit.body));

      await allowStop('ps-idle');
      // Each pass is later than the last try's backoff (at most 30 min), so each is a retry; the
      // culler's decision is in the failure message if none stops it.
      const stopped = await eventually(async () => {
        clockOffsetMs += 31 * 60_000;
        await srv.server.culler.pass();
        await srv.server.culler.settled();
        const ws = await getWs(srv, 'ps-idle');
        return ws.instance.status === 'STOPPED' && ws;
      }, 30_000, `ps-idle stopped by a later idle check (last decision: ${JSON.stringify(srv.server.culler.lastDecision('ps-idle'))})`);
      assert.equal(stopped.last_operation.action, 'auto_stop');
      assert.equal(stopped.last_operation.details.pre_stop.ok, true);
      assert.equal(readFileSync(join(localHome(srv, 'ps-idle'), 'saved.txt'), 'utf8'), 'saved at stop\n');
    } finally {
      clockOffsetMs = 0;
    }
  });

  test('a delete runs the pre-stop, reports its failure, and deletes all the same', async () => {
    await create('ps-delete', { pre_stop: { command: ['sh', '-c', 'echo "no disk left" >&2; exit 9'] } });
    const res = await srv.request('DELETE', '/api/workspaces/ps-delete');
    assert.ok(res.status === 200 || res.status === 202, JSON.stringify(res.body));
    assert.equal(res.body.operation.state, 'succeeded', JSON.stringify(res.body.operation));
    assert.equal(res.body.operation.details.pre_stop.ok, false);
    assert.match(res.body.operation.details.pre_stop.steps[0].output, /no disk left/);
    assert.equal((await srv.request('GET', '/api/workspaces/ps-delete')).status, 404);
  });

  test('bad pre_stop settings and force where it does not belong are refused naming the field', async () => {
    const bad = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'ps-bad', lifecycle_config: { pre_stop: { command: 'sync', timeout_seconds: 0 } } } } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.errors.map((e: any) => e.field), ['lifecycle_config.pre_stop.timeout_seconds']);
    const missing = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'ps-bad', lifecycle_config: { pre_stop: { hook_path: 'stop/none.sh' } } } } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.errors[0].field, 'lifecycle_config.pre_stop.hook_path');
    await create('ps-force', {});
    const onResume = await act('ps-force', { action: 'resume', force: true });
    assert.equal(onResume.status, 400);
    assert.equal(onResume.body.error.errors[0].field, 'force');
    const notBool = await act('ps-force', { action: 'stop', force: 'yes' });
    assert.equal(notBool.status, 400);
    assert.equal(notBool.body.error.errors[0].field, 'force');
    assert.equal((await getWs(srv, 'ps-force')).desired_state, 'running');
  });
});
