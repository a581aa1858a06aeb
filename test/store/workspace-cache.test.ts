// The SQLite store keeps decoded workspaces (src/store/workspace-cache.ts). What it hands out must
// always be the committed row: after every kind of write, inside and after transactions that commit
// or roll back, and when a read and a write of the same workspace are in flight together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import type { ObservedState } from '../../src/core/types.js';
import type { Store } from '../../src/store/index.js';
import { rowToWorkspace } from '../../src/store/codec.js';
import { WorkspaceCache } from '../../src/store/workspace-cache.js';
import { workspace } from './fixtures.js';
import { sqliteStores } from './sqlite-stores.js';

const withStore = sqliteStores('wsm-ws-cache-test-');

const observed = (status: ObservedState['status'], at: string): ObservedState => ({ status, observed_generation: 1, conditions: [], updated_at: at });

test('a read after each kind of write sees that write', async () => {
  await withStore(async (store) => {
    await store.insertWorkspace(workspace('a'));
    assert.equal((await store.getWorkspace('a'))?.observed.status, 'PENDING');
    await store.setObserved('a', observed('RUNNING', '2024-01-02T00:00:00.000Z'));
    assert.equal((await store.getWorkspace('a'))?.observed.status, 'RUNNING');
    await store.setActivity('a', { last_activity_at: '2024-01-03T00:00:00.000Z', last_activity_source: 'heartbeat' });
    assert.equal((await store.getWorkspace('a'))?.activity.last_activity_source, 'heartbeat');
    const current = (await store.getWorkspace('a'))!;
    assert.equal(await store.replaceWorkspace({ ...current, desired_state: 'stopped', resource_version: 2 }, 1), true);
    assert.equal((await store.getWorkspace('a'))?.desired_state, 'stopped');
    await store.deleteWorkspace('a');
    assert.equal(await store.getWorkspace('a'), undefined);
    await store.insertWorkspace(workspace('a', { project_uuid: 'again' }));
    assert.equal((await store.getWorkspace('a'))?.project_uuid, 'again');
  });
});

test('a read made while a transaction holds its write waits for the commit; a rolled-back one leaves the record as it was', async () => {
  await withStore(async (store) => {
    await store.insertWorkspace(workspace('t'));
    await store.getWorkspace('t');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let wrote!: () => void;
    const written = new Promise<void>((resolve) => (wrote = resolve));
    const committing = store.transaction(async (tx) => {
      await tx.setObserved('t', observed('RUNNING', '2024-01-02T00:00:00.000Z'));
      assert.equal((await tx.getWorkspace('t'))?.observed.status, 'RUNNING', 'the transaction sees its own write');
      wrote();
      await gate;
    });
    await written;
    // Another request reading now, with the write made but not committed, waits for the commit.
    const during = store.getWorkspace('t');
    release();
    await committing;
    assert.equal((await during)?.observed.status, 'RUNNING');
    assert.equal((await store.getWorkspace('t'))?.observed.status, 'RUNNING');

    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.setObserved('t', observed('FAILED', '2024-01-03T00:00:00.000Z'));
        await tx.getWorkspace('t');
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal((await store.getWorkspace('t'))?.observed.status, 'RUNNING');
  });
});

test('records handed out are frozen: a caller cannot change what the next one reads', async () => {
  await withStore(async (store) => {
    await store.insertWorkspace(workspace('f'));
    const first = (await store.getWorkspace('f'))!;
    assert.throws(() => {
      (first.observed as { status: string }).status = 'RUNNING';
    }, TypeError);
    assert.throws(() => first.spec.inherited_env.push({ name: 'X', value: 'y' }), TypeError);
    assert.equal((await store.getWorkspace('f'))?.observed.status, 'PENDING');
  });
});

test('reads and writes in flight together: once all have settled, every read sees the last write', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ kind: fc.constantFrom('observe', 'activity', 'replace', 'read', 'transaction', 'rollback'), ws: fc.constantFrom('p', 'q') }), { minLength: 1, maxLength: 30 }),
      async (steps) => {
        await withStore(async (store, dataDir) => {
          await store.insertWorkspace(workspace('p'));
          await store.insertWorkspace(workspace('q'));
          // Everything is started before anything is awaited, so reads and writes interleave.
          const pending: Promise<unknown>[] = [];
          steps.forEach((step, i) => {
            const at = new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString();
            switch (step.kind) {
              case 'observe':
                pending.push(store.setObserved(step.ws, observed('RUNNING', at)));
                break;
              case 'activity':
                pending.push(store.setActivity(step.ws, { last_activity_at: at, last_activity_source: 'api' }));
                break;
              case 'replace':
                pending.push(store.getWorkspace(step.ws).then((ws) => ws && store.replaceWorkspace({ ...ws, updated_at: at, resource_version: ws.resource_version + 1 }, ws.resource_version)));
                break;
              case 'read':
                pending.push(store.getWorkspace(step.ws));
                break;
              case 'transaction':
                pending.push(store.transaction((tx) => tx.setObserved(step.ws, observed('STOPPED', at))));
                break;
              case 'rollback':
                pending.push(
                  store
                    .transaction(async (tx) => {
                      await tx.setObserved(step.ws, observed('FAILED', at));
                      throw new Error('roll back');
                    })
                    .catch(() => undefined),
                );
                break;
            }
          });
          await Promise.all(pending);
          // The file, read by a connection of its own, is the truth.
          const raw = new BetterSqlite3(join(dataDir, 'wsm.sqlite'), { readonly: true });
          try {
            for (const name of ['p', 'q']) {
              const row = raw.prepare('select * from workspaces where name = ?').get(name);
              assert.deepEqual(await store.getWorkspace(name), rowToWorkspace(row as never));
            }
          } finally {
            raw.close();
          }
        });
      },
    ),
    { numRuns: 40 },
  );
});

test('a page listed from kept records equals the page read whole, for filters, offsets and changed rows', async () => {
  await withStore(async (store) => {
    for (let i = 0; i < 30; i++) await store.insertWorkspace(workspace(`l-${String(i).padStart(2, '0')}`, { cluster_type: i % 3 === 0 ? 'k8s' : 'docker' }));
    // Some kept, some changed since, some never read.
    for (let i = 0; i < 30; i += 2) await store.getWorkspace(`l-${String(i).padStart(2, '0')}`);
    for (let i = 0; i < 30; i += 5) await store.setObserved(`l-${String(i).padStart(2, '0')}`, observed('RUNNING', '2024-02-01T00:00:00.000Z'));
    const filters = [
      { limit: 10, offset: 0 },
      { limit: 10, offset: 25 },
      { limit: 100, offset: 0, status: ['RUNNING' as const] },
      { limit: 5, offset: 1, cluster_type: 'k8s' as const },
      { limit: 50, offset: 0, search: 'L-1' },
      { limit: 50, offset: 0, names: ['l-03', 'l-04', 'nope'] },
      { limit: 50, offset: 0, names: [] },
    ];
    for (const filter of filters) {
      const whole = await store.transaction((tx) => tx.listWorkspaces(filter));
      assert.deepEqual(await store.listWorkspaces(filter), whole, JSON.stringify(filter));
    }
    assert.equal((await store.listWorkspaces({ limit: 100, offset: 0, status: ['RUNNING'] })).total, 6);
  });
});

test('while a write is in flight, a filtered page never shows a kept record the filter no longer matches', async () => {
  await withStore(async (store) => {
    for (let round = 0; round < 20; round++) {
      const name = `w-${round}`;
      await store.insertWorkspace(workspace(name));
      await store.getWorkspace(name); // kept, PENDING
      const writing = store.setObserved(name, observed('RUNNING', '2024-02-01T00:00:00.000Z'));
      // A page read at each of the next microtasks: before the statement runs, as it runs, and after.
      const pages: ReturnType<Store['listWorkspaces']>[] = [];
      let step: Promise<void> = Promise.resolve();
      for (let i = 0; i < 40; i++) step = step.then(() => void pages.push(store.listWorkspaces({ limit: 100, offset: 0, status: ['RUNNING'] })));
      await step;
      for (const page of await Promise.all(pages)) {
        for (const ws of page.workspaces) assert.equal(ws.observed.status, 'RUNNING', `${ws.name} listed as RUNNING shows ${ws.observed.status}`);
      }
      await writing;
    }
  });
});

test('the cache holds at most its limit, and a record read since the last sweep outlives one that was not', () => {
  const cache = new WorkspaceCache(3);
  for (const n of ['a', 'b', 'c']) cache.put(workspace(n));
  cache.get('a');
  cache.put(workspace('d'));
  assert.equal(cache.size, 3);
  assert.ok(cache.get('a'), 'a was read: it had a second chance');
  assert.equal(cache.get('b'), undefined, 'b, the oldest unread, went');
  // Everything read: the sweep clears the marks and the oldest (c; a moved behind it) goes, not the newcomer.
  for (const n of ['a', 'c', 'd']) cache.get(n);
  cache.put(workspace('e'));
  assert.equal(cache.size, 3);
  assert.equal(cache.get('c'), undefined);
  assert.deepEqual(['a', 'd', 'e'].map((n) => cache.get(n)?.name), ['a', 'd', 'e']);
});

test('a record put while a write of it is in flight is handed back frozen but not kept', () => {
  const cache = new WorkspaceCache(10);
  cache.put(workspace('w'));
  cache.writeBegins('w');
  const during = cache.put(workspace('w', { project_uuid: 'during' }));
  assert.ok(Object.isFrozen(during));
  assert.equal(cache.get('w'), undefined);
  cache.writeEnds('w');
  assert.equal(cache.get('w'), undefined, 'the write ended: the next read fills it afresh');
});
