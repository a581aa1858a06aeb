// Automatic stops that a failing pre-stop postpones are tried again with backoff, end to end on the
// local runtime through the HTTP API: the culler's and the scheduler's passes are driven by an
// injected clock moved in small steps, and the tries are counted from the operations and the audit
// log. New activity starts the backoff over.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nextFire, parseCron } from '../../src/core/cron.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { condition, createRunning, getWs, serverConfig, waitForWs } from './helpers.js';

let srv: TestServer;
let clock = Date.now();
const FAILING_PRE_STOP = { command: ['sh', '-c', 'echo "cannot save: the notebook is locked" >&2; exit 4'] };

before(async () => {
  // Usage is sampled over the real milliseconds between the test's passes (its clock moves 15 s a pass),
  // where one tick of CPU reads as a busy core (activity, which starts the backoff over): only the API's
  // signals count here. test/controller/culler.test.ts covers usage around postponed stops.
  const noUsageSignal = { WSM_ACTIVITY_CPU_CORES: '1000', WSM_ACTIVITY_NET_BYTES_PER_SECOND: '1000000000000' };
  srv = await startTestServer({ clock: () => clock, env: { WSM_CULLER_PERIOD_SECONDS: '3600', ...noUsageSignal } });
});
after(async () => {
  await srv?.close();
});

const create = (name: string, lifecycle_config: Record<string, unknown>) => createRunning(srv, name, lifecycle_config);

async function stopOperations(name: string, action: string): Promise<any[]> {
  const res = await srv.request('GET', `/api/workspaces/${name}/operations`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.operations.filter((op: any) => op.action === action);
}

async function auditCount(name: string, action: string, result: string): Promise<number> {
  const res = await srv.request('GET', `/api/audit?workspace=${name}&limit=500`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.events.filter((e: any) => e.action === action && e.result === result).length;
}

/**
 * Moves the clock by `stepMs` before each of `passes` passes; after a pass that made a stop, waits
 * until its pre-stop postponed it. Returns the clock's times of the passes that made one.
 */
async function drive(name: string, action: string, passes: number, stepMs: number, pass: () => Promise<unknown>): Promise<number[]> {
  const tries: number[] = [];
  for (let i = 0; i < passes; i++) {
    clock += stepMs;
    const before = (await stopOperations(name, action)).length;
    await pass();
    const ops = await stopOperations(name, action);
    if (ops.length === before) continue;
    assert.equal(ops.length, before + 1, 'one pass makes at most one stop');
    tries.push(clock);
    await waitForWs(srv, name, (w) => w.last_operation?.action === action && w.last_operation.state === 'failed' && w.desired_state === 'running', 'the stop to be postponed');
  }
  return tries;
}

/** The gaps between tries grow: each wait is longer than the one before. */
function assertGrowing(tries: number[]): void {
  const gaps = tries.slice(1).map((at, i) => at - tries[i]);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] > gaps[i - 1], `gaps between tries (ms): ${gaps.join(', ')}`);
}

describe('postponed automatic stops back off', () => {
  test('idle stops: 40 passes 15 s apart make a few tries at growing intervals; activity starts the backoff over', async () => {
    const name = 'sr-idle';
    await create(name, { pre_stop: FAILING_PRE_STOP, termination_policy: { enable_auto_termination: true, max_idle_seconds: 60 } });
    clock = Date.now() + 3_600_000; // an hour later: long idle
    const pass = async () => {
      await srv.server.culler.pass();
      await srv.server.culler.settled();
    };
    const tries = await drive(name, 'auto_stop', 40, 15_000, pass);
    // Ten minutes of passes: tries after about 0, 1, 3 and 7 minutes (the delay doubles from a minute), not 40.
    assert.ok(tries.length >= 3 && tries.length <= 5, `tries at ${tries.map((t) => new Date(t).toISOString()).join(', ')}`);
    assertGrowing(tries);
    assert.ok(tries[1] - tries[0] >= 45_000, 'the first retry waits about a minute');
    assert.equal(await auditCount(name, 'auto_stop', 'ok'), tries.length);
    assert.equal(await auditCount(name, 'pre_stop', 'error'), tries.length);

    // The workspace says when the next try comes, and which try the last was.
    const ws = await getWs(srv, name);
    const retry = ws.activity.last_auto_stop.retry;
    assert.equal(retry.attempt, tries.length);
    assert.ok(Date.parse(retry.next_retry_at) > clock, JSON.stringify(retry));
    const c = condition(ws, 'PreStopFailed');
    assert.equal(c?.reason, 'StopPostponed', JSON.stringify(ws.conditions));
    assert.ok(c.message.includes(`the idle check tries again at ${retry.next_retry_at}, after try ${tries.length}`), c.message);

    // New activity ends the row: once idle again, the next pass tries at once.
    const beat = await srv.request('POST', `/api/workspaces/${name}/activity`);
    assert.equal(beat.status, 200, JSON.stringify(beat.body));
    clock += 15_000; // the heartbeat (real time) is an hour old on the test's clock: idle again, before the next try was due
    assert.ok(clock < Date.parse(retry.next_retry_at));
    const again = await drive(name, 'auto_stop', 1, 0, pass);
    assert.equal(again.length, 1, 'activity starts the backoff over');
    assert.equal((await getWs(srv, name)).activity.last_auto_stop.retry.attempt, 1);
  });

  test('scheduled stops: passes 20 s apart retry the owed stop at growing intervals', async () => {
    const name = 'sr-schedule';
    const cron = parseCron('0 19 * * *');
    assert.ok(!('error' in cron));
    await create(name, { pre_stop: FAILING_PRE_STOP, schedule: { autostop: '0 19 * * *', timezone: 'UTC' } });
    clock = Date.now();
    await srv.server.scheduler.pass(); // the schedule begins now
    clock = nextFire(cron, 'UTC', clock)! - 20_000; // the first pass below is at 19:00
    const tries = await drive(name, 'scheduled_stop', 30, 20_000, () => srv.server.scheduler.pass());
    assert.ok(tries.length >= 3 && tries.length <= 5, `tries at ${tries.map((t) => new Date(t).toISOString()).join(', ')}`);
    assertGrowing(tries);
    assert.equal(await auditCount(name, 'pre_stop', 'error'), tries.length);
    const c = condition(await getWs(srv, name), 'PreStopFailed');
    assert.match(c?.message ?? '', new RegExp(`the schedule tries again at \\S+Z, after try ${tries.length}\\)`));
  });
});
