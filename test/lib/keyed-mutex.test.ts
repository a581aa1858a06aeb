// Work under one key runs one at a time, in the order it came; other keys are not held up by it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedMutex } from '../../src/lib/keyed-mutex.js';

/** A promise and the functions that settle it, for steps a test releases itself. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

test('one key: the second waits until the first is done, and they run in arrival order', async () => {
  const mutex = new KeyedMutex();
  const steps: string[] = [];
  const first = gate();
  const a = mutex.run('ws1', async () => {
    steps.push('a start');
    await first.promise;
    steps.push('a end');
  });
  const b = mutex.run('ws1', async () => {
    steps.push('b');
  });
  // b cannot have started: a holds the key until its gate opens.
  await Promise.resolve();
  assert.deepEqual(steps, ['a start']);
  first.open();
  await Promise.all([a, b]);
  assert.deepEqual(steps, ['a start', 'a end', 'b']);
});

test('another key runs while the first is held', async () => {
  const mutex = new KeyedMutex();
  const held = gate();
  const a = mutex.run('ws1', () => held.promise);
  assert.equal(await mutex.run('ws2', async () => 'ran'), 'ran');
  held.open();
  await a;
});

test('a failure is the caller\'s, and releases the key for the next', async () => {
  const mutex = new KeyedMutex();
  await assert.rejects(mutex.run('ws1', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await mutex.run('ws1', async () => 2), 2);
});
