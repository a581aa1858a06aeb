// The culler's and the reconciler's series on real workspaces: one pass that stops an idle workspace
// and keeps one whose pipeline runs moves passes, stops and skips by one each; a start that fails for
// good (a Docker image that is absent and may not be pulled) is one failed operation, one permanent
// reconcile error by its reason, and one failed runtime call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { dockerSkipReason, ensureDocker } from '../support/docker.js';
import { Api, e2eName, removeWorkspaceObjects } from '../e2e/docker/helpers.js';
import { getWs, localHome, serverConfig, setStatus, waitForWs } from '../lifecycle/helpers.js';
import { METRICS_TOKEN, delta, grownBy, scrape } from './helpers.js';

describe('culler metrics', () => {
  let srv: TestServer;
  before(async () => {
    // The culler runs only when the test asks: every pass is one the test counts.
    srv = await startTestServer({ env: { WSM_METRICS_TOKEN: METRICS_TOKEN, WSM_CULLER_PERIOD_SECONDS: '3600' } });
  });
  after(async () => {
    await srv?.close();
  });

  test('one pass: the idle workspace stopped (reason idle), the busy one skipped (signal pipeline_run)', async () => {
    for (const name of ['m-idle', 'm-busy']) {
      const res = await srv.request('POST', '/api/workspaces', {
        body: { workspace: { name, container_config: serverConfig(), lifecycle_config: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 1 } } } },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    await setStatus(localHome(srv, 'm-busy'), { active_pipeline_run_count: 1 });
    for (const name of ['m-idle', 'm-busy']) await waitForWs(srv, name, (ws) => ws.instance.status === 'RUNNING' && ws.activity.idle_seconds >= 2, 'running and idle past its limit');

    const before = await scrape(srv.url);
    await srv.server.culler.pass();
    await srv.server.culler.settled();
    const after = await grownBy(srv, before, 'wsm_operations_finished_total', { action: 'auto_stop', result: 'succeeded' }, 1);

    assert.equal(delta(before, after, 'wsm_culler_passes_total'), 1);
    assert.equal(delta(before, after, 'wsm_culler_pass_duration_seconds_count'), 1);
    assert.equal(delta(before, after, 'wsm_culler_stops_total', { reason: 'idle' }), 1);
    assert.equal(delta(before, after, 'wsm_culler_stops_total'), 1);
    assert.equal(delta(before, after, 'wsm_culler_skips_total', { signal: 'pipeline_run' }), 1);
    assert.equal(delta(before, after, 'wsm_culler_skips_total'), 1);
    assert.equal(delta(before, after, 'wsm_operations_started_total', { action: 'auto_stop' }), 1);
    assert.equal((await getWs(srv, 'm-busy')).instance.status, 'RUNNING');
  });
});

describe('reconcile failure metrics on Docker', { skip: dockerSkipReason() }, () => {
  const name = e2eName('m-fail');
  let srv: TestServer;
  before(async () => {
    await ensureDocker();
    srv = await startTestServer({ clusterType: 'docker', env: { WSM_METRICS_TOKEN: METRICS_TOKEN } });
  });
  after(async () => {
    await srv?.close();
    await removeWorkspaceObjects([name]);
  });

  test('a start that cannot succeed: one failed create, one permanent error by reason, one failed apply, no retry', async () => {
    const api = new Api(srv.url, srv.adminToken);
    const before = await scrape(srv.url);
    const created = await api.create(name, 'image: wsm-test/absent-image:0\nimage_pull_policy: Never\n');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const op = (await api.get(name)).last_operation;
    await api.waitForOperation(op.id, 'failed');
    const after = await grownBy(srv, before, 'wsm_operations_finished_total', { action: 'create', result: 'failed' }, 1);
    assert.equal(delta(before, after, 'wsm_reconcile_errors_total', { reason: 'ImagePullFailed' }), 1);
    assert.equal(delta(before, after, 'wsm_reconcile_retries_total'), 0, 'a permanent failure is not retried');
    assert.equal(delta(before, after, 'wsm_runtime_call_errors_total', { runtime: 'docker', call: 'apply' }), 1);
    assert.equal(delta(before, after, 'wsm_start_request_to_running_seconds_count'), 0, 'a failed start is not a start time');
    assert.equal(delta(before, after, 'wsm_operation_duration_seconds_count', { action: 'create', runtime: 'docker' }), 1);
    assert.equal(delta(before, after, 'wsm_workspaces', { cluster_type: 'docker', status: 'FAILED' }), 1);
    assert.equal(delta(before, after, 'wsm_workspaces_mismatched', { cluster_type: 'docker', desired_state: 'running' }), 1);
  });
});
