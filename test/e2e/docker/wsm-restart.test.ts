// wsm itself is killed with SIGKILL in the middle of an action on a Docker workspace and started
// again on the same data dir: it picks the action up from the store and converges, adopting the
// container it made rather than making a second one. The server runs as a child process, as an
// operator would run it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_IMAGE, dockerCli, dockerClient, dockerSkipReason, ensureDocker, waitFor } from '../../support/docker.js';
import { WsmProcess } from '../../support/wsm-process.js';
import { Api, containerOf, e2eName, imageConfig, inspectContainer, removeWorkspaceObjects, served } from './helpers.js';

const name = e2eName('sigkill');
let wsm: WsmProcess;
let api: Api;

/** Waits until the controller has picked the operation up (it is running, not merely recorded). */
function actionUnderWay(operationId: string): Promise<unknown> {
  return waitFor(`operation ${operationId} to be running`, async () => {
    const op = await api.operation(operationId);
    if (op.state === 'succeeded' || op.state === 'failed') throw new Error(`operation settled (${op.state}) before wsm could be killed`);
    return op.state === 'running' ? op : undefined;
  }, 30_000, 50);
}

describe('wsm killed with SIGKILL during an action on a Docker workspace', { skip: dockerSkipReason() }, () => {
  before(async () => {
    await ensureDocker();
    wsm = await WsmProcess.create({
      WSM_CLUSTER_TYPE: 'docker',
      // A long grace period (busybox httpd as PID 1 ignores SIGTERM) keeps each stop in flight long
      // enough to kill wsm during it.
      WSM_STOP_GRACE_SECONDS: '6',
      WSM_ACTION_WAIT_MS: '500',
    });
    api = new Api(wsm.url, wsm.adminToken);
  });

  after(async () => {
    await wsm.dispose();
    await removeWorkspaceObjects([name]);
  });

  test('during a patch and during a stop: after a restart it converges to what was asked', async () => {
    await wsm.start();
    const created = await api.create(name, imageConfig(TEST_IMAGE, 'env:\n  - name: ROUND\n    value: one\n'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await api.waitForStatus(name, 'RUNNING');
    await dockerCli('exec', containerOf(name), 'sh', '-c', 'echo survived > /home/src/data.txt');
    const firstId = (await inspectContainer(name))?.Id;

    // The patch stops the old container first (a 6 s grace); wsm dies while it waits.
    const patch = await api.act(name, 'patch', { container_config: 'env:\n  - name: ROUND\n    value: two\n' });
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    await actionUnderWay(patch.body.operation.id);
    await wsm.killHard();

    await wsm.start();
    const patched = await api.waitFor(name, 'the patch to be applied after the restart', (ws) => ws.instance.status === 'RUNNING' && ws.observed_generation === ws.generation);
    assert.equal((await api.operation(patch.body.operation.id)).state, 'succeeded');
    const info = await inspectContainer(name);
    assert.ok(info && info.Id !== firstId, 'recreated');
    assert.ok(info.Config.Env.includes('ROUND=two'), `env: ${info.Config.Env.join(' ')}`);
    const ours = await dockerClient().listContainers({ all: true, filters: { name: [containerOf(name)] } });
    assert.equal(ours.length, 1, 'one container, not two');
    assert.equal((await served(patched.url, '/data.txt')).trim(), 'survived');

    // Again during a stop.
    const stop = await api.act(name, 'stop');
    assert.equal(stop.status, 200, JSON.stringify(stop.body));
    await actionUnderWay(stop.body.operation.id);
    await wsm.killHard();

    await wsm.start();
    const stopped = await api.waitForStatus(name, 'STOPPED');
    assert.equal(stopped.desired_state, 'stopped');
    assert.equal((await api.operation(stop.body.operation.id)).state, 'succeeded');
    assert.equal((await inspectContainer(name))?.State.Status, 'exited');

    // It still takes actions after all that.
    const resume = await api.act(name, 'resume');
    assert.equal(resume.status, 200);
    const back = await api.waitForStatus(name, 'RUNNING');
    assert.equal((await served(back.url, '/data.txt')).trim(), 'survived');
    const del = await api.call('DELETE', `/api/workspaces/${name}?delete_volume=true`);
    assert.equal(del.status, 200);
    await waitFor('the workspace to be deleted', async () => ((await api.call('GET', `/api/workspaces/${name}`)).status === 404 ? true : undefined));
  });
});
