// A command run in a local workspace (post-start, probes) ends when its caller's signal is aborted:
// the whole process group is killed and the run rejects with the signal's reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { runCaptured } from '../../../src/runtimes/local/exec.js';

test('an aborted run kills what it started and rejects with the reason', { timeout: 30_000 }, async () => {
  const cancel = new AbortController();
  // Ten minutes of work, a child of its own in the group included; the process exists once runCaptured returns.
  const running = runCaptured(['sh', '-c', 'sleep 600 & wait'], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 600_000, signal: cancel.signal });
  cancel.abort(new Error('reconcile cancelled'));
  await assert.rejects(running, (err) => err === cancel.signal.reason);
});

test('a run whose signal is already aborted starts nothing', async () => {
  const reason = new Error('too late');
  await assert.rejects(runCaptured(['sh', '-c', 'exit 0'], { cwd: tmpdir(), env: {}, timeoutMs: 1_000, signal: AbortSignal.abort(reason) }), (err) => err === reason);
});
