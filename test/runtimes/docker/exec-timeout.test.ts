// A hook exec'd into a workspace container that runs past its timeout, or whose caller gives up,
// is ended inside the container: afterwards no process of it runs there (checked with `ps` in the
// container, as an operator would), children and a process that left its group included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerRuntime } from '../../../src/runtimes/docker/index.js';
import type { RuntimeWorkspace } from '../../../src/core/runtime.js';
import { cleanupDocker, dockerCli, dockerSkipReason, ensureDocker, newRunId, testRuntimeOptions, testWorkspace, uniqueName, waitFor } from '../../support/docker.js';

const runId = newRunId();

/** The live (not zombie) processes in the container whose command line mentions `needle`. */
async function running(ws: RuntimeWorkspace, needle: string): Promise<string[]> {
  const table = await dockerCli('exec', `wsm-${ws.name}`, 'ps', '-o', 'pid,stat,args');
  return table.split('\n').slice(1).filter((line) => line.includes(needle) && !/^\s*\d+\s+Z/.test(line) && !line.includes('ps -o'));
}

describe('DockerRuntime on a real engine: an exec that runs out of time', { skip: dockerSkipReason() }, () => {
  const rt = new DockerRuntime(testRuntimeOptions(runId));
  const ws = testWorkspace(uniqueName(runId, 'hang'));

  before(async () => {
    await ensureDocker();
    assert.equal((await rt.apply(ws)).status, 'RUNNING');
  });
  after(async () => {
    await rt.close();
    await cleanupDocker(runId);
  });

  test('timed out: the command and what it started are ended inside the container', { timeout: 60_000 }, async () => {
    // A hook shell with a child in the foreground, one in the background, and one in its own session.
    const hook = 'sleep 301 & setsid sleep 302 & sleep 300; echo never';
    const started = rt.exec(ws, ['sh', '-c', hook], 1_500);
    await waitFor('the hook to be running', async () => ((await running(ws, 'sleep 30')).length >= 3 ? true : undefined), 10_000, 100);
    const result = await started;
    assert.equal(result.timed_out, true);
    assert.doesNotMatch(result.output, /never/);
    assert.deepEqual(await running(ws, 'sleep 30'), [], 'nothing of the hook runs on');
    assert.deepEqual(await running(ws, 'echo never'), []);
    // The workspace itself is untouched.
    assert.equal((await rt.observe(ws)).status, 'RUNNING');
  });

  test('cancelled by its caller: ended inside the container as well', { timeout: 60_000 }, async () => {
    const cancel = new AbortController();
    const started = rt.exec(ws, ['sh', '-c', 'sleep 310; echo never'], 600_000, cancel.signal);
    await waitFor('the hook to be running', async () => ((await running(ws, 'sleep 310')).length >= 1 ? true : undefined), 10_000, 100);
    cancel.abort(new Error('reconcile cancelled'));
    await assert.rejects(started, (err) => err === cancel.signal.reason);
    assert.deepEqual(await running(ws, 'sleep 310'), [], 'nothing of the hook runs on');
  });

  test('a command that finishes in time is not touched, and its exit code is kept', async () => {
    const r = await rt.exec(ws, ['sh', '-c', 'echo done; exit 4'], 30_000);
    assert.equal(r.timed_out, false);
    assert.equal(r.exit_code, 4);
    assert.match(r.output, /done/);
  });
});
