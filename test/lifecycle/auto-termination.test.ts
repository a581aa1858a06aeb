// Auto-termination end to end on the local runtime: a real server with a one-second culler period,
// real workspace processes answering Mage's activity probe.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, request, startTestServer, type TestServer } from '../support/server.js';
import { getWs, localHome, serverConfig, setStatus, sleep, waitForWs } from './helpers.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer({ env: { WSM_CULLER_PERIOD_SECONDS: '1' } });
});
after(async () => {
  await srv?.close();
});

async function create(name: string, policy: { enable_auto_termination: boolean; max_idle_seconds: number }) {
  const res = await srv.request('POST', '/api/workspaces', {
    body: { workspace: { name, container_config: serverConfig(), lifecycle_config: { termination_policy: policy } } },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return waitForWs(srv, name, (ws) => ws.instance.status === 'RUNNING', 'RUNNING');
}

/**
 * One whole pass of the server's culler, begun now, and any check an earlier pass still runs: when it
 * resolves, every workspace that was due has been decided on. A workspace still running then was
 * looked at and kept, not merely not reached yet.
 */
async function cullerPass(): Promise<void> {
  await srv.server.culler.pass();
  await srv.server.culler.settled();
}

/**
 * Waits for the culler (a pass every second) to look at `name` and keep it for the reason `why`, and
 * returns that decision. A stop instead fails at once: the test then shows what it was stopped for.
 */
async function keptFor(name: string, why: RegExp, afterMs = 0) {
  return eventually(async () => {
    const decided = srv.server.culler.lastDecision(name);
    if (decided?.stopped) assert.fail(`${name} was stopped (${decided.reason}); expected it kept for ${why}`);
    return decided && decided.at > afterMs && why.test(decided.reason) && decided;
  }, 20_000, `the culler to keep ${name} for ${why}`);
}

const stopped = (ws: any) => ws.desired_state === 'stopped' && ws.instance.status === 'STOPPED';

/** Keeps calling `beat` every 300 ms until the returned function is called. */
function keepBeating(beat: () => Promise<unknown>): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    while (on) {
      await beat();
      await sleep(300);
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

describe('auto-termination', () => {
  test('an idle workspace is stopped after its limit, by auto-termination, with the figures it decided on', async () => {
    await create('idle-one', { enable_auto_termination: true, max_idle_seconds: 2 });
    // No status.json: the probe gets a 404, which is reported but is not activity.
    const before = await getWs(srv, 'idle-one');
    assert.equal(before.activity.last_activity_source, 'api');
    assert.ok(before.activity.stops_at, 'the pending stop time is shown');
    assert.ok(Date.parse(before.activity.stops_at) >= Date.parse(before.activity.last_activity_at) + 2000);

    const ws = await waitForWs(srv, 'idle-one', stopped, 'stopped for idleness');
    assert.equal(ws.last_operation.actor, 'auto-termination');
    assert.equal(ws.last_operation.action, 'auto_stop');
    assert.equal(ws.last_operation.target_state, 'stopped');
    const figures = ws.activity.last_auto_stop;
    assert.equal(figures.max_idle_seconds, 2);
    assert.ok(figures.idle_seconds >= 2, JSON.stringify(figures));
    assert.ok(Date.parse(figures.decided_at) - Date.parse(figures.last_activity_at) > 2000, JSON.stringify(figures));
    assert.match(figures.probe.error, /404/);
    assert.match(ws.activity.probe_error, /HTTP 404/);
    assert.equal(ws.activity.stops_at, null, 'a stopped workspace has no pending stop');

    const audit = await srv.request('GET', '/api/audit?workspace=idle-one');
    const event = audit.body.events.find((e: any) => e.action === 'auto_stop');
    assert.ok(event, JSON.stringify(audit.body.events));
    assert.equal(event.actor, 'auto-termination');
    assert.match(event.detail, /max_idle_seconds/);
  });

  test('a workspace without auto-termination keeps running, and reads (GET) are not activity', async () => {
    await create('never-idle', { enable_auto_termination: false, max_idle_seconds: 1 });
    const first = await getWs(srv, 'never-idle');
    assert.equal(first.activity.stops_at, null);
    await waitForWs(srv, 'never-idle', (ws) => ws.activity.idle_seconds >= 2, 'idle past its limit');
    await cullerPass();
    const later = await getWs(srv, 'never-idle');
    assert.equal(later.instance.status, 'RUNNING');
    assert.equal(srv.server.culler.lastDecision('never-idle'), undefined, 'with auto-termination off it is never a candidate');
    assert.equal(later.activity.last_activity_at, first.activity.last_activity_at, 'GETs did not count as activity');
    assert.ok(later.activity.idle_seconds >= 2);
  });

  test('heartbeats keep a workspace alive; they need editor on that workspace', async () => {
    await create('beating', { enable_auto_termination: true, max_idle_seconds: 2 });
    await create('other-ws', { enable_auto_termination: false, max_idle_seconds: 0 });
    const editor = await srv.token('editor', { workspace: 'beating' });
    const viewer = await srv.token('viewer', { workspace: 'beating' });
    const elsewhere = await srv.token('editor', { workspace: 'other-ws' });
    const beat = (token: string, name = 'beating') => request(srv.url, 'POST', `/api/workspaces/${name}/activity`, { token });

    assert.equal((await beat(viewer)).status, 403);
    assert.equal((await beat(elsewhere)).status, 403);
    assert.equal((await beat(editor, 'no-such-ws')).status, 403);
    assert.equal((await srv.request('POST', '/api/workspaces/no-such-ws/activity')).status, 404);
    const first = await beat(editor);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.activity.last_activity_source, 'heartbeat');
    assert.ok(first.body.activity.stops_at);

    const firstBeatAt = Date.now();
    const stop = keepBeating(() => beat(editor));
    // Past its limit since the first beat, the culler looks at it and keeps it for the beats since.
    const kept = await keptFor('beating', /last activity \(heartbeat\) \d+ s ago, within max_idle_seconds 2/, firstBeatAt + 2_000);
    const alive = await getWs(srv, 'beating');
    await stop();
    assert.ok(kept.at > firstBeatAt + 2_000);
    assert.equal(alive.instance.status, 'RUNNING');
    assert.equal(alive.desired_state, 'running');
    assert.equal(alive.activity.last_activity_source, 'heartbeat');
    const ws = await waitForWs(srv, 'beating', stopped, 'stopped once heartbeats end');
    assert.equal(ws.activity.last_auto_stop.last_activity_source, 'heartbeat');
  });

  test('the probe reporting recent user requests keeps it alive; old ones do not', async () => {
    const home = localHome(srv, 'probed');
    await setStatus(home, { last_user_request: 'NOW' });
    await create('probed', { enable_auto_termination: true, max_idle_seconds: 2 });
    // The culler asks the workspace only once it is due, and keeps it for what the probe said.
    await keptFor('probed', /last activity \(probe\)/);
    const alive = await getWs(srv, 'probed');
    assert.equal(alive.desired_state, 'running');
    assert.equal(alive.instance.status, 'RUNNING');
    assert.equal(alive.activity.last_activity_source, 'probe');
    assert.equal(alive.activity.probe_error, null);
    await setStatus(home, { last_user_request: '2020-01-01T00:00:00' });
    const ws = await waitForWs(srv, 'probed', stopped, 'stopped once the user requests are old');
    assert.equal(ws.activity.last_auto_stop.probe.active_pipeline_run_count, 0);
  });

  test('a running pipeline keeps it alive whatever the times say', async () => {
    const home = localHome(srv, 'pipeline');
    await setStatus(home, { last_user_request: '2020-01-01T00:00:00Z', active_pipeline_run_count: 1 });
    await create('pipeline', { enable_auto_termination: true, max_idle_seconds: 1 });
    await keptFor('pipeline', /busy: 1 pipeline run\(s\) active/);
    const alive = await getWs(srv, 'pipeline');
    assert.equal(alive.desired_state, 'running');
    assert.equal(alive.instance.status, 'RUNNING');
    assert.equal(alive.activity.last_activity_source, 'probe');
    await setStatus(home, { last_user_request: '2020-01-01T00:00:00Z', active_pipeline_run_count: 0 });
    await waitForWs(srv, 'pipeline', stopped, 'stopped once the pipeline ended');
  });

  test('a failing probe is reported, is not activity, and does not keep others from being stopped', async () => {
    await setStatus(localHome(srv, 'broken-probe'), 'fail');
    await create('broken-probe', { enable_auto_termination: true, max_idle_seconds: 1 });
    await create('quiet', { enable_auto_termination: true, max_idle_seconds: 1 });
    const broken = await waitForWs(srv, 'broken-probe', stopped, 'stopped although its probe fails');
    assert.match(broken.activity.probe_error, /HTTP 500/);
    await waitForWs(srv, 'quiet', stopped, 'the other one stopped as well');
  });

  test('CPU use above the threshold keeps a workspace alive, recorded with source cpu', async () => {
    const res = await srv.request('POST', '/api/workspaces', {
      body: {
        workspace: {
          name: 'cpu-busy',
          container_config: 'command: ["/bin/sh", "-c", "while :; do :; done"]',
          lifecycle_config: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 2 } },
        },
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await waitForWs(srv, 'cpu-busy', (ws) => ws.activity.last_activity_source === 'cpu', 'activity from CPU use', 30_000);
    const busyAt = Date.now();
    // Past its limit since that activity, the culler still keeps it: each pass sees the CPU used since the previous one.
    await keptFor('cpu-busy', /cpu/, busyAt + 2_000);
    const later = await getWs(srv, 'cpu-busy');
    assert.equal(later.desired_state, 'running');
    assert.equal(later.instance.status, 'RUNNING');
    assert.notEqual(later.last_operation.action, 'auto_stop');
    assert.equal((await srv.request('PUT', '/api/workspaces/cpu-busy', { body: { workspace: { action: 'stop' } } })).status, 200);
  });

  test('changing the policy with patch takes effect at once', async () => {
    await create('policy', { enable_auto_termination: false, max_idle_seconds: 1 });
    const patch = (termination_policy: Record<string, unknown>) =>
      srv.request('PUT', '/api/workspaces/policy', { body: { workspace: { action: 'patch', lifecycle_config: { termination_policy } } } });

    const longer = await patch({ enable_auto_termination: true, max_idle_seconds: 3600 });
    assert.equal(longer.status, 200, JSON.stringify(longer.body));
    const ws1 = await getWs(srv, 'policy');
    assert.ok(Date.parse(ws1.activity.stops_at) > Date.now() + 3_000_000, 'stops_at follows the new limit');

    const shorter = await patch({ max_idle_seconds: 2 });
    assert.equal(shorter.status, 200);
    const ws2 = await getWs(srv, 'policy');
    assert.ok(Date.parse(ws2.activity.stops_at) < Date.now() + 5_000, 'stops_at recomputed at once');

    const off = await patch({ enable_auto_termination: false });
    const offAt = Date.now();
    assert.equal(off.status, 200);
    assert.equal((await getWs(srv, 'policy')).activity.stops_at, null, 'turning it off cancels the pending stop');
    await waitForWs(srv, 'policy', (ws) => ws.activity.idle_seconds >= 2, 'idle past the limit it had');
    await cullerPass();
    const kept = await getWs(srv, 'policy');
    assert.equal(kept.instance.status, 'RUNNING');
    assert.ok(Date.parse(kept.activity.last_activity_at) <= offAt, 'nothing but the policy kept it');

    await patch({ enable_auto_termination: true, max_idle_seconds: 1 });
    await waitForWs(srv, 'policy', stopped, 'stopped after turning it on again');
  });
});
