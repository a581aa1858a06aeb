// The change feed across replicas: two store handles on one PostgreSQL schema (two replicas) hear each
// other's committed changes, never their own twice, and a handle whose listening connection was cut
// catches up on what it missed; what a handle committed while its own listening connection was down
// reaches the others once it is back. Another schema of the same database hears nothing.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresDialect } from 'kysely';
import { ChangeFeed, publishingStore, type StoreChange } from '../../src/store/change-feed.js';
import { openStore, type Store } from '../../src/store/index.js';
import { KyselyStore } from '../../src/store/kysely-store.js';
import { PgChangeRelay } from '../../src/store/pg-change-feed.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { eventually } from '../support/server.js';
import { operation, workspace } from './fixtures.js';
import { postgresTestUrl } from './postgres-url.js';

const url = postgresTestUrl('the change feed across replicas');

describe('the change feed across replicas', { skip: url === undefined }, () => {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const stores: Store[] = [];
  const schemas: string[] = [];
  after(async () => {
    for (const store of stores) await store.close();
    for (const schema of schemas) await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  });

  async function schema(): Promise<string> {
    const name = `wsm_feed_${randomBytes(5).toString('hex')}`;
    await admin.query(`create schema ${name}`);
    schemas.push(name);
    return name;
  }

  function scopedUrl(schemaName: string, port?: number): string {
    const scoped = new URL(url!);
    scoped.searchParams.set('options', `-c search_path=${schemaName}`);
    if (port !== undefined) scoped.port = String(port);
    return scoped.toString();
  }

  async function open(schemaName: string): Promise<{ store: Store; heard: StoreChange[]; received: boolean[] }> {
    const store = await openStore({ databaseUrl: scopedUrl(schemaName) });
    stores.push(store);
    const heard: StoreChange[] = [];
    const received: boolean[] = [];
    store.changes.subscribe((change, fromOther) => {
      heard.push(change);
      received.push(fromOther === true);
    });
    return { store, heard, received };
  }

  test("one replica hears another's writes once, its own once, and another schema hears none", async () => {
    const name = await schema();
    const a = await open(name);
    const b = await open(name);
    const elsewhere = await open(await schema());
    await a.store.insertWorkspace(workspace('w1'));
    const op = operation('op-1', 'w1');
    await a.store.insertOperation(op);
    await a.store.updateOperation('op-1', { state: 'running', attempts: 1 });
    const expected: StoreChange[] = [
      { kind: 'workspace', name: 'w1', write: 'created' },
      { kind: 'operation-inserted', operation: op },
      { kind: 'operation-updated', id: 'op-1', patch: { state: 'running', attempts: 1 } },
    ];
    await eventually(async () => b.heard.length >= 3, 10_000, 'the other replica to hear three changes');
    assert.deepEqual(b.heard, expected);
    // A marker written after the others proves, once heard, that nothing more was coming first.
    await b.store.insertWorkspace(workspace('marker'));
    await eventually(async () => a.heard.some((c) => c.kind === 'workspace' && c.name === 'marker'), 10_000, 'the marker');
    assert.deepEqual(a.heard, [...expected, { kind: 'workspace', name: 'marker', write: 'created' }], 'its own changes once, then the marker');
    assert.deepEqual(elsewhere.heard, []);
    // Listeners can tell the others' changes from their own (metrics count only their own).
    assert.deepEqual(b.received.slice(0, 3), [true, true, true]);
    assert.deepEqual(a.received, [false, false, false, true]);
  });

  test('a replica whose listening connection was cut catches up on what it missed', async () => {
    const name = await schema();
    const a = await open(name);
    const b = await open(name);
    const { rows } = await admin.query(`select pg_terminate_backend(pid) as cut from pg_stat_activity where query like $1`, [`listen "wsm_changes_${name}"`]);
    assert.equal(rows.length, 2, 'both listening connections were found');
    await a.store.insertWorkspace(workspace('late'));
    await a.store.insertOperation(operation('op-late', 'late'));
    await eventually(
      async () =>
        b.heard.some((c) => c.kind === 'workspace' && c.name === 'late') &&
        b.heard.some((c) => (c.kind === 'operation-inserted' && c.operation.id === 'op-late') || (c.kind === 'operation-updated' && c.id === 'op-late')),
      15_000,
      'the cut-off replica to hear of the workspace and the operation',
    );
  });

  test("a change committed while its replica's listening connection was down reaches the others once it is back", async () => {
    const name = await schema();
    const b = await open(name);
    // Replica a as openStore makes one, except that its listening connection goes through a proxy the
    // test cuts: its store's own connections stay up, so it commits while it cannot send.
    const upstream = new URL(url!);
    const proxy = new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    const pool = new pg.Pool({ connectionString: scopedUrl(name), max: 2 });
    const backend = KyselyStore.create({ dialect: 'postgres', driver: new PostgresDialect({ pool }) });
    const feed = new ChangeFeed();
    const a = publishingStore(backend, feed);
    const relay = await PgChangeRelay.start({ databaseUrl: scopedUrl(name, await proxy.start()), feed, store: a });
    try {
      await a.insertWorkspace(workspace('before'));
      await eventually(async () => b.heard.some((c) => c.kind === 'workspace' && c.name === 'before'), 10_000, 'the change before the cut');

      await proxy.cut();
      await a.insertWorkspace(workspace('unsent'));
      await a.insertOperation(operation('op-unsent', 'unsent'));
      await a.updateOperation('op-unsent', { state: 'succeeded', attempts: 1, finished_at: new Date().toISOString() });
      // b never lost its connection: nothing makes it read the store until a asks.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(b.heard.some((c) => c.kind === 'workspace' && c.name === 'unsent'), false, 'nothing reached b while a could not send');

      await proxy.start();
      await eventually(
        async () =>
          b.heard.some((c) => c.kind === 'workspace' && c.name === 'unsent') &&
          b.heard.some((c) => c.kind === 'operation-updated' && c.id === 'op-unsent' && c.patch.state === 'succeeded'),
        15_000,
        'b to hear of the workspace and the finished operation a committed while cut off',
      );
    } finally {
      await relay.close();
      await backend.close();
      await proxy.cut();
    }
  });
});
