// A control plane killed after it started a workspace's process group but before recording it in
// state.json leaves a group nobody knows. The next runtime ends such groups (found by the launch
// wrapper's arguments) before it acts, and leaves every recorded group alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRuntime } from '../../../src/runtimes/local/index.js';
import { pidAlive, readJson, sandbox, waitFor, workspace, type Sandbox } from './helpers.js';

let box: Sandbox;
const runtimes: LocalRuntime[] = [];
const spawned: number[] = [];
before(() => {
  box = sandbox();
});
after(async () => {
  for (const rt of runtimes) await rt.close();
  // Should the runtime have left them (the test failing), they go here.
  for (const pgid of spawned) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already ended.
    }
  }
  box.cleanup();
});

/** A group led by a wrapper with the launch wrapper's arguments for `name`, as a killed control plane leaves it. */
function unrecordedGroup(name: string): number {
  mkdirSync(join(box.root, name, 'run'), { recursive: true });
  const child = spawn('/bin/sh', ['-c', 'sleep 3600; true', 'wsm-launch', join(box.root, name, 'run', 'exit_code')], { detached: true, stdio: 'ignore' });
  child.unref();
  assert.ok(child.pid);
  spawned.push(child.pid);
  return child.pid;
}

test('groups no state.json names are ended at the next runtime\'s first apply; recorded ones run on', async () => {
  const first = new LocalRuntime({ rootDir: box.root, stopGraceMs: 1000 });
  runtimes.push(first);
  const kept = workspace('kept', { command: ['sleep', '3600'] });
  assert.equal((await first.apply(kept)).status, 'RUNNING');
  const recorded = readJson<{ pgid: number }>(join(box.root, 'kept', 'state.json'))!.pgid;

  // One beside a recorded group of the same workspace, one of a workspace whose start was never recorded.
  const besideKept = unrecordedGroup('kept');
  const neverRecorded = unrecordedGroup('ghost');
  await waitFor(() => pidAlive(besideKept) && pidAlive(neverRecorded), 'the unrecorded groups to run');

  const next = new LocalRuntime({ rootDir: box.root, stopGraceMs: 1000 });
  runtimes.push(next);
  const other = workspace('other', { command: ['sleep', '3600'] });
  assert.equal((await next.apply(other)).status, 'RUNNING');
  assert.equal(pidAlive(besideKept), false, 'the group beside the recorded one is ended');
  assert.equal(pidAlive(neverRecorded), false, 'the group of a start never recorded is ended');
  assert.equal(pidAlive(recorded), true, 'the recorded group runs on');
  assert.equal((await next.observe(kept)).status, 'RUNNING');
  assert.equal(pidAlive(readJson<{ pgid: number }>(join(box.root, 'other', 'state.json'))!.pgid), true, 'what the runtime started itself runs');
});
