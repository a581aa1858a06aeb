// Pre-stop on the real Docker engine: it runs in the container (docker exec) before the stop and what it
// saves to the volume is there after the next start; a failing one keeps the container running.
// The test image's CMD serves /home/src over HTTP on 6789 (busybox httpd).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { dockerCli, dockerSkipReason, ensureDocker, httpGetText, newRunId, TEST_IMAGE, uniqueName } from '../support/docker.js';
import { condition, waitForWs, writeHook } from './helpers.js';

const skip = dockerSkipReason();
const runId = newRunId();
let srv: TestServer;

before(async () => {
  if (skip) return;
  await ensureDocker();
  srv = await startTestServer({ clusterType: 'docker' });
});
after(async () => {
  await srv?.close();
});

const act = (name: string, workspace: Record<string, unknown>) => srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace } });

describe('pre-stop on Docker', { skip }, () => {
  test('saves into the volume before the stop; a failing one keeps the container running until forced', async () => {
    await writeHook(srv, 'docker/save.sh', '#!/bin/sh\n[ -f /home/src/locked ] && { echo "locked" >&2; exit 5; }\necho "saved in $HOSTNAME" > /home/src/saved.txt\n');
    const name = uniqueName(runId, 'prestop');
    const res = await srv.request('POST', '/api/workspaces', {
      body: { workspace: { name, cluster_type: 'docker', container_config: `image: ${TEST_IMAGE}\n`, lifecycle_config: { pre_stop: { hook_path: 'docker/save.sh', timeout_seconds: 30 } } } },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await waitForWs(srv, name, (w) => w.instance.status === 'RUNNING', 'RUNNING', 60_000);

    assert.equal((await act(name, { action: 'stop' })).status, 200);
    const stopped = await waitForWs(srv, name, (w) => w.instance.status === 'STOPPED', 'STOPPED', 60_000);
    assert.equal(stopped.last_operation.details.pre_stop.ok, true);
    assert.equal(JSON.parse(await dockerCli('inspect', `wsm-${name}`))[0].State.Running, false);
    assert.equal((await act(name, { action: 'resume' })).status, 200);
    const again = await waitForWs(srv, name, (w) => w.instance.status === 'RUNNING', 'RUNNING again', 60_000);
    assert.match(await httpGetText(`http://${again.instance.ip}/saved.txt`), /^saved in /);

    await dockerCli('exec', `wsm-${name}`, 'touch', '/home/src/locked');
    assert.equal((await act(name, { action: 'stop' })).status, 200);
    const refused = await waitForWs(srv, name, (w) => w.last_operation?.state === 'failed', 'the stop refused', 60_000);
    assert.equal(condition(refused, 'PreStopFailed')?.reason, 'StopRefused');
    assert.equal(JSON.parse(await dockerCli('inspect', `wsm-${name}`))[0].State.Running, true, 'the container still runs');
    assert.equal((await act(name, { action: 'stop', force: true })).status, 200);
    await waitForWs(srv, name, (w) => w.instance.status === 'STOPPED', 'STOPPED by force', 60_000);
  });
});
