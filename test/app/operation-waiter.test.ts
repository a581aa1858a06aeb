// A request waits for its operation through the store's change feed: it listens from before the
// operation is written (a reconcile already running may carry it out at once), answers from what the
// store published without reading it back, and leaves no listener behind however its wait ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { OperationWaiter } from '../../src/app/operation-waiter.js';
import { ChangeFeed } from '../../src/store/change-feed.js';
import { operation, workspace } from '../store/fixtures.js';
import { sqliteStores } from '../store/sqlite-stores.js';

const withStore = sqliteStores('wsm-operation-waiter-test-');

test('a change committed before wait is called answers it at once, with what was written', async () => {
  await withStore(async (store) => {
    const waiter = new OperationWaiter(store.changes);
    const op = operation('op-early', 'w');
    const watch = waiter.watch(op);
    // Written and settled before the caller gets to wait (as a reconcile already running could).
    await store.insertWorkspace(workspace('w'));
    await store.insertOperation(op);
    await store.insertOperation({ ...op, id: 'someone-else' });
    await store.updateOperation('someone-else', { state: 'failed', attempts: 1 });
    await store.updateOperation(op.id, { state: 'succeeded', attempts: 1, finished_at: '2024-01-01T00:00:01.000Z' });
    const answered = await watch.wait(60_000);
    assert.equal(answered.state, 'succeeded');
    assert.equal(answered.finished_at, '2024-01-01T00:00:01.000Z');
    assert.deepEqual(answered, await store.getOperation(op.id), 'what was published is what the store holds');
    assert.equal(waiter.watching, 0);
    assert.equal(store.changes.listenerCount, 0, 'the listener is gone once answered');
  });
});

test('an operation not yet tried keeps the caller waiting; its first attempt answers', async () => {
  const feed = new ChangeFeed();
  const waiter = new OperationWaiter(feed);
  const op = operation('op-later', 'w');
  const watch = waiter.watch(op);
  // wait() weighs the record at once, and each later change as it is published (all synchronously);
  // an answer ends the watch. So a watch still there after a publish means: not answered.
  const waiting = watch.wait(60_000);
  assert.equal(waiter.watching, 1, 'pending and never tried: not taken yet');
  feed.publish({ kind: 'operation-updated', id: op.id, patch: { state: 'running', started_at: '2024-01-01T00:00:00.500Z' } });
  assert.equal(waiter.watching, 1, 'running but never tried: not taken either');
  feed.publish({ kind: 'operation-updated', id: op.id, patch: { attempts: 1, error: 'engine away' } });
  assert.equal(waiter.watching, 0, 'the first attempt answers at once');
  const record = await waiting;
  assert.equal(record.state, 'running');
  assert.equal(record.attempts, 1);
  assert.equal(record.error, 'engine away');
});

test('without any change the wait ends at its timeout with the record as it stands; cancel stops listening', async () => {
  const feed = new ChangeFeed();
  const waiter = new OperationWaiter(feed);
  const op = operation('op-quiet', 'w');
  const answered = await waiter.watch(op).wait(30);
  assert.equal(answered.id, op.id);
  assert.equal(answered.state, op.state);
  assert.equal(feed.listenerCount, 0);
  const cancelled = waiter.watch(operation('op-never', 'w'));
  assert.equal(feed.listenerCount, 1);
  cancelled.cancel();
  assert.equal(feed.listenerCount, 0);
  assert.equal(waiter.watching, 0);
});

test('a wait aborted by its signal settles at once with the reason, and stops listening', async () => {
  const feed = new ChangeFeed();
  const waiter = new OperationWaiter(feed);
  const controller = new AbortController();
  const waiting = waiter.watch(operation('op-abandoned', 'w')).wait(60_000, controller.signal);
  assert.equal(waiter.watching, 1);
  controller.abort(new Error('client went away'));
  await assert.rejects(waiting, /client went away/);
  assert.equal(waiter.watching, 0);
  assert.equal(feed.listenerCount, 0);
  // Aborted before the wait began: no listener is left either.
  await assert.rejects(waiter.watch(operation('op-late', 'w')).wait(60_000, AbortSignal.abort(new Error('too late'))), /too late/);
  assert.equal(waiter.watching, 0);
  assert.equal(feed.listenerCount, 0);
});

test('a thousand waits, however they end, leave the feed and the signals with no listener', async () => {
  const feed = new ChangeFeed();
  const waiter = new OperationWaiter(feed);
  const other = feed.subscribe(() => {});
  const before = feed.listenerCount;
  const signal = new AbortController().signal;
  setMaxListeners(0, signal); // a thousand waits at once on one signal is what this test does
  let signalListeners = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => {
    signalListeners++;
    add(...args);
  };
  signal.removeEventListener = (...args: Parameters<AbortSignal['removeEventListener']>) => {
    signalListeners--;
    remove(...args);
  };
  const waits: Promise<unknown>[] = [];
  for (let i = 0; i < 1_000; i++) {
    const op = operation(`op-${i}`, 'w');
    const wait = waiter.watch(op).wait(i % 3 === 0 ? 1 : 60_000, signal);
    if (i % 3 !== 0) feed.publish({ kind: 'operation-updated', id: op.id, patch: { state: i % 2 ? 'succeeded' : 'failed', attempts: 1 } });
    waits.push(wait);
  }
  assert.equal(feed.listenerCount, before + 1, 'all waits share one subscription');
  const answers = await Promise.all(waits);
  assert.equal(answers.length, 1_000);
  assert.equal(waiter.watching, 0);
  assert.equal(feed.listenerCount, before, 'the shared subscription is gone with the last wait');
  assert.equal(signalListeners, 0, "no wait left a listener on the caller's signal");
  other();
});
