// The SQLite store keeps the names of all workspaces for unfiltered pages (src/store/name-index.ts).
// A page must always be what the file holds once the writes its caller heard of have settled: after
// inserts and deletes made directly, in transactions that commit or roll back, and in flight together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import type { Store } from '../../src/store/index.js';
import { workspaceToRow } from '../../src/store/codec.js';
import { workspace } from './fixtures.js';
import { sqliteStores } from './sqlite-stores.js';

const withStore = sqliteStores('wsm-name-index-test-');

const names = async (store: Store, limit = 100, offset = 0) => {
  const page = await store.listWorkspaces({ limit, offset });
  return { total: page.total, names: page.workspaces.map((w) => w.name) };
};

/** Enough unfiltered pages that the store keeps the names, however few they are. */
async function listUntilKept(store: Store): Promise<void> {
  for (let i = 0; i < 10; i++) await store.listWorkspaces({ limit: 10, offset: 0 });
}

/** A row written behind the store's back, by another connection: seen by SQL, not by kept names. */
function insertBehind(dataDir: string, name: string): void {
  const raw = new BetterSqlite3(join(dataDir, 'wsm.sqlite'));
  try {
    const row = workspaceToRow(workspace(name)) as unknown as Record<string, unknown>;
    const columns = Object.keys(row);
    raw.prepare(`insert into workspaces (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`).run(...columns.map((c) => row[c]));
  } finally {
    raw.close();
  }
}

test('after a few unfiltered pages the names are kept, and a page is sliced from them', async () => {
  await withStore(async (store, dataDir) => {
    for (const n of ['a', 'b', 'c']) await store.insertWorkspace(workspace(n));
    await listUntilKept(store);
    insertBehind(dataDir, 'bb');
    // Only a page sliced from the kept names misses the row SQL would find: this shows they are used.
    assert.deepEqual(await names(store), { total: 3, names: ['a', 'b', 'c'] });
    assert.deepEqual(await names(store, 2, 1), { total: 3, names: ['b', 'c'] });
    // A filtered page still asks SQL.
    assert.equal((await store.listWorkspaces({ limit: 100, offset: 0, status: ['PENDING'] })).total, 4);
    // An insert through the store drops the kept names; the next page reads the file.
    await store.insertWorkspace(workspace('d'));
    assert.deepEqual(await names(store), { total: 5, names: ['a', 'b', 'bb', 'c', 'd'] });
  });
});

test('deletes, and inserts in committed and rolled-back transactions, show on the next page', async () => {
  await withStore(async (store) => {
    for (const n of ['a', 'b', 'c']) await store.insertWorkspace(workspace(n));
    await listUntilKept(store);
    await store.deleteWorkspace('b');
    assert.deepEqual(await names(store), { total: 2, names: ['a', 'c'] });
    await listUntilKept(store);
    await store.transaction(async (tx) => {
      await tx.insertWorkspace(workspace('t'));
      await tx.deleteWorkspace('a');
    });
    assert.deepEqual(await names(store), { total: 2, names: ['c', 't'] });
    await listUntilKept(store);
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.insertWorkspace(workspace('r'));
        // A page asked for by someone else while the insert is uncommitted: it waits for the outcome.
        void store.listWorkspaces({ limit: 10, offset: 0 });
        throw new Error('roll back');
      }),
      /roll back/,
    );
    await listUntilKept(store);
    assert.deepEqual(await names(store), { total: 2, names: ['c', 't'] });
  });
});

test('pages, inserts and deletes in flight together: once all have settled, every page is what the file holds', async () => {
  const pool = ['a', 'b', 'c', 'd', 'e', 'f'];
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          kind: fc.constantFrom('page', 'page', 'page', 'insert', 'delete', 'insert-in-transaction', 'delete-in-transaction', 'rollback'),
          ws: fc.constantFrom(...pool),
          offset: fc.nat({ max: 6 }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      async (steps) => {
        await withStore(async (store, dataDir) => {
          for (const n of ['a', 'c', 'e']) await store.insertWorkspace(workspace(n));
          const pending: Promise<unknown>[] = [];
          // Everything is started before anything is awaited, so pages, fills and writes interleave.
          for (const step of steps) {
            const ignoreConflict = (p: Promise<unknown>) => p.catch(() => undefined);
            switch (step.kind) {
              case 'page':
                pending.push(store.listWorkspaces({ limit: 3, offset: step.offset }));
                break;
              case 'insert':
                pending.push(ignoreConflict(store.insertWorkspace(workspace(step.ws))));
                break;
              case 'delete':
                pending.push(store.deleteWorkspace(step.ws));
                break;
              case 'insert-in-transaction':
                pending.push(ignoreConflict(store.transaction((tx) => tx.insertWorkspace(workspace(step.ws)))));
                break;
              case 'delete-in-transaction':
                pending.push(store.transaction((tx) => tx.deleteWorkspace(step.ws)));
                break;
              case 'rollback':
                pending.push(
                  ignoreConflict(
                    store.transaction(async (tx) => {
                      await tx.deleteWorkspace(step.ws);
                      await tx.insertWorkspace(workspace(`${step.ws}-new`));
                      throw new Error('roll back');
                    }),
                  ),
                );
                break;
            }
          }
          await Promise.all(pending);
          const raw = new BetterSqlite3(join(dataDir, 'wsm.sqlite'), { readonly: true });
          let truth: string[];
          try {
            truth = (raw.prepare('select name from workspaces order by name').pluck().all() as string[]);
          } finally {
            raw.close();
          }
          // Asked enough times to be answered from kept names too.
          for (let i = 0; i < 12; i++) {
            for (let offset = 0; offset <= truth.length; offset += 2) {
              assert.deepEqual(await names(store, 2, offset), { total: truth.length, names: truth.slice(offset, offset + 2) });
            }
          }
        });
      },
    ),
    { numRuns: 40 },
  );
});
