// The controller's work queue: one worker per key, parallel keys, and a turn for the event loop
// between runs of work that never waits (a reconcile answered synchronously by SQLite and a runtime
// with nothing to do), so that HTTP requests are answered during a resync; a key is looked at again
// when its handler asks, retried with backoff when it fails, and cancelled at its deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineExceeded, WorkQueue } from '../../src/controller/work-queue.js';

const options = { concurrency: 4, baseDelayMs: 10, maxDelayMs: 100, deadlineMs: 60_000 };

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
    return {};
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
    return {};
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

/** Lets promise callbacks run (the queue's own awaits) without moving the mocked clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

test('a key whose handler asks to be looked at again after N ms runs again then, not before', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const runs: number[] = [];
  let clock = 0;
  const queue = new WorkQueue(async () => {
    runs.push(clock);
    return runs.length === 1 ? { requeueAfterMs: 5_000 } : {};
  }, options);
  queue.add('k');
  await settle();
  assert.deepEqual(runs, [0]);
  clock = 4_999;
  t.mock.timers.tick(4_999);
  await settle();
  assert.deepEqual(runs, [0], 'not before the time asked for');
  clock = 5_000;
  t.mock.timers.tick(1);
  await settle();
  assert.deepEqual(runs, [0, 5_000], 'run again once the time has come');
  t.mock.timers.tick(60_000);
  await settle();
  assert.equal(runs.length, 2, 'an empty result asks for nothing more');
  queue.stop();
});

test('a failing key is retried after a backoff that grows, and a success forgets it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let failuresLeft = 3;
  let runs = 0;
  const errors: number[] = [];
  // base 1,000 ms, jitter at most 20 %: retries come after 800..1,200, then 1,600..2,400, then 3,200..4,800 ms.
  const queue = new WorkQueue(async () => {
    runs++;
    if (failuresLeft-- > 0) throw new Error('engine away');
    return {};
  }, { ...options, baseDelayMs: 1_000, maxDelayMs: 10_000 }, (_key, _err, attempt) => errors.push(attempt));
  queue.add('k');
  await settle();
  for (const [before, after] of [[799, 1_200], [1_599, 2_400], [3_199, 4_800]] as const) {
    const runsBefore = runs;
    t.mock.timers.tick(before);
    await settle();
    assert.equal(runs, runsBefore, `no retry before ${before} ms`);
    t.mock.timers.tick(after - before);
    await settle();
    assert.equal(runs, runsBefore + 1, `retried by ${after} ms`);
  }
  assert.deepEqual(errors, [1, 2, 3]);
  assert.equal(queue.failureCount('k'), 0, 'the success forgot the failures');
  queue.stop();
});

test("a run past its deadline has its signal aborted with the reason, and is retried", async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const reasons: unknown[] = [];
  let runs = 0;
  const queue = new WorkQueue(async (_key, signal) => {
    runs++;
    if (runs > 1) return {};
    // A runtime call that only ends when cancelled.
    await new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    return {};
  }, { ...options, deadlineMs: 30_000 }, (_key, err) => reasons.push(err));
  queue.add('k');
  await settle();
  t.mock.timers.tick(29_999);
  await settle();
  assert.equal(reasons.length, 0);
  t.mock.timers.tick(1);
  await settle();
  assert.equal(reasons.length, 1);
  assert.ok(reasons[0] instanceof DeadlineExceeded, String(reasons[0]));
  t.mock.timers.tick(options.maxDelayMs * 2);
  await settle();
  assert.equal(runs, 2, 'retried after the backoff');
  queue.stop();
});

test('stop() cancels runs in progress through their signal', async () => {
  let signalSeen: AbortSignal | undefined;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const queue = new WorkQueue(async (_key, signal) => {
    signalSeen = signal;
    started();
    await new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    return {};
  }, options);
  queue.add('k');
  await running;
  queue.stop();
  assert.equal(signalSeen?.aborted, true);
});
