// Dormancy end to end on the local runtime: the cluster settings, the dormant flag and filter, the dry
// run, the owner's warning and the deletion with the volume kept, with the server's clock injected
// (days pass by setting it, not by waiting).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, startTestServer, type TestServer } from '../support/server.js';
import { getWs, localHome, serverConfig, waitForWs } from './helpers.js';

const DAY = 86_400_000;
let clock = Date.now();
let srv: TestServer;

before(async () => {
  srv = await startTestServer({ clock: () => clock });
});
after(async () => {
  await srv?.close();
});

async function create(name: string) {
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: serverConfig() } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return waitForWs(srv, name, (w) => w.instance.status === 'RUNNING', 'RUNNING');
}

const settings = (cluster_settings: Record<string, unknown>) => srv.request('PUT', '/api/cluster_settings', { body: { cluster_settings } });
const names = async (query: string) => (await srv.request('GET', `/api/workspaces?${query}`)).body.workspaces.map((w: any) => w.name);

describe('dormancy', () => {
  test('bad settings are refused naming the field', async () => {
    const orphan = await settings({ delete_dormant_after_days: 3 });
    assert.equal(orphan.status, 400);
    assert.deepEqual(orphan.body.error.errors.map((e: any) => e.field), ['cluster_settings.delete_dormant_after_days']);
    const zero = await settings({ dormant_after_days: 0 });
    assert.equal(zero.status, 400);
    assert.equal(zero.body.error.errors[0].field, 'cluster_settings.dormant_after_days');
    assert.equal((await srv.request('GET', '/api/cluster_settings')).body.cluster_settings.dormant_after_days, undefined);
  });

  test('a workspace stopped past the setting is dormant, listed by the filter and the dry run, warned, then deleted with its volume kept', async () => {
    assert.equal((await settings({ dormant_after_days: 7, delete_dormant_after_days: 3, delete_dormant_volume: false })).status, 200);
    await create('dm-old');
    await create('dm-run');
    await writeFile(join(localHome(srv, 'dm-old'), 'notebook.txt'), 'work\n');
    assert.equal((await srv.request('PUT', '/api/workspaces/dm-old', { body: { workspace: { action: 'stop' } } })).status, 200);
    const stopped = await waitForWs(srv, 'dm-old', (w) => w.instance.status === 'STOPPED', 'STOPPED');
    assert.equal(stopped.dormant, false, 'not yet');
    assert.deepEqual(await names('dormant=true'), []);

    clock = Date.now() + 8 * DAY;
    const ws = await getWs(srv, 'dm-old');
    assert.equal(ws.dormant, true);
    assert.ok(Math.abs(Date.parse(ws.dormant_since) - (Date.parse(stopped.updated_at) + 7 * DAY)) < 1000, ws.dormant_since);
    assert.equal(Date.parse(ws.dormant_deletes_at), Date.parse(ws.dormant_since) + 3 * DAY);
    assert.equal((await getWs(srv, 'dm-run')).dormant, false, 'a running workspace is never dormant');
    assert.deepEqual(await names('dormant=true'), ['dm-old']);
    assert.deepEqual(await names('dormant=false'), ['dm-run']);
    const bad = await srv.request('GET', '/api/workspaces?dormant=maybe');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.errors[0].field, 'dormant');

    const dry = await srv.request('GET', '/api/dormancy');
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual(dry.body.workspaces.map((w: any) => [w.name, w.next_step, w.warned_at, w.delete_volume]), [['dm-old', 'warn', null, false]]);

    assert.deepEqual(await srv.server.dormancy.pass(), { warned: ['dm-old'], deleted: [] });
    const audit = await srv.request('GET', '/api/audit?workspace=dm-old');
    const warning = audit.body.events.find((e: any) => e.action === 'dormant_warning');
    assert.equal(warning?.actor, 'dormancy', JSON.stringify(audit.body.events));
    assert.match(warning.detail, /will be deleted at/);
    const warned = (await srv.request('GET', '/api/dormancy')).body.workspaces[0];
    assert.equal(warned.warned_at, new Date(clock).toISOString());
    assert.equal(warned.next_step, null, 'not before the announced time');
    const shown = await getWs(srv, 'dm-old');
    assert.equal(shown.dormant_warned_at, warned.warned_at, 'the warning is on the workspace');
    assert.equal(shown.dormant_deletes_at, warned.deletes_at);
    assert.equal(shown.last_operation.action, 'dormant_warning', 'an event on the workspace, seen by its watchers');
    assert.match(shown.last_operation.details.message, /will be deleted at/);
    assert.deepEqual(await srv.server.dormancy.pass(), { warned: [], deleted: [] }, 'warned once');

    clock = Date.parse(warned.deletes_at) + 60_000;
    assert.equal((await srv.request('GET', '/api/dormancy')).body.workspaces[0].next_step, 'delete');
    assert.deepEqual(await srv.server.dormancy.pass(), { warned: [], deleted: ['dm-old'] });
    await eventually(async () => (await srv.request('GET', '/api/workspaces/dm-old')).status === 404, 20_000, 'dm-old deleted');
    assert.ok(existsSync(join(localHome(srv, 'dm-old'), 'notebook.txt')), 'the volume was kept');
    assert.equal((await getWs(srv, 'dm-run')).instance.status, 'RUNNING');
  });
});
