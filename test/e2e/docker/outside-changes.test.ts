// What wsm does when the engine's state changes without it, and when the engine refuses what it
// asks: a container killed, stopped or removed behind wsm's back (started again or recreated by the restart
// policy), a foreign container holding the name, an image that does not exist. Everything is checked through the HTTP API on the real engine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';
import { TEST_IMAGE, TEST_RUN_LABEL, dockerCli, dockerSkipReason, ensureDocker, newRunId } from '../../support/docker.js';
import { Api, containerOf, e2eName, imageConfig, inspectContainer, removeWorkspaceObjects, served, volumeExists } from './helpers.js';

const runId = newRunId();
const names: string[] = [];
const foreign: string[] = [];
let server: TestServer | undefined;
let api: Api;

function workspaceName(suffix: string): string {
  const name = e2eName(suffix);
  names.push(name);
  return name;
}

/** Events, not the 60 s resync, must bring the change to the API: bound well under the resync. */
const EVENT_BOUND_MS = 20_000;

describe('changes made outside wsm, through the HTTP API', { skip: dockerSkipReason() }, () => {
  before(async () => {
    await ensureDocker();
    server = await startTestServer({ clusterType: 'docker', env: { WSM_RESYNC_SECONDS: '3600', WSM_RESTART_BACKOFF_INITIAL_SECONDS: '2' } });
    api = new Api(server.url, server.adminToken);
  });

  after(async () => {
    await server?.close().catch(() => undefined);
    await removeWorkspaceObjects(names, foreign);
  });

  describe('a running workspace', () => {
    const name = workspaceName('outside');

    before(async () => {
      const res = await api.create(name, imageConfig(TEST_IMAGE));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const ws = await api.waitForStatus(name, 'RUNNING');
      await dockerCli('exec', containerOf(name), 'sh', '-c', 'echo kept > /home/src/kept.txt');
      assert.equal((await served(ws.url, '/kept.txt')).trim(), 'kept');
    });

    test('killed with docker kill: started again by the restart policy within seconds, counted, the kill shown', async () => {
      const before = await api.get(name);
      await dockerCli('kill', containerOf(name));
      const back = await api.waitFor(name, 'the restart after the kill', (ws) => ws.restart_count === before.restart_count + 1 && ws.instance.status === 'RUNNING', EVENT_BOUND_MS);
      assert.equal(back.desired_state, 'running', 'wsm did not change what was asked');
      assert.equal(back.last_termination.exit_code, 137);
      assert.equal(back.last_termination.signal, 'SIGKILL');
      assert.equal((await inspectContainer(name))?.State.Status, 'running');
      assert.equal((await served(back.url, '/kept.txt')).trim(), 'kept');
    });

    test('stopped with docker stop: started again by the restart policy, counted, the same container', async () => {
      const before = await api.get(name);
      const id = (await inspectContainer(name))?.Id;
      // busybox httpd as PID 1 ignores SIGTERM: the engine kills it after the 1 s grace.
      await dockerCli('stop', '-t', '1', containerOf(name));
      const back = await api.waitFor(name, 'the restart after the stop', (ws) => ws.restart_count === before.restart_count + 1 && ws.instance.status === 'RUNNING', EVENT_BOUND_MS);
      assert.equal(back.desired_state, 'running', 'wsm did not change what was asked');
      assert.equal(back.last_termination.exit_code, 137);
      const info = await inspectContainer(name);
      assert.equal(info?.State.Status, 'running');
      assert.equal(info?.Id, id, 'started again, not recreated');
      assert.equal((await served(back.url, '/kept.txt')).trim(), 'kept');
    });

    test('removed with docker rm: recreated with its data, counted as a restart', async () => {
      const before = await api.get(name);
      const oldId = (await inspectContainer(name))?.Id;
      await dockerCli('rm', '-f', containerOf(name));
      const back = await api.waitFor(name, 'the container to be recreated', (ws) => ws.restart_count === before.restart_count + 1 && ws.instance.status === 'RUNNING', EVENT_BOUND_MS + 10_000);
      // rm -f kills first: wsm may see the kill (its die event) before the container is gone.
      assert.ok(['Missing', 'Killed'].includes(back.last_termination.reason), JSON.stringify(back.last_termination));
      assert.ok(await volumeExists(name), 'docker rm left the volume');
      const info = await inspectContainer(name);
      assert.ok(info && info.Id !== oldId, 'a new container');
      assert.equal((await served(back.url, '/kept.txt')).trim(), 'kept', 'on the same volume');
    });
  });

  test('a foreign container named wsm-<name> is not touched; the workspace fails with a clear condition', async () => {
    const name = workspaceName('foreign');
    foreign.push(containerOf(name));
    const id = await dockerCli('run', '-d', '--name', containerOf(name), '--label', `${TEST_RUN_LABEL}=${runId}`, TEST_IMAGE, 'sleep', '3600');

    const res = await api.create(name, imageConfig(TEST_IMAGE));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const op = await api.waitForOperation(res.body.operation.id, 'failed');
    assert.match(op.error, /wsm does not manage/);
    const ws = await api.waitForStatus(name, 'FAILED');
    const conflict = ws.conditions.find((c: any) => c.reason === 'NameConflict');
    assert.ok(conflict, JSON.stringify(ws.conditions));
    assert.match(conflict.message, new RegExp(`container named ${containerOf(name)} exists`));

    const del = await api.call('DELETE', `/api/workspaces/${name}?delete_volume=true`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    await waitGone(name);
    const info = await inspectContainer(name);
    assert.equal(info?.Id, id, 'the foreign container is still there');
    assert.equal(info?.State.Status, 'running', 'and still running');
    assert.equal(info?.Config.Labels['app.kubernetes.io/managed-by'], undefined, 'and not relabelled');
  });

  test("an image that does not exist: the operation fails with 'not found and could not be pulled'", async () => {
    const name = workspaceName('noimage');
    const image = `wsm-test/does-not-exist-${runId}:1`;
    const res = await api.create(name, imageConfig(image));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const op = await api.waitForOperation(res.body.operation.id, 'failed');
    assert.match(op.error, new RegExp(`image ${image} not found and could not be pulled`));
    const ws = await api.waitForStatus(name, 'FAILED');
    assert.ok(ws.conditions.some((c: any) => c.reason === 'ImagePullFailed'), JSON.stringify(ws.conditions));
    assert.match(ws.status_message, /not found and could not be pulled/);
    assert.equal(await inspectContainer(name), undefined, 'no container was made');
  });
});

async function waitGone(name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await api.call('GET', `/api/workspaces/${name}`)).status !== 404) {
    if (Date.now() > deadline) throw new Error(`${name} was not deleted within 30 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
