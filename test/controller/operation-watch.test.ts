// Controller.watchOperation listens from before an operation is written, so a change made at once by a
// reconcile already running is not missed, and the answer needs no read of the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Controller } from '../../src/controller/controller.js';
import { operation, workspace } from '../store/fixtures.js';
import { sqliteStores } from '../store/sqlite-stores.js';

const withStore = sqliteStores('wsm-operation-watch-test-');
const logger = pino({ level: 'silent' });

test('a change emitted before wait is called answers it at once, with what was emitted', async () => {
  await withStore(async (store, dataDir) => {
    const controller = new Controller(store, new Map(), logger, { hooksDir: dataDir, defaultImage: 'wsm-test/busybox:1' });
    const op = operation('op-early', 'w');
    const watch = controller.watchOperation(op.id);
    // Written and settled before the caller gets to wait (as a reconcile already running could).
    await store.insertWorkspace(workspace('w'));
    await store.insertOperation(op);
    controller.emit('operation', { ...op, id: 'someone-else', state: 'succeeded' });
    controller.emit('operation', { ...op, state: 'succeeded', attempts: 1 });
    const answered = await watch.wait(10_000);
    // Only the timeout reads the store, where the operation is still pending: succeeded is the emitted record.
    assert.equal(answered?.state, 'succeeded', 'the emitted record, not the stored one (still pending)');
    assert.equal(controller.listenerCount('operation'), 0, 'the listener is gone once answered');
  });
});

test('an operation not yet tried keeps the caller waiting; its first attempt answers', async () => {
  await withStore(async (store, dataDir) => {
    const controller = new Controller(store, new Map(), logger, { hooksDir: dataDir, defaultImage: 'wsm-test/busybox:1' });
    const watch = controller.watchOperation('op-later');
    controller.emit('operation', { ...operation('op-later', 'w'), state: 'pending', attempts: 0 });
    // wait() weighs what was seen at once, and each later emit as it comes (all synchronously); an
    // answer removes the listener. So a listener still there after them means: not answered.
    const waiting = watch.wait(10_000);
    assert.equal(controller.listenerCount('operation'), 1, 'pending and never tried: not accepted yet');
    controller.emit('operation', { ...operation('op-later', 'w'), state: 'pending', attempts: 0 });
    assert.equal(controller.listenerCount('operation'), 1, 'a second pending record does not answer either');
    controller.emit('operation', { ...operation('op-later', 'w'), state: 'running', attempts: 1 });
    assert.equal(controller.listenerCount('operation'), 0, 'the first attempt answers at once');
    assert.equal((await waiting)?.state, 'running');
  });
});

test('without any change the wait ends at its timeout with the stored record; cancel stops listening', async () => {
  await withStore(async (store, dataDir) => {
    const controller = new Controller(store, new Map(), logger, { hooksDir: dataDir, defaultImage: 'wsm-test/busybox:1' });
    await store.insertWorkspace(workspace('w'));
    const op = operation('op-quiet', 'w');
    await store.insertOperation(op);
    const answered = await controller.watchOperation(op.id).wait(30);
    assert.equal(answered?.id, op.id);
    assert.equal(answered?.state, op.state);
    const cancelled = controller.watchOperation('op-never');
    assert.equal(controller.listenerCount('operation'), 1);
    cancelled.cancel();
    assert.equal(controller.listenerCount('operation'), 0);
  });
});
