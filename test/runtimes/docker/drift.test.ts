// The drift check must never take wsm's own containers for drift: a runtime that did not make them
// (a wsm started again) reads back containers of every shape wsm makes (limits, command and args, a
// working directory, a pre-start wrapper, a fixed host port, env) and leaves each as it is. A
// repair there would recreate every workspace at every start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { DockerRuntime } from '../../../src/runtimes/docker/index.js';
import type { RuntimeWorkspace } from '../../../src/core/runtime.js';
import { cleanupDocker, dockerClient, dockerSkipReason, ensureDocker, newRunId, testRuntimeOptions, testWorkspace, uniqueName } from '../../support/docker.js';

const runId = newRunId();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

describe('DockerRuntime on a real engine: the drift check and wsm-made containers', { skip: dockerSkipReason() }, () => {
  const maker = new DockerRuntime(testRuntimeOptions(runId));
  const later = new DockerRuntime(testRuntimeOptions(runId));

  before(async () => {
    await ensureDocker();
  });
  after(async () => {
    await maker.close();
    await later.close();
    await cleanupDocker(runId);
  });

  test('containers of every shape, made by one runtime, are not repaired by the next', async () => {
    const shapes: RuntimeWorkspace[] = [
      testWorkspace(uniqueName(runId, 'plain')),
      testWorkspace(uniqueName(runId, 'limits'), {
        env: [{ name: 'A', value: 'x=y' }, { name: 'EMPTY', value: '' }],
        container: { resources: { limits: { memory: '64Mi', cpu: '500m' }, requests: { memory: '32Mi', cpu: '250m' } } },
      }),
      testWorkspace(uniqueName(runId, 'cmd'), { container: { command: ['sh', '-c'], args: ['exec httpd -f -p 6789 -h /home/src'], working_dir: '/tmp' } }),
      testWorkspace(uniqueName(runId, 'args'), { container: { args: ['/bin/httpd', '-f', '-p', '6789', '-h', '/tmp'] } }),
      testWorkspace(uniqueName(runId, 'port'), { container: { host_port: await freePort() } }),
      testWorkspace(uniqueName(runId, 'hook'), { hooks: { pre_start: { path: 'hooks/pre.sh', content: Buffer.from('#!/bin/sh\necho ready\n') } } }),
      testWorkspace(uniqueName(runId, 'stopped'), { desired: 'stopped' }),
    ];
    for (const ws of shapes) {
      await maker.apply(ws);
      const id = (await dockerClient().getContainer(`wsm-${ws.name}`).inspect()).Id;
      const seen = await later.observe(ws);
      assert.ok(!seen.conditions?.some((c) => c.type === 'Repaired'), `${ws.name}: ${JSON.stringify(seen.conditions)}`);
      await later.apply(ws);
      assert.equal((await dockerClient().getContainer(`wsm-${ws.name}`).inspect()).Id, id, `${ws.name}: the same container`);
    }
  });
});
