// The restart policy inside a reconcile, against a scripted engine: who is started again, what is
// counted, what waits, and what is left alone (desired stopped, a fatal post-start, the kubelet's job).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { applyRestartPolicy, type RestartContext } from '../../src/controller/restarts.js';
import type { ObservedInstance, Runtime, RuntimeWorkspace } from '../../src/core/runtime.js';
import type { WorkspaceRecord } from '../../src/core/types.js';
import { workspace } from '../store/fixtures.js';

const logger = pino({ level: 'silent' });

function engine(): Runtime & { applied: string[] } {
  const applied: string[] = [];
  return {
    clusterType: 'docker', supportsIngress: false, applied,
    async apply(ws: RuntimeWorkspace) { applied.push(ws.desired); return { status: ws.desired === 'running' ? 'RUNNING' : 'STOPPED' }; },
    async observe() { return { status: 'RUNNING' }; },
    async remove() {},
    async close() {},
  } as Runtime & { applied: string[] };
}

function ctx(runtime: Runtime, extra: Partial<RestartContext> = {}): RestartContext {
  return { runtime, rws: { name: 'w', desired: 'running' } as RuntimeWorkspace, timing: { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 }, logger, signal: new AbortController().signal, actionApplied: false, ...extra };
}

const missing: ObservedInstance = { status: 'UNAVAILABLE', message: 'container wsm-w not found' };

/** The workspace as the store would hold it after this pass. */
function after(ws: WorkspaceRecord, out: Awaited<ReturnType<typeof applyRestartPolicy>>): WorkspaceRecord {
  return { ...ws, observed: { ...ws.observed, status: out.instance.status, restarts: out.restarts, last_termination: out.last_termination } };
}

test('removed, recreated, removed again: the first restart is immediate, the second waits its backoff and says so', async () => {
  const rt = engine();
  let ws = workspace('w');
  const first = await applyRestartPolicy(ws, missing, ctx(rt));
  assert.deepEqual(rt.applied, ['running']);
  assert.equal(first.restarts.count, 1);
  assert.equal(first.last_termination?.reason, 'Missing');
  ws = after(ws, first);
  const second = await applyRestartPolicy(ws, missing, ctx(rt));
  assert.deepEqual(rt.applied, ['running'], 'not restarted during the backoff');
  assert.ok(second.requeueAfterMs! > 8_000 && second.requeueAfterMs! <= 11_000, String(second.requeueAfterMs));
  assert.equal(second.instance.status, 'FAILED');
  assert.equal(second.instance.conditions?.find((c) => c.type === 'Ready')?.reason, 'CrashLoopBackOff');
  ws = after(ws, second);
  const third = await applyRestartPolicy(ws, missing, ctx(rt));
  assert.equal(third.restarts.next_retry_at, second.restarts.next_retry_at, 'looking again keeps the same wait');
  assert.equal(third.restarts.count, 1);
});

test('desired stopped, a fatal post-start, or an engine that restarts by itself: wsm starts nothing', async () => {
  const rt = engine();
  await applyRestartPolicy(workspace('w', { desired_state: 'stopped' }), { status: 'STOPPED' }, ctx(rt));
  const held = workspace('w');
  held.observed = { ...held.observed, conditions: [{ type: 'PostStartFailed', status: 'True', reason: 'WorkspaceFailed', last_transition_time: '' }] };
  await applyRestartPolicy(held, { status: 'FAILED' }, ctx(rt));
  const kube = await applyRestartPolicy(workspace('w'), { status: 'FAILED', engine_restarts: { instance_id: 'pod-1', count: 5, next_retry_at: '2030-01-01T00:00:00.000Z' }, termination: { reason: 'Exited', exit_code: 1, oom_killed: false, finished_at: '2029-12-31T23:59:00.000Z' } }, ctx(rt));
  assert.deepEqual(rt.applied, []);
  assert.equal(kube.restarts.count, 5);
  assert.equal(kube.restarts.next_retry_at, '2030-01-01T00:00:00.000Z');
});

test('never on an engine that restarts by itself: scaled down once per end, FAILED with the reason', async () => {
  const rt = engine();
  const ws = workspace('w', { spec: { ...workspace('w').spec, container: { restart_policy: 'never' } } });
  const seen: ObservedInstance = { status: 'RUNNING', engine_restarts: { instance_id: 'pod-1', count: 1 }, termination: { reason: 'Exited', exit_code: 2, oom_killed: false, finished_at: '2026-12-07T00:00:00.000Z' } };
  const out = await applyRestartPolicy(ws, seen, ctx(rt));
  assert.deepEqual(rt.applied, ['stopped']);
  assert.equal(out.instance.status, 'FAILED');
  assert.equal(out.instance.message, 'exited with code 2; not restarted (restart_policy never)');
  await applyRestartPolicy(after(ws, out), seen, ctx(rt));
  assert.deepEqual(rt.applied, ['stopped'], 'the same end is acted on once');
});
