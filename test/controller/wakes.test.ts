// A request's transaction publishes the workspace's change and then its operation's: together they wake
// one reconcile, which reads both. A second pass for the same commit would find nothing to do and only
// cost the request's server time (reads, the runtime's observe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Controller } from '../../src/controller/controller.js';
import type { ObservedInstance, Runtime, RuntimeWorkspace } from '../../src/core/runtime.js';
import { operation, workspace } from '../store/fixtures.js';
import { sqliteStores } from '../store/sqlite-stores.js';

const withStore = sqliteStores('wsm-wakes-test-');
const logger = pino({ level: 'silent' });

/** Succeeds at once, and counts how often it was asked anything. */
class CountingRuntime implements Runtime {
  readonly clusterType = 'docker' as const;
  readonly supportsIngress = false;
  calls = 0;

  async apply(ws: RuntimeWorkspace): Promise<ObservedInstance> {
    return this.observe(ws);
  }

  async observe(ws: RuntimeWorkspace): Promise<ObservedInstance> {
    this.calls++;
    return { status: ws.desired === 'running' ? 'RUNNING' : 'STOPPED', generation: ws.generation, instance_name: ws.name };
  }

  async remove(): Promise<void> {}

  async close(): Promise<void> {}
}

test("a request's transaction (the workspace and its operation) wakes one reconcile, not one per change", async () => {
  await withStore(async (store, dataDir) => {
    const running = workspace('w', { observed: { status: 'RUNNING', observed_generation: 1, conditions: [], updated_at: '2024-01-01T00:00:00.000Z' } });
    await store.insertWorkspace(running);
    const runtime = new CountingRuntime();
    const controller = new Controller(store, new Map([['docker', runtime]]), logger, { hooksDir: dataDir, defaultImage: 'wsm-test/busybox:1' });
    await controller.start();
    try {
      await controller.drained();
      const before = runtime.calls;
      // What PUT stop writes, in one transaction.
      await store.transaction(async (tx) => {
        await tx.replaceWorkspace({ ...running, desired_state: 'stopped', resource_version: 2 }, 1);
        await tx.insertOperation(operation('op-stop', 'w', { target_state: 'stopped' }));
      });
      await new Promise((resolve) => setImmediate(resolve));
      await controller.drained();
      assert.equal((await store.getOperation('op-stop'))?.state, 'succeeded');
      assert.equal(runtime.calls - before, 1, 'one pass asks the runtime once; a second pass would observe again');
    } finally {
      await controller.stop();
    }
  });
});
