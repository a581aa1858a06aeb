// The culler against a real (SQLite) store and real HTTP probes; the stop itself is recorded by a
// stand-in so the test sees exactly which workspaces a pass decided to stop and when.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActivityRecorder } from '../../src/controller/activity.js';
import { Culler, USAGE_LOOKAHEAD_MAX_MS } from '../../src/controller/culler.js';
import { DEFAULT_PROBE } from '../../src/controller/probe.js';
import { PRE_STOP_FAILED, STOP_POSTPONED } from '../../src/controller/pre-stop.js';
import { DEFAULT_STORAGE } from '../../src/core/defaults.js';
import type { WorkspaceRecord } from '../../src/core/types.js';
import { openStore, type Store } from '../../src/store/index.js';

const quiet = { info() {}, warn() {}, error() {} };
let store: Store;
let dataDir: string;
const servers: http.Server[] = [];
const ports = new Map<string, number>();
const hits = new Map<string, number>();
let releaseSlow: () => void = () => {};

function record(name: string, lastActivity: string): WorkspaceRecord {
  const now = new Date().toISOString();
  return {
    name,
    uid: `uid-${name}`,
    cluster_type: 'local',
    project_uuid: name,
    spec: {
      container: {},
      lifecycle: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 10 } },
      storage: DEFAULT_STORAGE,
      ingress: { enabled: false },
      inherited_env: [],
    },
    desired_state: 'running',
    generation: 1,
    resource_version: 1,
    observed: { status: 'RUNNING', observed_generation: 1, ip: `127.0.0.1:${ports.get(name)}`, conditions: [], updated_at: now },
    activity: { last_activity_at: lastActivity, last_activity_source: 'api' },
    created_at: now,
    updated_at: now,
  };
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wsm-culler-'));
  store = await openStore({ dataDir });
  await store.migrate();
  // One probe server per workspace, so the test sees who is asked; 'slow' answers only when released.
  for (const name of ['slow', 'idle', 'busy']) {
    const server = http.createServer((_req, res) => {
      hits.set(name, (hits.get(name) ?? 0) + 1);
      if (name === 'slow') {
        releaseSlow = () => res.end('{}');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ statuses: [{ last_user_request: null, active_pipeline_run_count: 0 }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    ports.set(name, (server.address() as AddressInfo).port);
  }
});
after(async () => {
  releaseSlow();
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('culler pass', () => {
  test('asks only workspaces that could be idle, and a slow one delays no other', async () => {
    const long_ago = new Date(Date.now() - 3_600_000).toISOString();
    const just_now = new Date().toISOString();
    for (const ws of [record('slow', long_ago), record('idle', long_ago), record('busy', just_now)]) {
      await store.insertWorkspace(ws);
      await store.setObserved(ws.name, ws.observed);
    }
    const stops: string[] = [];
    const stopper = {
      async autoStop(name: string, confirm: (ws: WorkspaceRecord) => Record<string, unknown> | undefined) {
        const ws = await store.getWorkspace(name);
        if (ws && confirm(ws)) {
          stops.push(name);
          await store.replaceWorkspace({ ...ws, desired_state: 'stopped', resource_version: ws.resource_version + 1 }, ws.resource_version);
          return { id: `stop-${name}` }; // as the real one, the operation of the stop
        }
        return undefined;
      },
    };
    const probes = new Map([['local' as const, { ...DEFAULT_PROBE, timeoutMs: 60_000 }]]);
    const culler = new Culler(store, stopper, new ActivityRecorder(store, quiet), quiet, { periodMs: 1000, probes, concurrency: 4 });
    const first = culler.pass();
    // 'idle' is decided on (stopped) while 'slow' still waits for its probe.
    for (const until = Date.now() + 5_000; !culler.lastDecision('idle') && Date.now() < until; ) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(culler.lastDecision('idle') && { ...culler.lastDecision('idle'), at: 0 }, { at: 0, stopped: true, reason: 'idle past max_idle_seconds' });
    assert.equal(culler.lastDecision('slow'), undefined, 'slow is still being checked');
    assert.deepEqual(stops, ['idle']);
    assert.equal(hits.get('busy'), undefined, 'a workspace active just now is not asked');
    assert.equal(hits.get('slow'), 1);

    // A second pass while the slow check runs does not ask it again.
    const second = await culler.pass();
    assert.equal(second.running, 3);
    assert.equal(hits.get('slow'), 1);
    // settled() waits for the check the second pass skipped: once it resolves, 'slow' is decided on.
    const settled = culler.settled().then(() => [...stops]);
    releaseSlow();
    assert.deepEqual((await settled).sort(), ['idle', 'slow']);
    assert.equal(culler.lastDecision('slow')?.stopped, true);
    const summary = await first;
    assert.equal(summary.running, 3);
    assert.equal(summary.checked, 2);
    assert.deepEqual(stops.sort(), ['idle', 'slow']);
  });

  test('usage is sampled ahead only for workspaces due within the bounded look-ahead, however long the period', async () => {
    const sampled: string[] = [];
    const idleFor = (ms: number) => new Date(Date.now() - ms).toISOString();
    // max_idle_seconds is 10: 'soon' is due in a minute, 'later' in an hour (its activity is in the future).
    const soon = { ...record('soon', idleFor(10_000 - 60_000)), observed: { status: 'RUNNING' as const, observed_generation: 1, conditions: [], updated_at: idleFor(0) } };
    const later = { ...record('later', idleFor(10_000 - 3_600_000)), observed: soon.observed };
    for (const ws of [soon, later]) {
      await store.insertWorkspace(ws);
      await store.setObserved(ws.name, ws.observed);
    }
    const stopper = { autoStop: async () => undefined };
    const culler = new Culler(store, stopper, new ActivityRecorder(store, quiet), quiet, {
      periodMs: 86_400_000,
      probes: new Map(),
      concurrency: 4,
      usageFor: async (ws) => {
        sampled.push(ws.name);
        return undefined;
      },
    });
    assert.ok(USAGE_LOOKAHEAD_MAX_MS < 3_600_000);
    await culler.pass();
    assert.deepEqual(sampled.filter((n) => n === 'soon' || n === 'later'), ['soon']);
  });

  test("usage across an automatic stop try is the pre-stop's, not activity; usage after it is activity again", async () => {
    const idleSince = new Date(Date.now() - 3_600_000).toISOString();
    const base = record('saving', idleSince);
    const ws = { ...base, spec: { ...base.spec, lifecycle: { ...base.spec.lifecycle, pre_stop: { command: ['save-notebooks'] } } } };
    await store.insertWorkspace(ws);
    await store.setObserved(ws.name, ws.observed);
    // The stand-in postpones every stop as a failing pre-stop does: the try is kept, the condition set, the workspace runs on.
    const tries: string[] = [];
    const stopper = {
      async autoStop(name: string, confirm: (ws: WorkspaceRecord) => Record<string, unknown> | undefined) {
        const current = (await store.getWorkspace(name))!;
        const figures = confirm(current);
        if (!figures) return undefined;
        tries.push(name);
        await store.setActivity(name, { ...current.activity, stop_retry: figures.retry as WorkspaceRecord['activity']['stop_retry'] });
        const at = new Date().toISOString();
        await store.setObserved(name, { ...current.observed, conditions: [{ type: PRE_STOP_FAILED, status: 'True', reason: STOP_POSTPONED, last_transition_time: at }] });
        return { id: `stop-${name}` };
      },
    };
    let cpuSeconds = 0;
    const culler = new Culler(store, stopper, new ActivityRecorder(store, quiet), quiet, {
      periodMs: 1000,
      probes: new Map(),
      concurrency: 4,
      usageFor: async (w) => (w.name === 'saving' ? { at: Date.now(), cpu_seconds: cpuSeconds } : undefined),
    });
    const pass = async () => {
      await new Promise((r) => setTimeout(r, 10)); // samples some milliseconds apart
      await culler.pass();
      await culler.settled();
    };
    await pass();
    assert.deepEqual(tries, ['saving'], 'the first pass tries the stop');
    cpuSeconds += 5; // the pre-stop's work, inside the workspace
    await pass();
    const after = (await store.getWorkspace('saving'))!;
    assert.equal(after.activity.last_activity_at, idleSince, "the pre-stop's CPU did not restart the idle clock");
    assert.doesNotMatch(culler.lastDecision('saving')!.reason, /busy/);
    assert.deepEqual(tries, ['saving'], 'the next try waits for its backoff');
    cpuSeconds += 5; // the user's work, with no stop tried in between
    await pass();
    const busy = (await store.getWorkspace('saving'))!.activity;
    assert.equal(busy.last_activity_source, 'cpu', 'use while the stop waits for its next try is activity');
    assert.ok(Date.parse(busy.last_activity_at!) > Date.now() - 60_000, 'the idle clock restarted');
  });
});
