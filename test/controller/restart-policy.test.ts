// The restart decision every runtime shares: immediate first restart, then a backoff that doubles
// to its cap, forgiven after a long enough run; a wait already decided is kept; the policy says who
// is restarted at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { countEngineRestarts, decideRestart, policyRestarts, type RestartTiming } from '../../src/controller/restart-policy.js';
import { restartPolicyOf } from '../../src/core/restart-policy.js';
import { terminationOf } from '../../src/core/termination.js';
import type { RestartState } from '../../src/core/types.js';

const timing: RestartTiming = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };
const noJitter = () => 0.5;
const at = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse('2026-12-07T12:00:00Z');

test('a crash loop: restart now, then 10 s, 20 s, 40 s … capped at 5 min; the count rises by one per restart', () => {
  let state: RestartState | undefined;
  let now = T0;
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    const end = terminationOf({ exit_code: 1, finished_at: at(now) });
    let d = decideRestart('always', timing, state, end, now, noJitter);
    if (d.kind === 'wait') {
      waits.push(d.waitMs);
      assert.equal(d.restarts.next_retry_at, at(now + d.waitMs));
      assert.equal(d.restarts.count, i, 'a wait does not count');
      now += d.waitMs;
      // Looked at again once the wait is over, with the same end: now it restarts.
      d = decideRestart('always', timing, d.restarts, end, now, noJitter);
    } else {
      waits.push(0);
    }
    assert.equal(d.kind, 'restart');
    state = d.restarts;
    assert.equal(state.count, i + 1);
    assert.equal(state.next_retry_at, undefined);
    now += 1_000; // it runs for a second, then ends again
  }
  assert.deepEqual(waits, [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
});

test('a wait already decided is kept even when the end is reported with another time (a missing container)', () => {
  const first = decideRestart('always', timing, { count: 1, streak: 1, last_restart_at: at(T0) }, terminationOf({ finished_at: at(T0 + 1000), reason: 'Missing' }), T0 + 1000, noJitter);
  assert.equal(first.kind, 'wait');
  const again = decideRestart('always', timing, first.restarts, terminationOf({ finished_at: at(T0 + 5000), reason: 'Missing' }), T0 + 5000, noJitter);
  assert.equal(again.kind, 'wait');
  assert.equal(again.restarts.next_retry_at, first.restarts.next_retry_at);
});

test('a run longer than the reset time forgives: the next restart is immediate and the streak starts again', () => {
  const state: RestartState = { count: 7, streak: 6, last_restart_at: at(T0) };
  const d = decideRestart('always', timing, state, terminationOf({ exit_code: 137, finished_at: at(T0 + 600_000) }), T0 + 600_000, noJitter);
  assert.equal(d.kind, 'restart');
  assert.equal(d.restarts.count, 8);
  assert.equal(d.restarts.streak, 1);
});

test('on-failure restarts all but a clean exit; never restarts nothing; Mage\'s Docker spellings mean the same', () => {
  assert.equal(policyRestarts('on-failure', terminationOf({ exit_code: 0, finished_at: at(T0) })), false);
  assert.equal(policyRestarts('on-failure', terminationOf({ exit_code: 143, finished_at: at(T0) })), true);
  assert.equal(policyRestarts('on-failure', terminationOf({ finished_at: at(T0), reason: 'Killed' })), true, 'an unknown code is a failure');
  assert.equal(policyRestarts('never', terminationOf({ exit_code: 1, finished_at: at(T0) })), false);
  const left = decideRestart('never', timing, undefined, terminationOf({ exit_code: 1, finished_at: at(T0) }), T0);
  assert.equal(left.kind, 'leave');
  assert.equal(left.restarts.count, 0);
  assert.equal(restartPolicyOf({}), 'always');
  assert.equal(restartPolicyOf({ restart_policy: 'no' }), 'never');
  assert.equal(restartPolicyOf({ restart_policy: 'unless-stopped' }), 'always');
  assert.equal(restartPolicyOf({ restart_policy: 'on-failure' }), 'on-failure');
});

test('every wait lies within ±10 % of the doubling, never above the cap plus jitter, and never before the end', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (streak, r) => {
    const state: RestartState = { count: streak, streak, last_restart_at: at(T0) };
    const d = decideRestart('always', timing, state, terminationOf({ exit_code: 1, finished_at: at(T0 + 1000) }), T0 + 1000, () => r);
    assert.equal(d.kind, 'wait');
    const nominal = Math.min(timing.initialMs * 2 ** (streak - 1), timing.maxMs);
    assert.ok(d.kind === 'wait' && d.waitMs >= nominal * 0.9 - 1 && d.waitMs <= nominal * 1.1 + 1, `${d.kind === 'wait' ? d.waitMs : ''} vs ${nominal}`);
  }));
});

test("the kubelet's restarts are counted once each, and a new pod's from zero", () => {
  let s = countEngineRestarts(undefined, { instance_id: 'pod-a', count: 2 });
  assert.equal(s.count, 2);
  s = countEngineRestarts(s, { instance_id: 'pod-a', count: 2 });
  assert.equal(s.count, 2, 'seen again: not counted again');
  s = countEngineRestarts(s, { instance_id: 'pod-a', count: 3 });
  assert.equal(s.count, 3);
  s = countEngineRestarts(s, { instance_id: 'pod-b', count: 1 });
  assert.equal(s.count, 4);
});
