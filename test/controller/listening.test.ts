// How soon a running workspace whose port is closed is looked at again: within a second after a
// start, less often the longer it stays closed, never when nothing waits for a port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listeningProbeDelay } from '../../src/controller/listening.js';
import type { ObservedState } from '../../src/core/types.js';

const T0 = Date.parse('2026-12-07T12:00:00Z');
const state = (status: ObservedState['status'], listening?: 'True' | 'False'): ObservedState => ({
  status,
  observed_generation: 1,
  conditions: listening ? [{ type: 'Listening', status: listening, reason: 'x', last_transition_time: new Date(T0).toISOString() }] : [],
  updated_at: '',
});

test('closed: 1 s at first, growing with the time closed, at most a minute; open or not running: no look', () => {
  assert.equal(listeningProbeDelay(state('RUNNING', 'False'), T0), 1_000);
  assert.equal(listeningProbeDelay(state('RUNNING', 'False'), T0 + 9_000), 1_000);
  assert.equal(listeningProbeDelay(state('RUNNING', 'False'), T0 + 120_000), 12_000);
  assert.equal(listeningProbeDelay(state('RUNNING', 'False'), T0 + 3_600_000), 60_000);
  assert.equal(listeningProbeDelay(state('RUNNING', 'True'), T0), undefined);
  assert.equal(listeningProbeDelay(state('RUNNING'), T0), undefined);
  assert.equal(listeningProbeDelay(state('STOPPED', 'False'), T0), undefined);
});
