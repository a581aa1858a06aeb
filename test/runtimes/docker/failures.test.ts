// What the Docker runtime reports and refuses when things go wrong on the engine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerRuntime } from '../../../src/runtimes/docker/index.js';
import { PermanentRuntimeError } from '../../../src/core/runtime.js';
import {
  TEST_IMAGE,
  TEST_RUN_LABEL,
  cleanupDocker,
  dockerCli,
  dockerClient,
  dockerSkipReason,
  ensureDocker,
  newRunId,
  testRuntimeOptions,
  testWorkspace,
  uniqueName,
  waitFor,
} from '../../support/docker.js';

const runId = newRunId();

describe('DockerRuntime on a real engine: failures', { skip: dockerSkipReason() }, () => {
  const rt = new DockerRuntime(testRuntimeOptions(runId, { pullTimeoutSeconds: 20 }));

  before(async () => {
    await ensureDocker();
  });
  after(async () => {
    await rt.close();
    await cleanupDocker(runId);
  });

  test('a container killed behind wsm\'s back is FAILED with its exit code, and watch reports it', async () => {
    const name = uniqueName(runId, 'kill');
    const ws = testWorkspace(name);
    const changed: string[] = [];
    const unsubscribe = rt.watch((n) => changed.push(n));
    try {
      assert.equal((await rt.apply(ws)).status, 'RUNNING');
      // Events from the create and start come first; after those, only the kill can report the name.
      await waitFor('the create and start events', () => (changed.filter((n) => n === name).length >= 2 ? true : undefined), 20_000);
      changed.length = 0;
      await dockerCli('kill', `wsm-${name}`);
      await waitFor('the watch callback for the killed container', () => (changed.includes(name) ? true : undefined), 20_000);

      const observed = await rt.observe(ws);
      assert.equal(observed.status, 'FAILED');
      assert.equal(observed.exit_code, 137);
      assert.equal(observed.message, 'exited with code 137 (SIGKILL)');
      assert.deepEqual({ ...observed.termination, finished_at: undefined, log_tail: undefined }, { reason: 'Killed', exit_code: 137, signal: 'SIGKILL', oom_killed: false, finished_at: undefined, log_tail: undefined });

      // The controller's next apply brings it back.
      assert.equal((await rt.apply(ws)).status, 'RUNNING');
    } finally {
      unsubscribe();
    }
    const before = changed.length;
    // A second watcher, still subscribed, proves the stop's events were sent and delivered: by the
    // time it has them, the first one would have had them too.
    const witness: string[] = [];
    const unsubscribeWitness = rt.watch((n) => witness.push(n));
    try {
      await rt.apply({ ...ws, desired: 'stopped' });
      await waitFor('the stop events, at a watcher still subscribed', () => (witness.includes(name) ? true : undefined), 20_000);
    } finally {
      unsubscribeWitness();
    }
    assert.equal(changed.length, before, 'no callbacks after unsubscribe');
  });

  test('a container with the workspace\'s name that wsm does not manage is never touched', async () => {
    const name = uniqueName(runId, 'foreign');
    const foreign = await dockerClient().createContainer({
      name: `wsm-${name}`,
      Image: TEST_IMAGE,
      Labels: { [TEST_RUN_LABEL]: runId, owner: 'someone-else' },
    });
    const ws = testWorkspace(name, { env: [{ name: 'X', value: '1' }] });
    const isConflict = (err: unknown) =>
      err instanceof PermanentRuntimeError && err.reason === 'NameConflict' && err.message.includes(`wsm-${name}`);
    await assert.rejects(rt.apply(ws), isConflict);
    await assert.rejects(rt.observe(ws), isConflict);
    await rt.remove(ws, { deleteVolume: true });

    const info = await foreign.inspect();
    assert.equal(info.State.Status, 'created', 'not started');
    assert.deepEqual(info.Config.Labels, { [TEST_RUN_LABEL]: runId, owner: 'someone-else' });
    assert.equal((await rt.listInstances()).includes(name), false);
  });

  test('a missing image that cannot be pulled is an ImagePullFailed error, not a hang', async () => {
    const image = `wsm-test/missing-${runId}:1`;
    const ws = testWorkspace(uniqueName(runId, 'noimg'), { image });
    await assert.rejects(rt.apply(ws), (err: unknown) => {
      assert.ok(err instanceof PermanentRuntimeError);
      assert.equal(err.reason, 'ImagePullFailed');
      const prefix = `image ${image} not found and could not be pulled: `;
      assert.ok(err.message.startsWith(prefix), err.message);
      assert.ok(err.message.length > prefix.length, 'the engine\'s reason is included');
      return true;
    });
    assert.equal((await rt.observe(ws)).status, 'UNAVAILABLE');
  });

  test('a patch to a missing image leaves the running container alone', async () => {
    const ws = testWorkspace(uniqueName(runId, 'keep'));
    await rt.apply(ws);
    const id = (await dockerClient().getContainer(`wsm-${ws.name}`).inspect()).Id;
    await assert.rejects(rt.apply({ ...ws, generation: 2, image: `wsm-test/missing-${runId}:2` }), /could not be pulled/);
    const info = await dockerClient().getContainer(`wsm-${ws.name}`).inspect();
    assert.equal(info.Id, id);
    assert.equal(info.State.Running, true);
  });

  test('an engine that cannot be reached is an error that says so', async () => {
    const away = new DockerRuntime({ dockerHost: 'unix:///tmp/wsm-no-such-docker.sock' });
    await assert.rejects(away.observe(testWorkspace('nobody')), /docker engine unreachable at unix:\/\/\/tmp\/wsm-no-such-docker\.sock/);
    await away.close();
  });
});
