// One condition per type, always: the merge every observed state goes through, and the statuses
// every runtime reports (Docker's own Ready among them) turned into observed states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type Docker from 'dockerode';
import { mergeConditions, observedFromError, observedFromInstance } from '../../src/controller/observed.js';
import { toObserved } from '../../src/runtimes/docker/observe.js';
import type { Condition, ObservedState } from '../../src/core/types.js';
import type { RuntimeWorkspace } from '../../src/core/runtime.js';

const types = fc.constantFrom('Ready', 'Reconciled', 'Listening', 'PreStartFailed', 'ContainersReady', 'PostStart');
const plain = fc.record({
  type: types,
  status: fc.constantFrom('True' as const, 'False' as const, 'Unknown' as const),
  reason: fc.option(fc.constantFrom('Running', 'Stopped', 'Exited', 'Failed', 'CrashLoopBackOff'), { nil: undefined }),
  message: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
});
const stamped = plain.map((c) => ({ ...c, last_transition_time: '2026-01-01T00:00:00.000Z' }) as Condition);

function assertUnique(conditions: { type: string }[], where: string): void {
  const seen = conditions.map((c) => c.type);
  assert.equal(new Set(seen).size, seen.length, `${where}: ${JSON.stringify(seen)}`);
}

test('mergeConditions: one per type, the last word of each type, its time kept while status and reason stay', () => {
  const now = '2026-12-07T00:00:00.000Z';
  fc.assert(fc.property(fc.array(stamped, { maxLength: 8 }), fc.array(plain, { maxLength: 12 }), (previous, next) => {
    const out = mergeConditions(previous, next, now);
    assertUnique(out, 'merged');
    assert.deepEqual(out.map((c) => c.type), [...new Set(next.map((c) => c.type))]);
    for (const c of out) {
      const last = next.filter((n) => n.type === c.type).at(-1)!;
      assert.equal(c.status, last.status);
      assert.equal(c.reason, last.reason);
      const before = previous.find((p) => p.type === c.type);
      const kept = before && before.status === c.status && before.reason === c.reason;
      assert.equal(c.last_transition_time, kept ? before.last_transition_time : now);
    }
  }));
});

const ws: RuntimeWorkspace = {
  name: 'w1', generation: 3, desired: 'running', container: {}, image: 'busybox', env: [],
  lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 3600 } },
  storage: { access_mode: 'ReadWriteOnce', request_size: '1Gi', retention_policy: 'Retain', mount_path: '/home/src' },
  ingress: { enabled: false }, hooks: {},
};

function inspectInfo(status: string, extra: Record<string, unknown> = {}): Docker.ContainerInspectInfo {
  return {
    Name: '/wsm-w1',
    Config: { Labels: {} },
    State: { Status: status, ExitCode: 137, OOMKilled: false, FinishedAt: '2026-12-07T10:00:00Z', ...extra },
    NetworkSettings: { Ports: {} },
  } as unknown as Docker.ContainerInspectInfo;
}

test('every Docker state, desired running or stopped, through every earlier state: one Ready, one of each type', () => {
  const states = ['running', 'restarting', 'exited', 'dead', 'created', 'removing', 'paused'];
  const base: ObservedState = { status: 'PENDING', observed_generation: 0, conditions: [], updated_at: '' };
  let previous = base;
  let n = 0;
  for (const desired of ['running', 'stopped'] as const) {
    for (const first of states) {
      for (const second of [...states, 'error']) {
        for (const state of [first, second]) {
          const now = new Date(Date.UTC(2026, 11, 7, 0, 0, n++)).toISOString();
          previous =
            state === 'error'
              ? observedFromError(previous, new Error('engine gone'), 'RuntimeError', 'UNAVAILABLE', now)
              : observedFromInstance(previous, toObserved(inspectInfo(state, { OOMKilled: n % 3 === 0 }), { ...ws, desired }, { advertiseAddress: '127.0.0.1', currentHash: 'h' }), desired, 3, now);
          assertUnique(previous.conditions, `${desired} ${first}→${state}`);
          const ready = previous.conditions.find((c) => c.type === 'Ready');
          assert.ok(ready, 'always a Ready');
        }
      }
    }
  }
});

test("a stopped workspace's Ready is True/Stopped, not also False/Stopped (the runtime's own Ready is folded in)", () => {
  const stopped = observedFromInstance(
    { status: 'RUNNING', observed_generation: 3, conditions: [], updated_at: '' },
    toObserved(inspectInfo('exited'), { ...ws, desired: 'stopped' }, { advertiseAddress: '127.0.0.1', currentHash: 'h' }),
    'stopped', 3, '2026-12-07T00:00:00.000Z',
  );
  assert.deepEqual(stopped.conditions.filter((c) => c.type === 'Ready').map((c) => [c.status, c.reason]), [['True', 'Stopped']]);
  const killed = observedFromInstance(
    { status: 'RUNNING', observed_generation: 3, conditions: [], updated_at: '' },
    toObserved(inspectInfo('exited'), ws, { advertiseAddress: '127.0.0.1', currentHash: 'h' }),
    'running', 3, '2026-12-07T00:00:00.000Z',
  );
  assert.deepEqual(killed.conditions.filter((c) => c.type === 'Ready').map((c) => [c.status, c.reason, c.message]), [['False', 'Killed', 'exited with code 137 (SIGKILL)']]);
});
