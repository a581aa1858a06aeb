// The SQLite store keeps decoded workspaces (src/store/workspace-cache.ts). What it hands out must
// always be the committed row: after every kind of write, inside and after transactions that commit
// or roll back, and when a read and a write of the same workspace are in flight together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import type { ObservedState } from '../../src/core/types.js';
import { openStore, type Store } from '../../src/store/index.js';
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

test('a write keeps the row it left, equal to the row read back, without reading it', async () => {
  await withStore(async (store, dataDir) => {
    const raw = new BetterSqlite3(join(dataDir, 'wsm.sqlite'));
    const fileRow = (name: string) => rowToWorkspace(raw.prepare('select * from workspaces where name = ?').get(name) as never);
    // Changed behind the store's back, a row read again would show the mark; one kept does not.
    const mark = (name: string) => raw.prepare("update workspaces set project_uuid = 'behind-its-back' where name = ?").run(name);
    const keptAfter = async (name: string, write: () => Promise<unknown>, what: string) => {
      await store.getWorkspace(name);
      await write();
      const expected = fileRow(name);
      mark(name);
      assert.deepEqual(await store.getWorkspace(name), expected, what);
      raw.prepare('update workspaces set project_uuid = ? where name = ?').run(expected.project_uuid, name);
    };
    try {
      await keptAfter('k', () => store.insertWorkspace(workspace('k')), 'insert');
      await keptAfter('k', () => store.setObserved('k', observed('RUNNING', '2024-01-02T00:00:00.000Z')), 'setObserved');
      await keptAfter('k', () => store.setActivity('k', { last_activity_at: '2024-01-03T00:00:00.000Z', last_activity_source: 'heartbeat' }), 'setActivity');
      const v1 = (await store.getWorkspace('k'))!;
      // Fixed and separately written fields in the record given are not what the replace writes.
      const replacement = { ...v1, cluster_type: 'k8s' as const, created_at: 'x', observed: observed('FAILED', 'y'), desired_state: 'stopped' as const, resource_version: 2 };
      await keptAfter('k', () => store.replaceWorkspace(replacement, 1), 'replace');
      await keptAfter('k', () => store.replaceWorkspace({ ...replacement, desired_state: 'running' }, 1), 'a replace from a stale version');
      await keptAfter(
        'k',
        () =>
          store.transaction(async (tx) => {
            const ws = (await tx.getWorkspace('k'))!;
            await tx.replaceWorkspace({ ...ws, desired_state: 'running', resource_version: 3, deletion: { requested_at: 'z', delete_volume: true } }, 2);
            await tx.setActivity('k', { last_activity_at: '2024-01-04T00:00:00.000Z', last_activity_source: 'api' });
            await tx.setObserved('k', observed('STOPPED', '2024-01-05T00:00:00.000Z'));
          }),
        'a transaction of several writes',
      );
      // Transactions sharing one commit: the later one's row is what is kept.
      const first = store.transaction((tx) => tx.setObserved('k', observed('PROVISIONING', '2024-01-06T00:00:00.000Z')));
      const second = store.transaction((tx) => tx.setActivity('k', { last_activity_at: '2024-01-07T00:00:00.000Z', last_activity_source: 'api' }));
      await Promise.all([first, second]);
      assert.deepEqual(await store.getWorkspace('k'), fileRow('k'));
    } finally {
      raw.close();
    }
  });
});

test('a rolled-back transaction, alone or sharing a commit, keeps nothing of its writes', async () => {
  await withStore(async (store) => {
    await store.insertWorkspace(workspace('r'));
    const before = await store.getWorkspace('r');
    const fails = store.transaction(async (tx) => {
      await tx.setObserved('r', observed('FAILED', '2024-01-02T00:00:00.000Z'));
      throw new Error('roll back');
    });
    const other = store.transaction((tx) => tx.setActivity('s', { last_activity_at: '2024-01-02T00:00:00.000Z', last_activity_source: 'api' }));
    await assert.rejects(fails, /roll back/);
    await other;
    assert.deepEqual(await store.getWorkspace('r'), before);
  });
});

test('the store keeps at most workspaceCacheSize workspaces', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsm-ws-cache-size-'));
  const store = await openStore({ dataDir, workspaceCacheSize: 2 });
  const raw = new BetterSqlite3(join(dataDir, 'wsm.sqlite'));
  try {
    // Each insert keeps its row; the third makes room by letting the oldest go.
    for (const name of ['a', 'b', 'c']) await store.insertWorkspace(workspace(name));
    // Changed behind the store's back: a kept record does not show it, one read again does.
    raw.prepare("update workspaces set project_uuid = 'behind-its-back'").run();
    const kept = [];
    for (const name of ['c', 'b', 'a']) if ((await store.getWorkspace(name))?.project_uuid !== 'behind-its-back') kept.push(name);
    assert.deepEqual(kept, ['c', 'b']);
  } finally {
    raw.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
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
      fc.array(
        fc.record({
          kind: fc.constantFrom('observe', 'activity', 'replace', 'read', 'transaction', 'rollback', 'action', 'together', 'recreate', 'stale'),
          ws: fc.constantFrom('p', 'q'),
        }),
        { minLength: 1, maxLength: 30 },
      ),
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
              case 'action':
                // A request's transaction: the record replaced, then its activity, as the commands do.
                pending.push(
                  store.getWorkspace(step.ws).then(
                    (ws) =>
                      ws &&
                      store.transaction(async (tx) => {
                        await tx.replaceWorkspace({ ...ws, desired_state: i % 2 ? 'stopped' : 'running', resource_version: ws.resource_version + 1 }, ws.resource_version);
                        await tx.setActivity(step.ws, { last_activity_at: at, last_activity_source: 'api' });
                      }),
                  ),
                );
                break;
              case 'together':
                // Two writes of one workspace in flight at once inside a transaction.
                pending.push(
                  store.transaction((tx) =>
                    Promise.all([tx.setObserved(step.ws, observed('STOPPING', at)), tx.setActivity(step.ws, { last_activity_at: at, last_activity_source: 'heartbeat' })]),
                  ),
                );
                break;
              case 'recreate':
                pending.push(
                  store
                    .deleteWorkspace(step.ws)
                    .then(() => store.insertWorkspace(workspace(step.ws, { project_uuid: at })))
                    .catch(() => undefined),
                );
                break;
              case 'stale':
                // A replace from a version already gone changes nothing.
                pending.push(store.getWorkspace(step.ws).then((ws) => ws && store.replaceWorkspace({ ...ws, desired_state: 'stopped' }, ws.resource_version - 1)));
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
  const ticket = cache.writeBegins('w');
  const during = cache.put(workspace('w', { project_uuid: 'during' }));
  assert.ok(Object.isFrozen(during));
  assert.equal(cache.get('w'), undefined);
  cache.writeEnds('w', ticket);
  assert.equal(cache.get('w'), undefined, 'the write ended without saying what it left: the next read fills it afresh');
});

test('a write outside a transaction keeps the row it left only when no other write of the workspace was issued since', () => {
  const cache = new WorkspaceCache(10);
  cache.put(workspace('w'));
  const first = cache.writeBegins('w');
  assert.equal(first.base?.name, 'w', 'nothing else in flight: the kept record is what it starts from');
  cache.writeEnds('w', first, workspace('w', { project_uuid: 'first' }));
  assert.equal(cache.get('w')?.project_uuid, 'first');

  // Two in flight: the second starts from nothing known, and as they may run in either order,
  // neither's row is kept.
  const a = cache.writeBegins('w');
  const b = cache.writeBegins('w');
  assert.equal(b.base, undefined);
  cache.writeEnds('w', a, workspace('w', { project_uuid: 'a' }));
  assert.equal(cache.get('w'), undefined, 'b has not run');
  cache.writeEnds('w', b, workspace('w', { project_uuid: 'b' }));
  assert.equal(cache.get('w'), undefined);

  // One issued after another ran but before that one ended: the earlier one's row is stale.
  cache.put(workspace('w'));
  const early = cache.writeBegins('w');
  const late = cache.writeBegins('w');
  cache.writeEnds('w', late, workspace('w', { project_uuid: 'late' }));
  cache.writeEnds('w', early, workspace('w', { project_uuid: 'early' }));
  assert.equal(cache.get('w'), undefined);
});

test("a committed transaction's row is kept unless a write of the workspace is in flight", () => {
  const cache = new WorkspaceCache(10);
  cache.transactionCommitted('t', workspace('t', { project_uuid: 'tx' }));
  assert.equal(cache.get('t')?.project_uuid, 'tx');
  cache.transactionCommitted('t', undefined);
  assert.equal(cache.get('t'), undefined, 'not known: forgotten');
  const issued = cache.writeBegins('t');
  cache.transactionCommitted('t', workspace('t', { project_uuid: 'tx' }));
  assert.equal(cache.get('t'), undefined);
  cache.writeEnds('t', issued);
  assert.equal(cache.get('t'), undefined);
});
