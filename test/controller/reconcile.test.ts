// reconcile(name, signal): says when to look again, hands its signal to every runtime call, and is
// woken by the store's change feed when a request writes, with no call from the request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Controller } from '../../src/controller/controller.js';
import { withoutChanges } from '../../src/cli/leader-duties.js';
import type { ObservedInstance, RemoveOptions, Runtime, RuntimeWorkspace } from '../../src/core/runtime.js';
import type { InstanceStatus } from '../../src/core/types.js';
import { operation, workspace } from '../store/fixtures.js';
import { sqliteStores } from '../store/sqlite-stores.js';

const withStore = sqliteStores('wsm-reconcile-test-');
const logger = pino({ level: 'silent' });

/** Reports what it is told to, and remembers the signal of every call. */
class ScriptedRuntime implements Runtime {
  readonly clusterType = 'docker' as const;
  readonly supportsIngress = false;
  readonly signals: AbortSignal[] = [];
  status: InstanceStatus = 'PENDING';

  async apply(ws: RuntimeWorkspace, signal: AbortSignal): Promise<ObservedInstance> {
    this.signals.push(signal);
    signal.throwIfAborted();
    return { status: this.status, generation: ws.generation, instance_name: ws.name };
  }

  async observe(ws: RuntimeWorkspace, signal: AbortSignal): Promise<ObservedInstance> {
    return this.apply(ws, signal);
  }

  async remove(_ws: RuntimeWorkspace, _options: RemoveOptions, signal: AbortSignal): Promise<void> {
    this.signals.push(signal);
  }

  async close(): Promise<void> {}
}

test('a workspace still converging asks to be looked at again; a settled one asks for nothing', async () => {
  await withStore(async (store, dataDir) => {
    const runtime = new ScriptedRuntime();
    // Not woken by the feed: a queued reconcile of its own beside the test's calls would make the runtime's last signal its own.
    const controller = new Controller(withoutChanges(store), new Map([['docker', runtime]]), logger, { hooksDir: dataDir, defaultImage: 'wsm-test/busybox:1', progressRequeueMs: 1_234 });
    try {
      await store.insertWorkspace(workspace('w'));
      await store.insertOperation(operation('op-w', 'w'));
      const signal = new AbortController().signal;
      assert.deepEqual(await controller.reconcile('w', signal), { requeueAfterMs: 1_234 }, 'PENDING: look again');
      assert.equal(runtime.signals.at(-1), signal, 'the runtime got the reconcile signal');
      runtime.status = 'RUNNING';
      assert.deepEqual(await controller.reconcile('w', signal), {}, 'RUNNING as asked: nothing more');
      assert.equal((await store.getOperation('op-w'))?.state, 'succeeded');
      assert.deepEqual(await controller.reconcile('gone', signal), {}, 'no such workspace: nothing to do');
    } finally {
      await controller.stop();
    }
  });
});

test('an aborted signal ends the reconcile with its reason, to be retried', async () => {
  await withStore(async (store, dataDir) => {
    const runtime = new ScriptedRuntime();
    const controller = new Controller(withoutChanges(store), new Map([['docker', runtime]]), logger, { hooksDir: dataDir, defaultImage: 'wsm-test/busybox:1' });
    try {
      await store.insertWorkspace(workspace('a'));
      await store.insertOperation(operation('op-a', 'a'));
      await assert.rejects(controller.reconcile('a', AbortSignal.abort(new Error('deadline passed'))), /deadline passed/);
      const op = await store.getOperation('op-a');
      assert.equal(op?.state, 'running', 'still open: a retry carries it on');
      assert.equal(op?.error, 'deadline passed');
    } finally {
      await controller.stop();
    }
  });
});

test("a request's write wakes the reconciler through the change feed, with no call from the request", async () => {
  await withStore(async (store, dataDir) => {
    const runtime = new ScriptedRuntime();
    runtime.status = 'RUNNING';
    const controller = new Controller(store, new Map([['docker', runtime]]), logger, { hooksDir: dataDir, defaultImage: 'wsm-test/busybox:1', resyncIntervalMs: 3_600_000 });
    await controller.start();
    try {
      // What POST /api/workspaces writes, in one transaction; nobody tells the controller.
      await store.transaction(async (tx) => {
        await tx.insertWorkspace(workspace('n'));
        await tx.insertOperation(operation('op-n', 'n'));
      });
      const until = Date.now() + 10_000;
      while ((await store.getOperation('op-n'))?.state !== 'succeeded' && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      assert.equal((await store.getOperation('op-n'))?.state, 'succeeded');
      assert.equal((await store.getWorkspace('n'))?.observed.status, 'RUNNING');
    } finally {
      await controller.stop();
    }
    assert.equal(store.changes.listenerCount, 0, 'stop() unsubscribes the controller');
  });
});

test('a workspace that cannot settle is looked at less and less often, up to a cap, and at once again when it moves', async () => {
  await withStore(async (store, dataDir) => {
    const runtime = new ScriptedRuntime();
    const controller = new Controller(withoutChanges(store), new Map([['docker', runtime]]), logger, {
      hooksDir: dataDir, defaultImage: 'wsm-test/busybox:1', progressRequeueMs: 1_000, unsettledMaxMs: 8_000,
    });
    try {
      await store.insertWorkspace(workspace('stuck'));
      await store.insertOperation(operation('op-stuck', 'stuck'));
      const signal = new AbortController().signal;
      const delays: number[] = [];
      for (let i = 0; i < 7; i++) delays.push((await controller.reconcile('stuck', signal)).requeueAfterMs!);
      assert.equal(delays[0], 1_000, 'the first look after the apply: on time');
      // Each pass that changes nothing doubles the wait (±20 % jitter), up to the cap.
      for (const [i, expected] of [[2, 2_000], [3, 4_000], [4, 8_000], [5, 8_000], [6, 8_000]] as const) {
        assert.ok(delays[i]! >= expected * 0.8 && delays[i]! <= expected * 1.2, `pass ${i + 1}: ${delays[i]} ms, about ${expected}: ${delays}`);
      }
      runtime.status = 'PROVISIONING';
      assert.deepEqual(await controller.reconcile('stuck', signal), { requeueAfterMs: 1_000 }, 'it moved: looked at on time again');
    } finally {
      await controller.stop();
    }
  });
});
