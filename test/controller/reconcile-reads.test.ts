// A reconcile reads the workspace and its open operations, and a request's transaction (the workspace
// and its new operation together) can commit on another replica between the store's statements. The
// operation must still be carried out with the workspace it was written with, and a resume is not taken
// for a crash (restarted and counted by the restart policy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Controller } from '../../src/controller/controller.js';
import type { ObservedInstance, Runtime, RuntimeWorkspace } from '../../src/core/runtime.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { publishingStore } from '../../src/store/change-feed.js';
import { KyselyStore } from '../../src/store/kysely-store.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { hookedDialect, resumeAfterNextOperationsRead, type QueryHook } from '../support/hooked-dialect.js';
import { workspace } from '../store/fixtures.js';

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

test("a resume another replica commits amid the reconcile's reads is carried out as a resume, once", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsm-reconcile-reads-test-'));
  const hook: QueryHook = {};
  const backend = KyselyStore.create({ dialect: 'sqlite', driver: hookedDialect(openSqlite(join(dataDir, 'wsm.sqlite')), hook) });
  await backend.migrate();
  const store = publishingStore(backend);
  // The replica the request lands on: the same database, another handle.
  const other = await openStore({ dataDir });
  const runtime = new RecordingRuntime();
  const controller = new Controller(store, new Map([['docker', runtime]]), logger, { hooksDir: dataDir, defaultImage: 'wsm-test/busybox:1', progressRequeueMs: 20 });
  try {
    const stopped = workspace('r', { desired_state: 'stopped', observed: { status: 'STOPPED', observed_generation: 1, conditions: [], updated_at: '2024-01-01T00:00:00.000Z' } });
    await store.insertWorkspace(stopped);
    await controller.start();
    await controller.drained();
    // A resume committed amid the reconcile's reads; the change feed between the replicas then queues the workspace again.
    resumeAfterNextOperationsRead(hook, other, stopped, 'op-resume', () => controller.enqueue('r'));
    controller.enqueue('r'); // a reconcile already under way (a resync, an engine event) when the request lands
    // Bounded: a lost resume leaves the operation open, and the workspace is looked at again forever.
    const until = Date.now() + 5_000;
    while ((await store.getOperation('op-resume'))?.state !== 'succeeded' && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal(hook.after, undefined, 'the resume was committed amid a reconcile');
    assert.equal((await store.getOperation('op-resume'))?.state, 'succeeded', `applied: ${runtime.applied.join(', ')}`);
    assert.deepEqual(runtime.applied, ['running']);
    const observed = (await store.getWorkspace('r'))?.observed;
    assert.equal(observed?.status, 'RUNNING');
    assert.equal(observed?.restarts?.count ?? 0, 0, 'a resume is not a restart');
    assert.equal(observed?.last_termination, undefined, 'nor did anything end');
  } finally {
    await controller.stop();
    await other.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
