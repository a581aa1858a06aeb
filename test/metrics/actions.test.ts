// Real actions on the local and Docker runtimes, a scrape of /metrics before and after each: the
// operation, start-latency, runtime-call, HTTP and workspace series move by exactly what was done.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';
import { TEST_IMAGE, dockerSkipReason, ensureDocker } from '../support/docker.js';
import { sumOf } from '../support/prom-text.js';
import { Api, e2eName, removeWorkspaceObjects } from '../e2e/docker/helpers.js';
import { METRICS_TOKEN, delta, grownBy, scrape } from './helpers.js';

function actionsOn(clusterType: 'local' | 'docker', containerConfig: string) {
  const name = e2eName(`m-${clusterType}`);
  let server: TestServer;
  let api: Api;

  before(async () => {
    if (clusterType === 'docker') await ensureDocker();
    server = await startTestServer({ clusterType, env: { WSM_METRICS_TOKEN: METRICS_TOKEN } });
    api = new Api(server.url, server.adminToken);
  });

  after(async () => {
    await server?.close().catch(() => undefined);
    if (clusterType === 'docker') await removeWorkspaceObjects([name]);
  });

  test('create: one operation started and finished, one start timed, the workspace counted RUNNING', async () => {
    const before = await scrape(server.url);
    const created = await api.call('POST', '/api/workspaces', { workspace: { name, cluster_type: clusterType, container_config: containerConfig } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await api.waitForStatus(name, 'RUNNING');
    const op = (await api.get(name)).last_operation;
    await api.waitForOperation(op.id, 'succeeded');

    const after = await grownBy(server, before, 'wsm_operations_finished_total', { action: 'create', result: 'succeeded' }, 1);
    assert.equal(delta(before, after, 'wsm_operations_started_total', { action: 'create' }), 1);
    assert.equal(delta(before, after, 'wsm_operations_finished_total', { result: 'failed' }), 0);
    assert.equal(delta(before, after, 'wsm_operation_duration_seconds_count', { action: 'create', runtime: clusterType }), 1);
    assert.equal(delta(before, after, 'wsm_start_request_to_running_seconds_count', { runtime: clusterType }), 1);
    const seconds = delta(before, after, 'wsm_start_request_to_running_seconds_sum', { runtime: clusterType });
    const took = (Date.parse(op.finished_at) - Date.parse(op.created_at)) / 1000;
    assert.ok(Math.abs(seconds - took) < 0.01, `the start took ${took} s by the operation, ${seconds} s by the metric`);
    assert.equal(sumOf(after, 'wsm_workspaces', { cluster_type: clusterType, status: 'RUNNING' }), 1);
    assert.equal(sumOf(after, 'wsm_workspaces_mismatched'), 0);
    assert.ok(delta(before, after, 'wsm_runtime_call_duration_seconds_count', { runtime: clusterType, call: 'apply' }) >= 1, 'the runtime was asked to apply');
    assert.ok(delta(before, after, 'wsm_reconcile_duration_seconds_count') >= 1, 'reconciles were timed');
    assert.equal(delta(before, after, 'wsm_http_request_duration_seconds_count', { route: '/api/workspaces', method: 'POST', status_class: '2xx' }), 1);
    assert.ok(delta(before, after, 'wsm_http_request_duration_seconds_count', { route: '/api/workspaces/:name', method: 'GET', status_class: '2xx' }) >= 2);
  });

  test('stop then resume: each counted once, the resume timed as a start, the status gauges follow', async () => {
    const before = await scrape(server.url);
    const stopped = await api.act(name, 'stop');
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    await api.waitForOperation(stopped.body.operation.id, 'succeeded');
    const mid = await grownBy(server, before, 'wsm_operations_finished_total', { action: 'stop', result: 'succeeded' }, 1);
    assert.equal(sumOf(mid, 'wsm_workspaces', { cluster_type: clusterType, status: 'STOPPED' }), 1);
    assert.equal(sumOf(mid, 'wsm_workspaces', { cluster_type: clusterType, status: 'RUNNING' }), 0);

    const resumed = await api.act(name, 'resume');
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    await api.waitForOperation(resumed.body.operation.id, 'succeeded');
    const after = await grownBy(server, before, 'wsm_operations_finished_total', { action: 'resume', result: 'succeeded' }, 1);

    assert.equal(delta(before, after, 'wsm_operations_started_total', { action: 'stop' }), 1);
    assert.equal(delta(before, after, 'wsm_operations_started_total', { action: 'resume' }), 1);
    assert.equal(delta(before, after, 'wsm_operations_started_total'), 2);
    assert.equal(delta(before, after, 'wsm_operation_duration_seconds_count', { runtime: clusterType }), 2);
    assert.equal(delta(before, after, 'wsm_start_request_to_running_seconds_count', { runtime: clusterType }), 1, 'a stop is not a start');
    assert.equal(delta(before, after, 'wsm_http_request_duration_seconds_count', { route: '/api/workspaces/:name', method: 'PUT', status_class: '2xx' }), 2);
    assert.ok(delta(before, after, 'wsm_runtime_call_duration_seconds_count', { runtime: clusterType, call: 'apply' }) >= 2);
    assert.equal(sumOf(after, 'wsm_workspaces', { cluster_type: clusterType, status: 'RUNNING' }), 1);
  });

  test('a refused action is a 4xx, starts no operation, and moves no operation series', async () => {
    const before = await scrape(server.url);
    const refused = await api.act(name, 'fly');
    assert.equal(refused.status, 400);
    const after = await scrape(server.url);
    assert.equal(delta(before, after, 'wsm_operations_started_total'), 0);
    assert.equal(delta(before, after, 'wsm_http_request_duration_seconds_count', { route: '/api/workspaces/:name', method: 'PUT', status_class: '4xx' }), 1);
  });

  test('delete: finished and timed under delete, and the workspace leaves the gauges', async () => {
    const before = await scrape(server.url);
    const res = await api.call('DELETE', `/api/workspaces/${name}?delete_volume=true`);
    assert.ok(res.status === 200 || res.status === 202, JSON.stringify(res.body));
    const after = await grownBy(server, before, 'wsm_operations_finished_total', { action: 'delete', result: 'succeeded' }, 1);
    assert.equal(delta(before, after, 'wsm_operation_duration_seconds_count', { action: 'delete', runtime: clusterType }), 1);
    assert.ok(delta(before, after, 'wsm_runtime_call_duration_seconds_count', { runtime: clusterType, call: 'remove' }) >= 1);
    assert.equal(sumOf(after, 'wsm_workspaces', { cluster_type: clusterType }), 0);
  });
}

describe('metrics of actions on the local runtime', () => {
  actionsOn('local', localContainerConfig());
});

describe('metrics of actions on the Docker runtime', { skip: dockerSkipReason() }, () => {
  actionsOn('docker', `image: ${TEST_IMAGE}\n`);
});
