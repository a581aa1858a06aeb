// Pre-start scripts on the real engine: copied into the container, run before the main process
// on every start, and reported when they fail or hang.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerRuntime } from '../../../src/runtimes/docker/index.js';
import type { ObservedInstance, RuntimeWorkspace } from '../../../src/core/runtime.js';
import {
  cleanupDocker,
  dockerClient,
  dockerSkipReason,
  ensureDocker,
  httpGetText,
  newRunId,
  testRuntimeOptions,
  testWorkspace,
  uniqueName,
  waitFor,
} from '../../support/docker.js';

const runId = newRunId();

const withHook = (name: string, script: string, overrides: Partial<RuntimeWorkspace> = {}): RuntimeWorkspace =>
  testWorkspace(name, { hooks: { pre_start: { path: 'hooks/pre.sh', content: Buffer.from(script) } }, ...overrides });

function observeUntil(rt: DockerRuntime, ws: RuntimeWorkspace, status: string): Promise<ObservedInstance> {
  return waitFor(`status ${status}`, async () => {
    const o = await rt.observe(ws);
    return o.status === status ? o : undefined;
  }, 60_000);
}

describe('DockerRuntime on a real engine: pre-start scripts', { skip: dockerSkipReason() }, () => {
  const rt = new DockerRuntime(testRuntimeOptions(runId, { preStartTimeoutSeconds: 2 }));

  before(async () => {
    await ensureDocker();
  });
  after(async () => {
    await rt.close();
    await cleanupDocker(runId);
  });

  test('runs before the main process, with the workspace env, on every start', async () => {
    const script = '#!/bin/sh\necho "prepared for $TEAM" > /home/src/index.html\necho run >> /home/src/runs.txt\n';
    let ws = withHook(uniqueName(runId, 'pre'), script, { env: [{ name: 'TEAM', value: 'data' }] });
    // Starting, not running, until the script has finished.
    assert.ok(['PENDING', 'RUNNING'].includes((await rt.apply(ws)).status));
    const observed = await observeUntil(rt, ws, 'RUNNING');
    assert.equal(await httpGetText(`${observed.url}/`), 'prepared for data\n');

    // The script is a file in the container, not a bind mount.
    const info = await dockerClient().getContainer(`wsm-${ws.name}`).inspect();
    assert.ok(!info.Mounts.some((m) => m.Destination.startsWith('/wsm')));
    assert.equal(info.Config.Cmd?.length ?? 0, 0);

    ws = { ...ws, desired: 'stopped' };
    assert.equal((await rt.apply(ws)).status, 'STOPPED');
    ws = { ...ws, desired: 'running' };
    await rt.apply(ws);
    const resumed = await observeUntil(rt, ws, 'RUNNING');
    assert.equal(await httpGetText(`${resumed.url}/runs.txt`), 'run\nrun\n');
  });

  test('a failing script fails the workspace with its exit code and output', async () => {
    const ws = withHook(uniqueName(runId, 'prefail'), '#!/bin/sh\necho "checking database"\necho "cannot reach database" >&2\nexit 3\n');
    await rt.apply(ws);
    const failed = await observeUntil(rt, ws, 'FAILED');
    assert.equal(failed.exit_code, 3);
    const condition = failed.conditions?.find((c) => c.type === 'PreStartFailed');
    assert.ok(condition, JSON.stringify(failed));
    assert.equal(condition.status, 'True');
    assert.equal(condition.reason, 'PreStartFailed');
    assert.equal(condition.message, 'pre-start script exited with code 3: checking database\ncannot reach database');
    assert.equal(failed.message, condition.message);
  });

  test('a script that hangs past the timeout fails the workspace', async () => {
    const ws = withHook(uniqueName(runId, 'prehang'), '#!/bin/sh\necho "waiting forever"\nsleep 600\n');
    await rt.apply(ws);
    const failed = await observeUntil(rt, ws, 'FAILED');
    const condition = failed.conditions?.find((c) => c.type === 'PreStartFailed');
    assert.ok(condition, JSON.stringify(failed));
    assert.match(condition.message ?? '', /^pre-start script timed out after 2s .*: waiting forever$/);
  });

  test('a changed script recreates the container and runs the new one', async () => {
    const name = uniqueName(runId, 'prechg');
    const one = withHook(name, '#!/bin/sh\necho one > /home/src/index.html\n');
    await rt.apply(one);
    const first = await observeUntil(rt, one, 'RUNNING');
    assert.equal(await httpGetText(`${first.url}/`), 'one\n');
    const two = withHook(name, '#!/bin/sh\necho two > /home/src/index.html\n', { generation: 2 });
    await rt.apply(two);
    const second = await observeUntil(rt, two, 'RUNNING');
    assert.equal(second.generation, 2);
    assert.equal(await httpGetText(`${second.url}/`), 'two\n');
  });
});
