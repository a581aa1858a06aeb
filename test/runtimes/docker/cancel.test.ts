// A reconcile's signal reaches the engine calls: an apply whose signal is aborted makes nothing, and
// one aborted while the engine is busy (a stop waiting out a long grace period) ends with the reason
// instead of waiting for the engine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerRuntime } from '../../../src/runtimes/docker/index.js';
import { cleanupDocker, dockerClient, dockerSkipReason, ensureDocker, newRunId, testRuntimeOptions, testWorkspace, uniqueName } from '../../support/docker.js';

const runId = newRunId();

async function containerExists(name: string): Promise<boolean> {
  try {
    await dockerClient().getContainer(name).inspect();
    return true;
  } catch {
    return false;
  }
}

describe('DockerRuntime: cancellation through the signal', { skip: dockerSkipReason() }, () => {
  // A minute of grace: a stop of a process that ignores SIGTERM takes that long unless cancelled.
  const rt = new DockerRuntime(testRuntimeOptions(runId, { stopGraceSeconds: 60 }));

  before(async () => {
    await ensureDocker();
  });
  after(async () => {
    await rt.close();
    await cleanupDocker(runId);
  });

  test('an apply whose signal is already aborted creates nothing', async () => {
    const ws = testWorkspace(uniqueName(runId, 'pre'));
    await assert.rejects(rt.apply(ws, AbortSignal.abort(new Error('deadline passed'))), /deadline passed/);
    assert.equal(await containerExists(`wsm-${ws.name}`), false);
  });

  test('a stop cancelled while the engine waits out the grace period ends with the reason', { timeout: 40_000 }, async () => {
    // PID 1 of a container ignores SIGTERM unless it handles it: the engine waits the whole grace period.
    const ws = testWorkspace(uniqueName(runId, 'stop'), { container: { command: ['sh', '-c', 'while true; do sleep 1; done'] } });
    assert.equal((await rt.apply(ws, new AbortController().signal)).status, 'RUNNING');
    const cancel = new AbortController();
    const stopping = rt.apply({ ...ws, desired: 'stopped' }, cancel.signal);
    // Cancelled once the engine has the stop request (it then has nothing to answer for a minute).
    setTimeout(() => cancel.abort(new Error('reconcile cancelled')), 1_000);
    await assert.rejects(stopping, (err) => err === cancel.signal.reason);
  });

  test('an exec cancelled while its command runs ends with the reason, not at its timeout', { timeout: 40_000 }, async () => {
    const ws = testWorkspace(uniqueName(runId, 'exec'), { container: { command: ['sh', '-c', 'while true; do sleep 1; done'] } });
    assert.equal((await rt.apply(ws, new AbortController().signal)).status, 'RUNNING');
    const cancel = new AbortController();
    const running = rt.exec(ws, ['sh', '-c', 'echo started; sleep 600'], 600_000, cancel.signal);
    setTimeout(() => cancel.abort(new Error('reconcile cancelled')), 1_000);
    await assert.rejects(running, (err) => err === cancel.signal.reason);
  });
});
