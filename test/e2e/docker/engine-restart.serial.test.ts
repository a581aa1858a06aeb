// The Docker engine goes away during actions and comes back: while it is down, reads answer with
// UNAVAILABLE and the reason, actions return an operation that is being retried; once it is back,
// everything converges. The engine is a dockerd this test starts for itself (see private-engine.ts)
// and stops by its pid; the after hook always brings it down and cleans it away, also on failure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';
import { TEST_IMAGE, dockerSkipReason, waitFor } from '../../support/docker.js';
import { Api, containerOf, e2eName, imageConfig, inspectContainer, served } from './helpers.js';
import { PrivateEngine } from './private-engine.js';

const patched = e2eName('patched');
const stopped = e2eName('stopped');
/** Asked nothing during the outage. */
const idle = e2eName('idle');
let engine: PrivateEngine | undefined;
let server: TestServer | undefined;
let api: Api;
const savedDockerHost = process.env.DOCKER_HOST;

/** Backoff between retries grows to tens of seconds while the engine is away: bound generously. */
const CONVERGE_MS = 120_000;

describe('the Docker engine stopped and started again during actions', { skip: dockerSkipReason() }, () => {
  before(async () => {
    engine = await PrivateEngine.create();
    // The server reads DOCKER_HOST as an operator would set it; this file runs in its own process.
    process.env.DOCKER_HOST = engine.dockerHost;
    server = await startTestServer({
      clusterType: 'docker',
      env: {
        WSM_ACTION_WAIT_MS: '5000',
        WSM_STOP_GRACE_SECONDS: '1',
        // The resync is what notices the engine is gone for a workspace nobody acts on.
        WSM_RESYNC_SECONDS: '5',
      },
    });
    api = new Api(server.url, server.adminToken);
  });

  after(async () => {
    // Bring the engine back first, so the server's close() can delete its workspaces through it.
    await engine?.start().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await engine?.destroy();
    if (savedDockerHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = savedDockerHost;
  });

  test('reads answer, actions are retried, and everything converges once the engine is back', async () => {
    const docker = engine!.docker;
    for (const name of [patched, stopped, idle]) {
      const res = await api.create(name, imageConfig(TEST_IMAGE, 'env:\n  - name: PHASE\n    value: before\n'));
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    for (const name of [patched, stopped]) {
      const ws = await api.waitForStatus(name, 'RUNNING');
      await docker.getContainer(containerOf(name)).inspect();
      // Files on the volume outlive the engine's restart and the patch.
      const exec = await docker.getContainer(containerOf(name)).exec({ Cmd: ['sh', '-c', 'echo kept > /home/src/kept.txt'] });
      await exec.start({});
      await waitFor('the file to be written', async () => ((await exec.inspect()).Running ? undefined : true));
      assert.equal((await served(ws.url, '/kept.txt')).trim(), 'kept');
    }

    await engine!.stop();
    assert.equal(await engine!.answers(), false, 'the engine is down');

    const patch = await api.act(patched, 'patch', { container_config: 'env:\n  - name: PHASE\n    value: after\n' });
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    const stop = await api.act(stopped, 'stop');
    assert.equal(stop.status, 200, JSON.stringify(stop.body));
    for (const res of [patch, stop]) {
      const op = res.body.operation;
      assert.ok(op.state === 'running' || op.state === 'pending', `the operation is still open: ${JSON.stringify(op)}`);
      assert.ok(op.attempts >= 1, `it was tried: ${JSON.stringify(op)}`);
      assert.match(op.error ?? '', /docker engine unreachable/, 'and says why it has not succeeded yet');
    }

    for (const name of [patched, stopped, idle]) {
      // While the engine shuts down it may still answer with its own errors for a moment; once it
      // is gone, the status says so.
      const ws = await api.waitFor(name, 'UNAVAILABLE because the engine is unreachable', (w) => w.instance.status === 'UNAVAILABLE' && /docker engine unreachable/.test(w.status_message ?? ''), 30_000);
      const ready = ws.conditions.find((c: any) => c.type === 'Ready');
      assert.equal(ready?.status, 'False');
      assert.match(ready?.message ?? '', /docker engine unreachable/);
    }
    // Still retrying, not given up, while the engine stays away.
    const retried = await waitFor('the patch to be retried', async () => {
      const op = await api.operation(patch.body.operation.id);
      return op.attempts >= 2 ? op : undefined;
    }, 30_000, 250);
    assert.equal(retried.state, 'running');
    const list = await api.call('GET', '/api/workspaces');
    assert.equal(list.status, 200, 'the list answers too');

    await engine!.start();

    const okPatch = await api.waitForOperation(patch.body.operation.id, 'succeeded', CONVERGE_MS);
    assert.equal(okPatch.error, null);
    const running = await api.waitFor(patched, 'the patched workspace to run', (ws) => ws.instance.status === 'RUNNING' && ws.observed_generation === ws.generation, CONVERGE_MS);
    const info = await inspectContainer(patched, docker);
    assert.ok(info?.Config.Env.includes('PHASE=after'), `env: ${info?.Config.Env.join(' ')}`);
    assert.equal((await served(running.url, '/kept.txt')).trim(), 'kept');

    await api.waitForOperation(stop.body.operation.id, 'succeeded', CONVERGE_MS);
    const stoppedWs = await api.waitForStatus(stopped, 'STOPPED', CONVERGE_MS);
    assert.equal(stoppedWs.desired_state, 'stopped');
    const stoppedInfo = await inspectContainer(stopped, docker);
    assert.ok(stoppedInfo, 'the stopped workspace keeps its container');
    assert.notEqual(stoppedInfo.State.Status, 'running');
  });

  test('a workspace asked nothing during the outage runs again once the engine is back', async () => {
    const ws = await api.waitForStatus(idle, 'RUNNING', CONVERGE_MS);
    assert.equal(ws.desired_state, 'running');
    const info = await inspectContainer(idle, engine!.docker);
    assert.equal(info?.State.Status, 'running', 'the engine runs the container again');
  });
});
