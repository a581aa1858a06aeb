import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nextFire, parseCron, previousFire } from '../../src/core/cron.js';
import { nextScheduleTimes, scheduleStep } from '../../src/core/schedule.js';
import { parseLifecycleConfig } from '../../src/core/lifecycle.js';

const at = (s: string) => Date.parse(s);
const cron = (s: string) => {
  const c = parseCron(s);
  assert.ok(!('error' in c), JSON.stringify(c));
  return c;
};

describe('cron', () => {
  test('weekdays at 08:00 in Berlin, across the change to summer time', () => {
    const c = cron('0 8 * * MON-FRI');
    const fires: string[] = [];
    for (let t = at('2026-03-27T12:00:00Z'), i = 0; i < 3; i++) fires.push(new Date((t = nextFire(c, 'Europe/Berlin', t)!)).toISOString());
    // Friday 27 March is still winter time (UTC+1); Monday 30 March is summer time (UTC+2).
    assert.deepEqual(fires, ['2026-03-30T06:00:00.000Z', '2026-03-31T06:00:00.000Z', '2026-04-01T06:00:00.000Z']);
    assert.equal(new Date(previousFire(c, 'Europe/Berlin', at('2026-03-30T05:59:00Z'))!).toISOString(), '2026-03-27T07:00:00.000Z');
  });

  test('a local time skipped by the clock change does not fire that day', () => {
    assert.equal(new Date(nextFire(cron('30 2 * * *'), 'Europe/Berlin', at('2026-03-28T12:00:00Z'))!).toISOString(), '2026-03-30T00:30:00.000Z');
  });

  test('lists, ranges, steps, names and Sunday as 7', () => {
    const c = cron('*/20 9-10 1,15 JAN,feb 7');
    assert.deepEqual([...c.minute], [0, 20, 40]);
    assert.deepEqual([...c.hour], [9, 10]);
    assert.deepEqual([...c.month], [1, 2]);
    assert.deepEqual([...c.weekday], [0]);
    // Day of month and day of week both restricted: either matches (Sunday 4 January 2026).
    assert.equal(new Date(nextFire(c, 'UTC', at('2026-01-02T00:00:00Z'))!).toISOString(), '2026-01-04T09:00:00.000Z');
  });

  test('bad expressions say what is wrong', () => {
    for (const [text, why] of [['61 * * * *', /minute.*0-59/], ['* * *', /5 fields/], ['0 8 * * MON-', /day of week/], ['5-1 * * * *', /backwards/], ['*/0 * * * *', /step/]] as const) {
      const c = parseCron(text);
      assert.ok('error' in c, text);
      assert.match(c.error, why, text);
    }
  });
});

describe('schedule steps', () => {
  const schedule = { autostart: '0 8 * * *', autostop: '0 19 * * *', timezone: 'UTC' };

  test('a schedule begins when it is first seen: nothing before is acted on', () => {
    assert.deepEqual(scheduleStep(schedule, undefined, at('2026-05-05T10:00:00Z')), { checked_at: '2026-05-05T10:00:00.000Z' });
  });

  test('the start and the stop come in turn', () => {
    assert.equal(scheduleStep(schedule, '2026-05-05T07:00:00.000Z', at('2026-05-05T07:59:00Z')), undefined);
    assert.deepEqual(scheduleStep(schedule, '2026-05-05T07:00:00.000Z', at('2026-05-05T08:00:30Z')), { action: 'start', fire_at: '2026-05-05T08:00:00.000Z', checked_at: '2026-05-05T08:00:30.000Z' });
    assert.equal(scheduleStep(schedule, '2026-05-05T19:00:00.000Z', at('2026-05-05T19:00:40Z')), undefined, 'a time is acted on once');
    assert.equal(scheduleStep(schedule, '2026-05-05T08:00:30.000Z', at('2026-05-05T19:01:00Z'))?.action, 'stop');
  });

  test('a start missed during downtime is made up inside its window, not after it closed', () => {
    assert.equal(scheduleStep(schedule, '2026-05-04T20:00:00.000Z', at('2026-05-05T11:00:00Z'))?.action, 'start');
    assert.equal(scheduleStep(schedule, '2026-05-04T20:00:00.000Z', at('2026-05-05T20:00:00Z'))?.action, 'stop');
  });

  test('next times are shown in UTC for a zone', () => {
    assert.deepEqual(nextScheduleTimes({ autostart: '0 8 * * MON-FRI', timezone: 'Europe/Berlin' }, at('2026-07-03T12:00:00Z')), { next_autostart_at: '2026-07-06T06:00:00.000Z', next_autostop_at: null });
  });

  test('validation names the field', () => {
    const fields = (v: unknown) => parseLifecycleConfig({ schedule: v }).errors.map((e) => e.field);
    assert.deepEqual(fields({ autostart: '0 8 * *' }), ['lifecycle_config.schedule.autostart']);
    assert.deepEqual(fields({ autostop: '0 8 31 2 *' }), ['lifecycle_config.schedule.autostop']);
    assert.deepEqual(fields({ autostart: '0 8 * * *', timezone: 'Mars/Olympus' }), ['lifecycle_config.schedule.timezone']);
    assert.deepEqual(fields({ timezone: 'UTC' }), ['lifecycle_config.schedule']);
    assert.deepEqual(fields({ autostart: '0 8 * * *', every: 'day' }), ['lifecycle_config.schedule.every']);
    assert.deepEqual(parseLifecycleConfig({ schedule: { autostart: ' 0  8 * * 1-5 ', timezone: 'Europe/Berlin' } }).patch.schedule, { autostart: '0 8 * * 1-5', timezone: 'Europe/Berlin' });
  });
});
