// The controller's work queue: one worker per key, parallel keys, and a turn for the event loop
// between runs of work that never waits (a reconcile answered synchronously by SQLite and a runtime
// with nothing to do), so that HTTP requests are answered during a resync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../src/controller/work-queue.js';

const options = { concurrency: 4, baseDelayMs: 10, maxDelayMs: 100, requeueDelayMs: 10 };

/** Keeps the thread busy, as decoding and writing a workspace does. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('work that never waits still lets the event loop run between keys', async () => {
  let processed = 0;
  const queue = new WorkQueue(async () => {
    busyFor(0.2);
    processed++;
    return 'done';
  }, options);
  const keys = 200;
  let processedWhenLoopRan: number | undefined;
  setImmediate(() => (processedWhenLoopRan = processed));
  for (let i = 0; i < keys; i++) queue.add(`k${i}`);
  await queue.drained();
  assert.equal(processed, keys);
  assert.ok(processedWhenLoopRan !== undefined && processedWhenLoopRan < keys, `the loop ran only after ${processedWhenLoopRan} of ${keys} keys (about 40 ms of work)`);
  queue.stop();
});

test('each key is handled once per add, and a key added while it runs runs once more after', async () => {
  const seen: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const queue = new WorkQueue(async (key) => {
    seen.push(key);
    if (key === 'a' && seen.filter((k) => k === 'a').length === 1) await gate;
    return 'done';
  }, options);
  queue.add('a');
  queue.add('b');
  queue.add('a'); // running: marked to run again
  release();
  await queue.drained();
  assert.deepEqual(seen.filter((k) => k === 'a').length, 2);
  assert.deepEqual(seen.filter((k) => k === 'b').length, 1);
  queue.stop();
});
