// A workspace and its open operations are read as one snapshot: a request's transaction (the workspace
// and its new operation together) that another replica commits between the store's statements is
// seen whole or not at all, on SQLite and on PostgreSQL.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PostgresDialect, type Dialect } from 'kysely';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';
import { KyselyStore } from '../../src/store/kysely-store.js';
import { openSqlite } from '../../src/store/sqlite.js';
import type { SqlDialect } from '../../src/store/schema.js';
import { hookedDialect, resumeAfterNextOperationsRead, type QueryHook } from '../support/hooked-dialect.js';
import { workspace } from './fixtures.js';
import { postgresTestUrl } from './postgres-url.js';

async function readsOneSnapshot(dialect: SqlDialect, inner: Dialect, other: Store): Promise<void> {
  const hook: QueryHook = {};
  const store = KyselyStore.create({ dialect, driver: hookedDialect(inner, hook) });
  try {
    await store.migrate();
    const stopped = workspace('r', { desired_state: 'stopped' });
    await store.insertWorkspace(stopped);
    resumeAfterNextOperationsRead(hook, other, stopped, 'op-resume');
    const during = await store.getWorkspaceAndOpenOperations('r');
    assert.equal(hook.after, undefined, 'the resume was committed during the read');
    assert.deepEqual([during.workspace?.desired_state, during.operations.map((op) => op.id)], ['stopped', []], 'the read saw none of the resume');
    const later = await store.getWorkspaceAndOpenOperations('r');
    assert.deepEqual([later.workspace?.desired_state, later.operations.map((op) => op.id)], ['running', ['op-resume']], 'and the next one all of it');
  } finally {
    await store.close();
  }
}

test('SQLite: a workspace and its open operations are one snapshot, whatever commits in between', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsm-snapshot-read-'));
  const other = await openStore({ dataDir });
  try {
    await readsOneSnapshot('sqlite', openSqlite(join(dataDir, 'wsm.sqlite')), other);
  } finally {
    await other.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

const url = postgresTestUrl('a workspace and its open operations are one snapshot');
const admin = url === undefined ? undefined : new pg.Pool({ connectionString: url, max: 1 });
after(() => admin?.end());

test('PostgreSQL: a workspace and its open operations are one snapshot, whatever commits in between', { skip: url === undefined }, async () => {
  const schema = `wsm_snapshot_${randomBytes(5).toString('hex')}`;
  await admin!.query(`create schema ${schema}`);
  const scoped = new URL(url!);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  const pool = new pg.Pool({ connectionString: scoped.toString(), max: 2 });
  let other: Store | undefined;
  try {
    // The other replica's store is opened once the tables exist: the first store migrates.
    await readsOneSnapshot('postgres', new PostgresDialect({ pool }), {
      transaction: async (fn) => {
        other ??= await openStore({ databaseUrl: scoped.toString() });
        return other.transaction(fn);
      },
    } as Store);
  } finally {
    await other?.close();
    await admin!.query(`drop schema ${schema} cascade`);
  }
});
