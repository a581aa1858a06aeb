// A reconcile reads the workspace and its open operations, and a request's transaction (the workspace
// and its new operation together) can commit between the two reads when the store makes them one after
// the other. The operation must still be carried out with the workspace it was written with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Controller } from '../../src/controller/controller.js';
import type { ObservedInstance, Runtime, RuntimeWorkspace } from '../../src/core/runtime.js';
import type { Store } from '../../src/store/index.js';
import { KyselyOps } from '../../src/store/kysely-ops.js';
import { operation, workspace } from '../store/fixtures.js';
import { sqliteStores } from '../store/sqlite-stores.js';

const withStore = sqliteStores('wsm-reconcile-reads-test-');
const logger = pino({ level: 'silent' });

/** Starts and stops at once, and remembers what it was asked to make the workspace. */
class RecordingRuntime implements Runtime {
  readonly clusterType = 'docker' as const;
  readonly supportsIngress = false;
  readonly applied: string[] = [];
  private state: 'RUNNING' | 'STOPPED' = 'STOPPED';

  async apply(ws: RuntimeWorkspace): Promise<ObservedInstance> {
    this.applied.push(ws.desired);
    this.state = ws.desired === 'running' ? 'RUNNING' : 'STOPPED';
    return this.observe(ws);
  }

  async observe(ws: RuntimeWorkspace): Promise<ObservedInstance> {
    return { status: this.state, generation: ws.generation, instance_name: ws.name };
  }

  async remove(): Promise<void> {}

  async close(): Promise<void> {}
}

/** The store's two reads of a workspace and its operations, with `between` run once right after the first. */
function interleaved(store: Store, between: () => Promise<void>): Store {
  let armed = true;
  const once = async <T>(read: Promise<T>): Promise<T> => {
    const value = await read;
    if (armed) {
      armed = false;
      await between();
    }
    return value;
  };
  const proxy: Store = new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'getWorkspace') return (name: string) => once(target.getWorkspace(name));
      if (key === 'listOpenOperations') return (name: string) => once(target.listOpenOperations(name));
      if (key === 'getWorkspaceAndOpenOperations') return (name: string) => KyselyOps.prototype.getWorkspaceAndOpenOperations.call(proxy, name);
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return proxy;
}

test("a resume committed between the reconcile's two reads is carried out, not applied as the stop before it", async () => {
  await withStore(async (store, dataDir) => {
    const stopped = workspace('r', { desired_state: 'stopped', observed: { status: 'STOPPED', observed_generation: 1, conditions: [], updated_at: '2024-01-01T00:00:00.000Z' } });
    await store.insertWorkspace(stopped);
    const runtime = new RecordingRuntime();
    const resume = operation('op-resume', 'r');
    // What PUT resume does: the workspace and its operation in one transaction (the store's change feed
    // then queues the workspace).
    const request = async () => {
      await store.transaction(async (tx) => {
        await tx.replaceWorkspace({ ...stopped, desired_state: 'running', resource_version: 2 }, 1);
        await tx.insertOperation(resume);
      });
    };
    const controller = new Controller(interleaved(store, request), new Map([['docker', runtime]]), logger, { hooksDir: dataDir, defaultImage: 'wsm-test/busybox:1', progressRequeueMs: 20 });
    await controller.start();
    try {
      controller.enqueue('r'); // a reconcile already under way (a resync, an engine event) when the request lands
      // Bounded: a lost resume leaves the operation open, and the workspace is looked at again forever.
      const until = Date.now() + 5_000;
      while ((await store.getOperation('op-resume'))?.state !== 'succeeded' && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.equal((await store.getOperation('op-resume'))?.state, 'succeeded', `applied: ${runtime.applied.join(', ')}`);
      assert.equal(runtime.applied.at(-1), 'running');
      assert.ok(!runtime.applied.includes('stopped'), `applied: ${runtime.applied.join(', ')}`);
      assert.equal((await store.getWorkspace('r'))?.observed.status, 'RUNNING');
    } finally {
      await controller.stop();
    }
  });
});
