// A store from before the schedule column is upgraded in place: the workspaces it holds with a schedule
// are found by the scheduler's query, those without are not, on SQLite and (with WSM_TEST_DATABASE_URL)
// on PostgreSQL.
import assert from 'node:assert/strict';
import { Kysely, Migrator } from 'kysely';
import { migrationProvider } from '../../src/store/migrations/index.js';
import type { SqlDialect } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { workspaceToRow } from '../../src/store/codec.js';
import { workspace } from './fixtures.js';
import { upgradeTests } from './upgrade-tests.js';

const BEFORE_SCHEDULE_COLUMN = '0007-leader-lease';

async function seedBeforeColumn(db: Kysely<any>, dialect: SqlDialect, schema?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableSchema: schema });
  const { error } = await migrator.migrateTo(BEFORE_SCHEDULE_COLUMN);
  if (error) throw error;
  const schedule = { autostart: '0 8 * * 1-5', timezone: 'UTC' };
  for (const name of ['night-owl', 'plain', 'early-bird']) {
    const ws = workspace(name, { uid: `uid-${name}` });
    if (name !== 'plain') ws.spec.lifecycle = { ...ws.spec.lifecycle, schedule };
    const { scheduled: _notYet, ...row } = workspaceToRow(ws);
    await db.insertInto('workspaces').values(row).execute();
  }
}

async function assertUpgraded(store: Store): Promise<void> {
  const page = await store.listScheduled(10);
  assert.deepEqual(page.workspaces.map((w) => w.name), ['early-bird', 'night-owl']);
  assert.equal(page.workspaces[0]!.spec.lifecycle.schedule?.autostart, '0 8 * * 1-5');
}

upgradeTests('workspaces stored with a schedule before its column are found by the scheduler', seedBeforeColumn, assertUpgraded);
