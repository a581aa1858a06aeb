// The Docker runtime reports a container's CPU time and network bytes from the engine's stats.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerRuntime } from '../../../src/runtimes/docker/index.js';
import { cleanupDocker, dockerSkipReason, ensureDocker, newRunId, testRuntimeOptions, testWorkspace, uniqueName } from '../../support/docker.js';

const runId = newRunId();

describe('DockerRuntime usage on a real engine', { skip: dockerSkipReason() }, () => {
  const rt = new DockerRuntime(testRuntimeOptions(runId));
  before(async () => {
    await ensureDocker();
  });
  after(async () => {
    await rt.close();
    await cleanupDocker(runId);
  });

  test('a busy container shows CPU time growing, an idle one barely; a stopped one has no sample', async () => {
    const busy = testWorkspace(uniqueName(runId, 'busy'), { container: { command: ['/bin/sh', '-c', 'while :; do :; done'] } });
    const idle = testWorkspace(uniqueName(runId, 'idle'), { container: { command: ['/bin/sh', '-c', 'sleep 600'] } });
    await rt.apply(busy);
    await rt.apply(idle);
    const b1 = await rt.usage(busy);
    const i1 = await rt.usage(idle);
    await new Promise((r) => setTimeout(r, 1500));
    const b2 = await rt.usage(busy);
    const i2 = await rt.usage(idle);
    assert.ok(b1 && b2 && i1 && i2, 'running containers have samples');
    const cores = (a: typeof b1, b: typeof b1) => (b!.cpu_seconds! - a!.cpu_seconds!) / ((b!.at - a!.at) / 1000);
    assert.ok(cores(b1, b2) > 0.1, `the busy loop used ${cores(b1, b2)} cores`);
    assert.ok(cores(i1, i2) < 0.05, `the sleeping container used ${cores(i1, i2)} cores`);
    assert.equal(typeof b2.net_bytes, 'number', 'a container on a network has network counters');
    await rt.apply({ ...busy, desired: 'stopped' });
    assert.equal(await rt.usage(busy), undefined);
  });
});
