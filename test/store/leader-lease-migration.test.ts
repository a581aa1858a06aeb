// The lease table comes from a migration: a store from before it gets the table (on PostgreSQL; SQLite
// has one process and no lease), and a table an older build had created for itself, with a live lease
// in it, is kept as it was, so a rolling upgrade does not hand the lease to a second leader.
import assert from 'node:assert/strict';
import { Kysely, Migrator, sql } from 'kysely';
import pg from 'pg';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { PostgresLease } from '../../src/store/leader-lease.js';
import type { SqlDialect } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { upgradeTests } from './upgrade-tests.js';

const BEFORE_LEASE_MIGRATION = '0006-operation-workspace-uid';

function seedAt(withOldTable: boolean) {
  return async (db: Kysely<any>, dialect: SqlDialect, schema?: string): Promise<void> => {
    const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableSchema: schema });
    const { error } = await migrator.migrateTo(BEFORE_LEASE_MIGRATION);
    if (error) throw error;
    if (!withOldTable || dialect !== 'postgres') return;
    // What the build before the migration ran on its first renewal, and the lease it then held.
    await sql`create table if not exists wsm_leader_lease (
        name text primary key, holder text not null, term bigint not null, expires_at timestamptz not null
      )`.execute(db);
    await sql`insert into wsm_leader_lease values ('controller', 'old-build', 41, now() + interval '1 hour')`.execute(db);
  };
}

async function tables(databaseUrl: string): Promise<string[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ name: string }>(`select table_name as name from information_schema.tables where table_schema = current_schema()`);
    return rows.map((r) => r.name);
  } finally {
    await db.end();
  }
}

async function withLease<T>(databaseUrl: string, fn: (lease: PostgresLease) => Promise<T>): Promise<T> {
  const lease = new PostgresLease(databaseUrl);
  try {
    return await fn(lease);
  } finally {
    await lease.close();
  }
}

async function assertMigrated(store: Store): Promise<void> {
  assert.equal(await store.unreadyReason(5_000), undefined, 'every migration is applied');
}

upgradeTests('a store from before the lease migration gets the lease table (PostgreSQL) and elects in it', seedAt(false), async (store, databaseUrl) => {
  await assertMigrated(store);
  if (databaseUrl === undefined) return;
  assert.ok((await tables(databaseUrl)).includes('wsm_leader_lease'));
  await withLease(databaseUrl, async (lease) => {
    assert.deepEqual(await lease.acquireOrRenew('new-build', 10_000), { term: 1 });
    assert.deepEqual(await lease.current(), { holder: 'new-build', term: 1 });
  });
});

upgradeTests('a lease table an older build made is kept with its live lease', seedAt(true), async (store, databaseUrl) => {
  await assertMigrated(store);
  if (databaseUrl === undefined) return;
  await withLease(databaseUrl, async (lease) => {
    assert.deepEqual(await lease.current(), { holder: 'old-build', term: 41 });
    assert.equal(await lease.acquireOrRenew('new-build', 10_000), undefined, 'the old build still leads');
    await lease.release('old-build', 41);
    assert.deepEqual(await lease.acquireOrRenew('new-build', 10_000), { term: 42 });
  });
});
