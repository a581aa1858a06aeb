// The backoff of postponed automatic stops, decided from the workspace record alone: a row continues
// only while the StopPostponed condition stands and its key (kind, what made the stop due, pre_stop)
// is the same; its waits double from a minute up to 30 minutes, jittered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkspaceRecord } from '../../src/core/types.js';
import { STOP_RETRY_BACKOFF, stopRetryKey, stopRetryNotBefore, stopTry } from '../../src/controller/stop-retry.js';
import { workspace } from '../store/fixtures.js';

const NOW = Date.parse('2026-01-05T10:00:00.000Z');
const middle = () => 0.5; // no jitter
const postponed = { type: 'PreStopFailed', status: 'True' as const, reason: 'StopPostponed', message: 'm', last_transition_time: '2026-01-05T09:00:00.000Z' };

function withPreStop(command: string[], conditions = [postponed]): WorkspaceRecord {
  const ws = workspace('w');
  return { ...ws, spec: { ...ws.spec, lifecycle: { ...ws.spec.lifecycle, pre_stop: { command } } }, observed: { ...ws.observed, status: 'RUNNING', conditions } };
}

/** The workspace after a try: its row as the action stores it. */
const afterTry = (ws: WorkspaceRecord, key: string, at: number): WorkspaceRecord => ({ ...ws, activity: { ...ws.activity, stop_retry: stopTry(ws, key, at, middle) } });

test('tries in a row wait 1, 2, 4, … minutes, at most 30', () => {
  let ws = withPreStop(['save']);
  const key = stopRetryKey('idle', '2026-01-05T08:00:00.000Z', ws);
  const waits: number[] = [];
  let at = NOW;
  for (let i = 0; i < 8; i++) {
    ws = afterTry(ws, key, at);
    const next = stopRetryNotBefore(ws, key, at);
    assert.ok(next !== undefined);
    waits.push((next - at) / 60_000);
    assert.equal(stopRetryNotBefore(ws, key, next - 1), next, 'not before its time');
    assert.equal(stopRetryNotBefore(ws, key, next), undefined, 'at its time');
    at = next;
  }
  assert.deepEqual(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
  assert.equal(ws.activity.stop_retry?.attempt, 8);
  assert.equal(STOP_RETRY_BACKOFF.jitter, 0.2);
});

test('the row ends when the stop is no longer postponed, the pre_stop is edited, or the stop is due for another reason', () => {
  const ws = withPreStop(['save']);
  const key = stopRetryKey('idle', '2026-01-05T08:00:00.000Z', ws);
  const tried = afterTry(afterTry(ws, key, NOW), key, NOW);
  assert.equal(tried.activity.stop_retry?.attempt, 2);
  assert.notEqual(stopRetryNotBefore(tried, key, NOW), undefined);

  const stoppedSince = { ...tried, observed: { ...tried.observed, conditions: [] } };
  assert.equal(stopRetryNotBefore(stoppedSince, key, NOW), undefined);
  assert.equal(stopTry(stoppedSince, key, NOW).attempt, 1);

  const edited = { ...tried, spec: { ...tried.spec, lifecycle: { ...tried.spec.lifecycle, pre_stop: { command: ['save', '--harder'] } } } };
  const editedKey = stopRetryKey('idle', '2026-01-05T08:00:00.000Z', edited);
  assert.notEqual(editedKey, key);
  assert.equal(stopRetryNotBefore(edited, editedKey, NOW), undefined);
  assert.equal(stopTry(edited, editedKey, NOW).attempt, 1);

  const activeSince = stopRetryKey('idle', '2026-01-05T09:30:00.000Z', tried);
  assert.equal(stopRetryNotBefore(tried, activeSince, NOW), undefined);
  assert.equal(stopRetryNotBefore(tried, stopRetryKey('schedule', '2026-01-05T08:00:00.000Z', tried), NOW), undefined);
});
