// Why a start missed its deadline, from what the engine says: each reason, and a refused pod named as
// such even when the refusal's words (a quota on memory, a policy on images) read like another reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overdueStart } from '../../src/controller/start-deadline.js';
import type { ObservedInstance } from '../../src/core/runtime.js';
import type { Condition, ObservedState, OperationRecord } from '../../src/core/types.js';

const startedAt = '2026-12-08T08:00:00.000Z';
const op: OperationRecord = {
  id: 'op-1', workspace: 'ws', action: 'create', actor: 'admin', request: {}, state: 'running',
  target_generation: 1, target_state: 'running', attempts: 1, created_at: startedAt, started_at: startedAt,
};
const previous: ObservedState = { status: 'PENDING', observed_generation: 1, conditions: [], updated_at: startedAt };
const at = (seconds: number) => Date.parse(startedAt) + seconds * 1000;

function reasonFor(message: string, conditions: Condition[]): string | undefined {
  const instance: ObservedInstance = { status: 'PENDING', message, conditions };
  return overdueStart({ start_timeout_seconds: 60 }, [op], instance, previous, at(61))?.reason;
}

const condition = (reason: string, message: string): Condition => ({ type: 'X', status: 'False', reason, message, last_transition_time: startedAt });

test('not before the deadline', () => {
  const instance: ObservedInstance = { status: 'PENDING', message: 'waiting', conditions: [] };
  assert.equal(overdueStart({ start_timeout_seconds: 60 }, [op], instance, previous, at(59)), undefined);
});

test('each reason from what the engine says', () => {
  assert.equal(reasonFor('ImagePullBackOff: Back-off pulling image "x"', [condition('ImagePullBackOff', 'Back-off pulling image "x"')]), 'ImagePull');
  assert.equal(reasonFor('Unschedulable: 0/3 nodes are available: 3 Insufficient memory.', [condition('Unschedulable', '0/3 nodes are available: 3 Insufficient memory.')]), 'Unschedulable');
  assert.equal(reasonFor('pod ws-0 is pending', []), 'NotReady');
});

test('a pod the controller may not create is PodNotCreated, whatever its refusal mentions', () => {
  const refusal = 'create Pod ws-0 in StatefulSet ws failed error: pods "ws-0" is forbidden: exceeded quota: mem, requested: limits.memory=4Gi, used: limits.memory=0, limited: limits.memory=1Gi (image policy: insufficient)';
  const overdue = overdueStart({ start_timeout_seconds: 60 }, [op], { status: 'PENDING', message: `the pod cannot be created: ${refusal}`, conditions: [{ ...condition('FailedCreate', refusal), type: 'PodCreated' }] }, previous, at(61));
  assert.equal(overdue?.reason, 'PodNotCreated');
  assert.match(overdue!.message, /^PodNotCreated: not ready within start_timeout_seconds \(60 s\): the pod cannot be created: create Pod ws-0/);
});
