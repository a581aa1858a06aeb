// A store from before workspace uids is upgraded in place: every existing workspace gets a uid of its
// own, on SQLite and (with WSM_TEST_DATABASE_URL) on PostgreSQL.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/index.js';
import type { SqlDialect } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { workspaceToRow } from '../../src/store/codec.js';
import { workspace } from './fixtures.js';
import { postgresTestUrl } from './postgres-url.js';

const BEFORE_UIDS = '0003-lean-indexes';

/** Brings a database to the schema before uids and writes two workspaces the way that schema held them. */
async function seedBeforeUids(db: Kysely<any>, dialect: SqlDialect, schema?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableSchema: schema });
  const { error } = await migrator.migrateTo(BEFORE_UIDS);
  if (error) throw error;
  for (const name of ['old-a', 'old-b']) {
    const { uid: _none, ...row } = workspaceToRow(workspace(name));
    await db.insertInto('workspaces').values(row).execute();
  }
}

async function assertUpgraded(store: Store): Promise<void> {
  const a = await store.getWorkspace('old-a');
  const b = await store.getWorkspace('old-b');
  assert.match(a?.uid ?? '', /^[0-9a-f-]{36}$/);
  assert.match(b?.uid ?? '', /^[0-9a-f-]{36}$/);
  assert.notEqual(a?.uid, b?.uid);
  // The upgraded rows take part in the uid-guarded writes.
  assert.equal(await store.replaceWorkspace({ ...a!, desired_state: 'stopped', resource_version: 2 }, 1), true);
}

test('SQLite: workspaces stored before uids get one each', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsm-uid-migration-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(join(dataDir, 'wsm.sqlite')) }) });
  await seedBeforeUids(db, 'sqlite');
  await db.destroy();
  const store = await openStore({ dataDir });
  try {
    await assertUpgraded(store);
  } finally {
    await store.close();
  }
});

const pgUrl = postgresTestUrl('workspaces stored before uids get one each');
if (pgUrl !== undefined) test('PostgreSQL: workspaces stored before uids get one each', async () => {
  const schema = `wsm_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(pgUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
  await admin.query(`create schema ${schema}`);
  try {
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 1 }) }) });
    await seedBeforeUids(db, 'postgres', schema);
    await db.destroy();
    const store = await openStore({ databaseUrl: url.toString() });
    try {
      await assertUpgraded(store);
    } finally {
      await store.close();
    }
  } finally {
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
});
