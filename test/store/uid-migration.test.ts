// A store from before workspace uids is upgraded in place: every existing workspace gets a uid of its
// own, on SQLite and (with WSM_TEST_DATABASE_URL) on PostgreSQL.
import assert from 'node:assert/strict';
import { Kysely, Migrator } from 'kysely';
import { migrationProvider } from '../../src/store/migrations/index.js';
import type { SqlDialect } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { workspaceToRow } from '../../src/store/codec.js';
import { workspace } from './fixtures.js';
import { upgradeTests } from './upgrade-tests.js';

const BEFORE_UIDS = '0003-lean-indexes';

/** Brings a database to the schema before uids and writes two workspaces the way that schema held them. */
async function seedBeforeUids(db: Kysely<any>, dialect: SqlDialect, schema?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableSchema: schema });
  const { error } = await migrator.migrateTo(BEFORE_UIDS);
  if (error) throw error;
  for (const name of ['old-a', 'old-b']) {
    const { uid: _none, scheduled: _later, ...row } = workspaceToRow(workspace(name));
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

upgradeTests('workspaces stored before uids get one each', seedBeforeUids, assertUpgraded);
