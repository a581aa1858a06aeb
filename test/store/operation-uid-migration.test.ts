// A store from before operations carried their workspace's uid is upgraded in place: the operations of
// a workspace that still exists become its own; those made under its name before it was created (by an
// earlier workspace of that name, since deleted) belong to none. On SQLite and, with
// WSM_TEST_DATABASE_URL, on PostgreSQL.
import assert from 'node:assert/strict';
import { Kysely, Migrator } from 'kysely';
import { migrationProvider } from '../../src/store/migrations/index.js';
import type { SqlDialect } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { operationToRow, workspaceToRow } from '../../src/store/codec.js';
import { at, operation, workspace } from './fixtures.js';
import { upgradeTests } from './upgrade-tests.js';

const BEFORE_OPERATION_UIDS = '0005-workspace-revision';

/**
 * Workspace `again` was created at 10 s; an operation at 2 s was the earlier `again`'s. Workspace
 * `gone` no longer exists at all.
 */
async function seed(db: Kysely<any>, dialect: SqlDialect, schema?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableSchema: schema });
  const { error } = await migrator.migrateTo(BEFORE_OPERATION_UIDS);
  if (error) throw error;
  const { scheduled: _later, ...again } = workspaceToRow(workspace('again', { uid: 'uid-again-2', created_at: at(10) }));
  await db.insertInto('workspaces').values(again).execute();
  const old = (id: string, name: string, seconds: number) => {
    const { workspace_uid: _none, ...row } = operationToRow(operation(id, name, { created_at: at(seconds), state: 'succeeded' }));
    return row;
  };
  await db.insertInto('operations').values([old('earlier', 'again', 2), old('create', 'again', 10), old('stop', 'again', 12), old('lost', 'gone', 5)]).execute();
}

async function assertUpgraded(store: Store): Promise<void> {
  assert.deepEqual((await store.listWorkspaceOperations('uid-again-2', 10)).map((o) => o.id), ['stop', 'create']);
  assert.equal((await store.getOperation('create'))?.workspace_uid, 'uid-again-2');
  assert.equal((await store.getOperation('earlier'))?.workspace_uid, undefined);
  assert.equal((await store.getOperation('lost'))?.workspace_uid, undefined);
}

upgradeTests('operations stored before operation uids get their workspace\'s, or none', seed, assertUpgraded);
