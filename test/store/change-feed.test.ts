// The store's change feed: a write is published once it has committed, a transaction's writes only
// after its commit and never when it rolls back, and a failing listener fails no write.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StoreChange } from '../../src/store/change-feed.js';
import { openStore } from '../../src/store/index.js';
import { operation, workspace } from './fixtures.js';
import { postgresTestUrl } from './postgres-url.js';
import { sqliteStores, type WithStore } from './sqlite-stores.js';

/** Each PostgreSQL store in a schema of its own, dropped afterwards. */
function postgresStores(url: string): WithStore {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  after(() => admin.end());
  return async (run) => {
    const schema = `wsm_test_${randomBytes(6).toString('hex')}`;
    await admin.query(`create schema ${schema}`);
    const scoped = new URL(url);
    scoped.searchParams.set('options', `-c search_path=${schema}`);
    const store = await openStore({ databaseUrl: scoped.toString() });
    try {
      await run(store, '');
    } finally {
      await store.close();
      await admin.query(`drop schema ${schema} cascade`);
    }
  };
}

function changeFeedTests(withStore: WithStore): void {

  test('each write outside a transaction is published once it has run, saying what it changed', async () => {
    await withStore(async (store) => {
      const heard: StoreChange[] = [];
      const unsubscribe = store.changes.subscribe((change) => heard.push(change));
      const ws = workspace('w');
      await store.insertWorkspace(ws);
      assert.equal((await store.replaceWorkspace({ ...ws, desired_state: 'stopped', resource_version: 2 }, 1)), true);
      assert.equal((await store.replaceWorkspace({ ...ws, resource_version: 3 }, 1)), false, 'a lost compare-and-swap');
      await store.setObserved('w', { ...ws.observed, status: 'RUNNING' });
      await store.setActivity('w', { last_activity_at: '2024-01-01T00:00:00.000Z' });
      const op = operation('op-1', 'w');
      await store.insertOperation(op);
      await store.updateOperation('op-1', { state: 'running', attempts: 1 });
      await store.appendAudit({ at: '2024-01-01T00:00:00.000Z', actor: 'a', action: 'x', result: 'ok' });
      await store.deleteWorkspace('w');
      unsubscribe();
      assert.deepEqual(heard, [
        { kind: 'workspace', name: 'w', write: 'created' },
        { kind: 'workspace', name: 'w', write: 'desired' },
        { kind: 'workspace', name: 'w', write: 'observed' },
        { kind: 'workspace', name: 'w', write: 'activity' },
        { kind: 'operation-inserted', operation: op },
        { kind: 'operation-updated', id: 'op-1', patch: { state: 'running', attempts: 1 } },
        { kind: 'workspace', name: 'w', write: 'deleted' },
      ]);
      assert.equal(store.changes.listenerCount, 0);
    });
  });

  test("a transaction's writes are published after its commit, and a rolled-back one's never", async () => {
    await withStore(async (store) => {
      const heard: StoreChange[] = [];
      store.changes.subscribe((change) => heard.push(change));
      const ws = workspace('t');
      await store.transaction(async (tx) => {
        await tx.insertWorkspace(ws);
        await tx.insertOperation(operation('op-t', 't'));
        assert.deepEqual(heard, [], 'nothing is told before the commit');
      });
      assert.deepEqual(heard.map((c) => c.kind), ['workspace', 'operation-inserted']);
      heard.length = 0;
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.setObserved('t', { ...ws.observed, status: 'RUNNING' });
          await tx.insertOperation(operation('op-u', 't'));
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.deepEqual(heard, [], 'a rolled-back transaction is not told');
      assert.equal(await store.getOperation('op-u'), undefined);
    });
  });

  test('a listener that throws neither fails the write nor keeps the others from hearing', async () => {
    await withStore(async (store) => {
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        const heard: string[] = [];
        store.changes.subscribe(() => {
          throw new Error('listener bug');
        });
        store.changes.subscribe((change) => heard.push(change.kind));
        await store.insertWorkspace(workspace('x'));
        assert.deepEqual(heard, ['workspace']);
        assert.ok((await store.getWorkspace('x')) !== undefined);
        await new Promise((resolve) => setImmediate(resolve));
        assert.ok(warnings.some((m) => m.includes('listener bug')), warnings.join('\n'));
      } finally {
        process.off('warning', onWarning);
      }
    });
  });
}

describe('SQLite', () => changeFeedTests(sqliteStores('wsm-change-feed-test-')));
const pgUrl = postgresTestUrl('store change feed');
if (pgUrl !== undefined) describe('PostgreSQL', () => changeFeedTests(postgresStores(pgUrl)));
