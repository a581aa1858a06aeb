import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Semaphore } from '../../src/lib/semaphore.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('at most `limit` run at once; the others start in arrival order as permits come back', async () => {
  const sem = new Semaphore(2);
  const gates = [deferred(), deferred(), deferred(), deferred()];
  const began: number[] = [];
  const runs = gates.map((g, i) => sem.run(async () => {
    began.push(i);
    await g.promise;
  }));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(began, [0, 1]);
  assert.equal(sem.held, 2);
  assert.equal(sem.waiting, 2);
  gates[1]!.resolve();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(began, [0, 1, 2]);
  for (const g of gates) g.resolve();
  await Promise.all(runs);
  assert.deepEqual(began, [0, 1, 2, 3]);
  assert.equal(sem.held, 0);
});

test('a permit comes back when the holder throws; a waiter whose signal aborts leaves the line without running', async () => {
  const sem = new Semaphore(1);
  const hold = deferred();
  const first = sem.run(async () => {
    await hold.promise;
    throw new Error('boom');
  });
  const abort = new AbortController();
  let ran = false;
  const leaving = sem.run(async () => {
    ran = true;
  }, abort.signal);
  abort.abort(new Error('cancelled'));
  await assert.rejects(leaving, /cancelled/);
  assert.equal(sem.waiting, 0);
  hold.resolve();
  await assert.rejects(first, /boom/);
  assert.equal(sem.held, 0);
  await sem.run(async () => undefined);
  assert.equal(ran, false);
  assert.throws(() => new Semaphore(0), /at least 1/);
});
