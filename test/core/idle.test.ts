import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideIdle, latestSignal, type ActivitySignal } from '../../src/core/idle.js';
import type { ActivitySource } from '../../src/core/types.js';

const on = (max: number) => ({ enable_auto_termination: true, max_idle_seconds: max });
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number, source: ActivitySource = 'api'): ActivitySignal => ({ at: ms, source });

describe('decideIdle', () => {
  test('a workspace idle longer than its limit is due, and says when it was to stop', () => {
    const d = decideIdle({ policy: on(60), running: true, last: at(T0), now: T0 + 61_000 });
    assert.deepEqual(d, { idle_seconds: 61, due: true, stops_at: '2026-01-01T00:01:00.000Z', busy_reason: null });
  });

  test('exactly at the limit is not yet idle longer than it', () => {
    assert.equal(decideIdle({ policy: on(60), running: true, last: at(T0), now: T0 + 60_000 }).due, false);
    assert.equal(decideIdle({ policy: on(60), running: true, last: at(T0), now: T0 + 60_001 }).due, true);
  });

  test('policy off, or not running: never due and no stop time', () => {
    const off = decideIdle({ policy: { enable_auto_termination: false, max_idle_seconds: 1 }, running: true, last: at(T0), now: T0 + 1e9 });
    assert.deepEqual(off, { idle_seconds: 1_000_000, due: false, stops_at: null, busy_reason: null });
    const stopped = decideIdle({ policy: on(1), running: false, last: at(T0), now: T0 + 1e9 });
    assert.equal(stopped.due, false);
    assert.equal(stopped.stops_at, null);
  });

  test('a running pipeline keeps it whatever the times say', () => {
    const d = decideIdle({ policy: on(1), running: true, last: at(T0), busyReason: '1 pipeline run active', now: T0 + 1e9 });
    assert.equal(d.due, false);
    assert.equal(d.stops_at, null);
    assert.equal(d.busy_reason, '1 pipeline run active');
  });

  test('activity in the future counts as now', () => {
    const d = decideIdle({ policy: on(10), running: true, last: at(T0 + 5_000), now: T0 });
    assert.equal(d.idle_seconds, 0);
    assert.equal(d.due, false);
    assert.equal(d.stops_at, new Date(T0 + 10_000).toISOString());
  });

  test('no activity known: not due, and the reason is given', () => {
    const d = decideIdle({ policy: on(10), running: true, now: T0 });
    assert.equal(d.due, false);
    assert.equal(d.idle_seconds, null);
    assert.match(d.busy_reason ?? '', /no activity/);
  });
});

describe('latestSignal', () => {
  test('picks the newest and its source', () => {
    assert.deepEqual(latestSignal(at(1, 'api'), undefined, at(3, 'probe'), at(2, 'heartbeat')), at(3, 'probe'));
    assert.equal(latestSignal(undefined), undefined);
  });
});

describe('decideIdle properties', () => {
  const policy = fc.record({ enable_auto_termination: fc.boolean(), max_idle_seconds: fc.integer({ min: 0, max: 31_536_000 }) });
  const time = fc.integer({ min: T0 - 1e10, max: T0 + 1e10 });
  const input = fc.record({ policy, running: fc.boolean(), last: fc.option(time, { nil: undefined }), busy: fc.option(fc.constant('busy'), { nil: undefined }), now: time });

  test('due exactly when enabled, running, not busy, and idle strictly longer than the limit', () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = decideIdle({ policy: i.policy, running: i.running, last: i.last === undefined ? undefined : at(i.last), busyReason: i.busy, now: i.now });
        const expected =
          i.policy.enable_auto_termination && i.running && !i.busy && i.last !== undefined && i.now - i.last > i.policy.max_idle_seconds * 1000;
        assert.equal(d.due, expected);
        if (d.due) assert.ok(Date.parse(d.stops_at!) < i.now, 'a due workspace was to stop in the past');
        if (d.stops_at !== null && !d.due) assert.ok(Date.parse(d.stops_at) >= i.now, 'a pending stop lies ahead');
        if (d.idle_seconds !== null) assert.ok(d.idle_seconds >= 0);
      }),
    );
  });

  test('newer activity never makes a workspace more due, nor brings its stop earlier', () => {
    fc.assert(
      fc.property(policy, time, fc.integer({ min: 0, max: 1e9 }), time, (p, last, later, now) => {
        const a = decideIdle({ policy: p, running: true, last: at(last), now });
        const b = decideIdle({ policy: p, running: true, last: at(last + later), now });
        if (b.due) assert.ok(a.due);
        if (a.stops_at && b.stops_at) assert.ok(Date.parse(b.stops_at) >= Date.parse(a.stops_at));
      }),
    );
  });

  test('time passing never undoes a due decision', () => {
    fc.assert(
      fc.property(policy, time, time, fc.integer({ min: 0, max: 1e9 }), (p, last, now, wait) => {
        const a = decideIdle({ policy: p, running: true, last: at(last), now });
        const b = decideIdle({ policy: p, running: true, last: at(last), now: now + wait });
        if (a.due) assert.ok(b.due);
      }),
    );
  });

  test('turning the policy off cancels any pending stop', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), time, time, (max, last, now) => {
        const d = decideIdle({ policy: { enable_auto_termination: false, max_idle_seconds: max }, running: true, last: at(last), now });
        assert.equal(d.due, false);
        assert.equal(d.stops_at, null);
      }),
    );
  });
});
