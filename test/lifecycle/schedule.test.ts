// Schedules end to end on the local runtime: a real server whose scheduler reads an injected clock,
// moved by the test to the schedule's times (no sleeping until 08:00), and a restart of the server
// over the same data dir for a start missed while it was down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nextFire, parseCron } from '../../src/core/cron.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { getWs, serverConfig, waitForWs } from './helpers.js';

const TZ = 'Europe/Berlin';
let clock = Date.now();
let srv: TestServer;

before(async () => {
  srv = await startTestServer({ clock: () => clock });
});
after(async () => {
  await srv?.close();
});

/** The first time after `after` a cron expression fires in Berlin. */
function next(expr: string, after: number): number {
  const c = parseCron(expr);
  assert.ok(!('error' in c));
  return nextFire(c, TZ, after)!;
}

function berlinWallClock(iso: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(Date.parse(iso));
}

async function create(name: string, schedule: Record<string, unknown>) {
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: serverConfig(), lifecycle_config: { schedule } } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return waitForWs(srv, name, (w) => w.instance.status === 'RUNNING', 'RUNNING');
}

const act = (name: string, workspace: Record<string, unknown>) => srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace } });

describe('schedules', () => {
  test('the workspace shows its next start and stop; the schedule stops and starts it at those times', async () => {
    const ws = await create('sch-day', { autostart: '0 8 * * *', autostop: '0 19 * * *', timezone: TZ });
    assert.equal(berlinWallClock(ws.next_autostart_at), '08:00');
    assert.equal(berlinWallClock(ws.next_autostop_at), '19:00');
    assert.ok(Date.parse(ws.next_autostop_at) > Date.now() && Date.parse(ws.next_autostop_at) <= Date.now() + 86_400_000);

    clock = Date.parse(ws.next_autostop_at) - 60_000;
    assert.deepEqual(await srv.server.scheduler.pass(), { started: [], stopped: [] }, 'nothing before its time');
    clock = Date.parse(ws.next_autostop_at) + 30_000;
    assert.deepEqual((await srv.server.scheduler.pass()).stopped, ['sch-day']);
    const stopped = await waitForWs(srv, 'sch-day', (w) => w.instance.status === 'STOPPED', 'stopped by the schedule');
    assert.equal(stopped.last_operation.action, 'scheduled_stop');
    assert.equal(stopped.last_operation.actor, 'schedule');
    assert.equal((await srv.server.scheduler.pass()).stopped.length, 0, 'a time is acted on once');

    // Woken by hand outside its hours: it runs until the next stop time (or idleness), not stopped at once.
    assert.equal((await act('sch-day', { action: 'resume' })).status, 200);
    await waitForWs(srv, 'sch-day', (w) => w.instance.status === 'RUNNING', 'resumed by hand');
    clock += 3_600_000;
    assert.deepEqual(await srv.server.scheduler.pass(), { started: [], stopped: [] });
    assert.equal((await getWs(srv, 'sch-day')).desired_state, 'running');

    // The next morning's start, once stopped again by hand.
    assert.equal((await act('sch-day', { action: 'stop' })).status, 200);
    await waitForWs(srv, 'sch-day', (w) => w.instance.status === 'STOPPED', 'stopped by hand');
    clock = next('0 8 * * *', clock) + 30_000;
    assert.deepEqual((await srv.server.scheduler.pass()).started, ['sch-day']);
    const started = await waitForWs(srv, 'sch-day', (w) => w.instance.status === 'RUNNING', 'started by the schedule');
    assert.equal(started.last_operation.action, 'scheduled_start');
    const audit = await srv.request('GET', '/api/audit?workspace=sch-day');
    assert.deepEqual(audit.body.events.filter((e: any) => e.actor === 'schedule').map((e: any) => e.action), ['scheduled_start', 'scheduled_stop']);
  });

  test('a start missed while wsm was down is made up inside its window, not after the window closed', async () => {
    clock = Date.now();
    await create('sch-open', { autostart: '0 8 * * *', autostop: '0 19 * * *', timezone: TZ });
    await create('sch-closed', { autostart: '0 8 * * *', autostop: '0 10 * * *', timezone: TZ });
    for (const name of ['sch-open', 'sch-closed']) {
      assert.equal((await act(name, { action: 'stop' })).status, 200);
      await waitForWs(srv, name, (w) => w.instance.status === 'STOPPED', 'stopped');
    }
    // Acted on up to the evening; then the server is down over the next 08:00 start.
    clock = next('0 19 * * *', clock) + 60_000;
    await srv.server.scheduler.pass();
    const { dataDir } = srv;
    await srv.server.close();
    clock = next('0 8 * * *', clock) + 3 * 3_600_000; // 11:00: sch-open's window is open, sch-closed's closed at 10:00
    srv = await startTestServer({ dataDir, clock: () => clock });
    await srv.server.scheduler.pass();
    const made = await waitForWs(srv, 'sch-open', (w) => w.instance.status === 'RUNNING', 'the missed start made up');
    assert.equal(made.last_operation.action, 'scheduled_start');
    assert.equal(made.last_operation.details, null);
    const closed = await getWs(srv, 'sch-closed');
    assert.equal(closed.desired_state, 'stopped');
    assert.equal(closed.last_operation.action, 'stop', 'nothing was made up after its window closed');
  });

  test('a bad cron expression or time zone is a 400 naming the field, and changes nothing', async () => {
    const cron = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'sch-bad', lifecycle_config: { schedule: { autostart: '0 25 * * *' } } } } });
    assert.equal(cron.status, 400);
    assert.deepEqual(cron.body.error.errors.map((e: any) => e.field), ['lifecycle_config.schedule.autostart']);
    assert.match(cron.body.error.errors[0].message, /hour.*0-23/);
    assert.equal((await srv.request('GET', '/api/workspaces/sch-bad')).status, 404);
    await create('sch-zone', { autostop: '0 19 * * *' });
    const zone = await act('sch-zone', { action: 'patch', lifecycle_config: { schedule: { autostop: '0 19 * * *', timezone: 'Europe/Atlantis' } } });
    assert.equal(zone.status, 400);
    assert.deepEqual(zone.body.error.errors.map((e: any) => e.field), ['lifecycle_config.schedule.timezone']);
    const ws = await getWs(srv, 'sch-zone');
    assert.deepEqual(ws.lifecycle_config.schedule, { autostop: '0 19 * * *', timezone: 'UTC' });
  });
});
