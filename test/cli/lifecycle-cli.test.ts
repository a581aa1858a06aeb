// The built `wsm` command against an in-process server whose clock the test sets: the next scheduled
// start and stop in `ws get`, `ws stop --force`, and the dormancy dry run `ws dormant`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runWsm, type Run } from '../support/built-cli.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { serverConfig, waitForWs } from '../lifecycle/helpers.js';

let clock = Date.now();
let srv: TestServer;

before(async () => {
  srv = await startTestServer({ clock: () => clock });
});
after(async () => {
  await srv?.close();
});

function wsm(args: string[]): Promise<Run> {
  return runWsm(args, { env: { WSM_URL: srv.url, WSM_TOKEN: srv.adminToken, WSM_ADMIN_TOKEN: undefined, WSM_DATA_DIR: undefined } });
}

function ok(run: Run): string {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return run.stdout;
}

describe('wsm and the lifecycle', () => {
  test('ws get shows the next scheduled start and stop; ws stop --force skips the pre-stop', async () => {
    const schedule = { autostart: '30 7 * * *', autostop: '45 18 * * *', timezone: 'UTC' };
    const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'cli-sch', container_config: serverConfig(), lifecycle_config: { schedule, pre_stop: { command: ['false'] } } } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await waitForWs(srv, 'cli-sch', (w) => w.instance.status === 'RUNNING', 'RUNNING');
    const text = ok(await wsm(['ws', 'get', 'cli-sch']));
    assert.match(text, /^next start:\s+\d{4}-\d\d-\d\dT07:30:00\.000Z$/m);
    assert.match(text, /^next stop:\s+\d{4}-\d\d-\d\dT18:45:00\.000Z$/m);

    const stop = ok(await wsm(['ws', 'stop', 'cli-sch', '--force', '--wait', '-o', 'json']));
    const { operation } = JSON.parse(stop);
    assert.equal(operation.state, 'succeeded');
    assert.equal(operation.details.pre_stop.skipped, 'force');
  });

  test('ws dormant lists what dormancy would do, and says when it is off', async () => {
    assert.match(ok(await wsm(['ws', 'dormant'])), /dormancy is off/);
    const set = await srv.request('PUT', '/api/cluster_settings', { body: { cluster_settings: { dormant_after_days: 2, delete_dormant_after_days: 5 } } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    clock = Date.now() + 3 * 86_400_000;
    const text = ok(await wsm(['ws', 'dormant']));
    assert.match(text, /dormant after 2 days stopped; deleted 5 days later with the volume kept/);
    assert.match(text, /^cli-sch\s+\S+\s+-\s+\S+\s+warn$/m);
    assert.deepEqual(ok(await wsm(['ws', 'list', '--dormant', '-o', 'name'])).trim().split('\n'), ['cli-sch']);
  });
});
