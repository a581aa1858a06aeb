// Runs the store conformance suite on SQLite (a real file in a temp dir) and, when
// WSM_TEST_DATABASE_URL is set, on that PostgreSQL server (one fresh schema per test).
// scripts/ci/start-postgres.sh starts a suitable server and prints the variable to set.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { SqliteDialect, type SqliteDatabase } from 'kysely';
import { openStore } from '../../src/store/index.js';
import { KyselyStore } from '../../src/store/kysely-store.js';
import { storeConformance, type StoreHarness } from './conformance.js';
import { token, workspace } from './fixtures.js';
import { postgresTestUrl } from './postgres-url.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'wsm-store-test-'));
after(() => rmSync(tempRoot, { recursive: true, force: true }));

/** SQLite's plan for the statement, its steps joined by "; ". */
function queryPlan(db: BetterSqlite3.Database, sql: string, parameters: readonly unknown[] = []): string {
  return (db.prepare(`explain query plan ${sql}`).all(...parameters) as { detail: string }[]).map((r) => r.detail).join('; ');
}

function freshDataDir(): string {
  return mkdtempSync(join(tempRoot, 'data-'));
}

storeConformance('SQLite', async (): Promise<StoreHarness> => {
  const dataDir = freshDataDir();
  return {
    open: () => openStore({ dataDir }),
    execute: async (statement) => {
      const raw = new BetterSqlite3(join(dataDir, 'wsm.sqlite'));
      try {
        raw.exec(statement);
      } finally {
        raw.close();
      }
    },
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
});

describe('SQLite specifics', () => {
  test('the database is <dataDir>/wsm.sqlite in WAL mode, and data survives closing and reopening', async () => {
    const dataDir = join(freshDataDir(), 'nested', 'dir');
    const first = await openStore({ dataDir });
    const ws = workspace('durable');
    await first.insertWorkspace(ws);
    await first.insertToken(token('t1'));
    await first.putClusterSettings({ env: [{ name: 'K', value: 'v' }], inherit_patterns: [] });
    await first.close();

    const file = join(dataDir, 'wsm.sqlite');
    assert.ok(existsSync(file), `${file} should exist`);
    const raw = new BetterSqlite3(file, { readonly: true });
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      raw.close();
    }

    const second = await openStore({ dataDir });
    try {
      assert.deepEqual(await second.getWorkspace('durable'), ws);
      assert.equal((await second.findTokenByHash('hash-of-t1'))?.id, 't1');
      assert.deepEqual(await second.getClusterSettings(), { env: [{ name: 'K', value: 'v' }], inherit_patterns: [] });
    } finally {
      await second.close();
    }
  });

  test('an in-memory store works for tests', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    try {
      await store.insertWorkspace(workspace('mem'));
      assert.deepEqual(await store.listWorkspaceNames(), ['mem']);
    } finally {
      await store.close();
    }
  });

  test('a filtered list is read through an index in name order, not sorted afterwards', async () => {
    const dataDir = freshDataDir();
    const store = await openStore({ dataDir });
    await store.close();
    const raw = new BetterSqlite3(join(dataDir, 'wsm.sqlite'), { readonly: true });
    try {
      const plan = (sql: string) => queryPlan(raw, sql);
      for (const where of ["status = 'RUNNING'", "cluster_type = 'k8s'", "namespace = 'x'", '1 = 1']) {
        const detail = plan(`select * from workspaces where ${where} order by name limit 50 offset 100`);
        assert.match(detail, /USING (COVERING )?INDEX/, `${where}: ${detail}`);
        assert.doesNotMatch(detail, /TEMP B-TREE/, `${where}: ${detail}`);
      }
      assert.match(plan(`select * from workspaces where name = 'a'`), /USING INDEX sqlite_autoindex_workspaces_1/);
    } finally {
      raw.close();
    }
  });

  /** A store over `raw` that records each statement it runs, with its parameters. */
  async function recordingStore(raw: BetterSqlite3.Database) {
    const statements: { sql: string; parameters: unknown[] }[] = [];
    const database: SqliteDatabase = {
      prepare(sql) {
        const statement = raw.prepare(sql);
        const record = (parameters: readonly unknown[]) => statements.push({ sql, parameters: [...parameters] });
        return {
          reader: statement.reader,
          all: (parameters) => (record(parameters), statement.all(...parameters)),
          run: (parameters) => (record(parameters), statement.run(...parameters)),
          iterate: (parameters) => (record(parameters), statement.iterate(...parameters)),
        };
      },
      close: () => raw.close(),
    };
    const store = KyselyStore.create({ dialect: 'sqlite', driver: new SqliteDialect({ database }) });
    await store.migrate();
    return { store, statements };
  }

  test('the culler, the scheduler and the open operations are read through their partial indexes', async () => {
    const file = join(freshDataDir(), 'wsm.sqlite');
    const { store, statements } = await recordingStore(new BetterSqlite3(file));
    try {
      await store.listIdleCandidates(Date.now(), 200);
      await store.listScheduled(500);
      await store.listOpenOperations('w');
    } finally {
      await store.close();
    }
    const [idle, scheduled, open] = statements.slice(-3);
    const raw = new BetterSqlite3(file, { readonly: true });
    try {
      assert.match(queryPlan(raw, idle!.sql, idle!.parameters), /USING INDEX workspaces_running_cull_at/);
      assert.match(queryPlan(raw, scheduled!.sql, scheduled!.parameters), /USING (COVERING )?INDEX workspaces_scheduled/);
      assert.match(queryPlan(raw, open!.sql, open!.parameters), /USING INDEX operations_open/);
    } finally {
      raw.close();
    }
  });

  test('statements with a LIMIT carry it in their text, not as a parameter SQLite would plan anew on every run', async () => {
    const { store, statements } = await recordingStore(new BetterSqlite3(':memory:'));
    try {
      await store.listWorkspaceOperations('w', 1);
      assert.match(statements.at(-1)!.sql, /limit 1$/);
      assert.deepEqual(statements.at(-1)!.parameters, ['w']);
      await store.listIdleCandidates(0, 200);
      assert.match(statements.at(-1)!.sql, /limit 200$/);
      await store.listWorkspaces({ limit: 50, offset: 100 });
      assert.match(statements.at(-1)!.sql, /limit 50 offset 100/);
      await assert.rejects(store.listWorkspaceOperations('w', -1), /non-negative integer/);
      await assert.rejects(store.listWorkspaces({ limit: 1.5, offset: 0 }), /non-negative integer/);
    } finally {
      await store.close();
    }
  });
});

const pgUrl = postgresTestUrl('store conformance');
if (pgUrl !== undefined) {
  const admin = new pg.Pool({ connectionString: pgUrl, max: 2 });
  after(() => admin.end());

  /** The same database, but every unqualified name resolves in `schema`. */
  const urlWithSchema = (schema: string): string => {
    const url = new URL(pgUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return url.toString();
  };

  storeConformance('PostgreSQL', async (): Promise<StoreHarness> => {
    const schema = `wsm_test_${randomBytes(6).toString('hex')}`;
    await admin.query(`create schema ${schema}`);
    return {
      open: () => openStore({ databaseUrl: urlWithSchema(schema) }),
      execute: async (statement) => {
        const client = new pg.Client({ connectionString: urlWithSchema(schema) });
        await client.connect();
        try {
          await client.query(statement);
        } finally {
          await client.end();
        }
      },
      cleanup: async () => {
        await admin.query(`drop schema ${schema} cascade`);
      },
    };
  });

  test('PostgreSQL: a store migrates in its own schema while another schema has wsm tables', async () => {
    const [first, second] = [0, 1].map(() => `wsm_test_${randomBytes(6).toString('hex')}`) as [string, string];
    await admin.query(`create schema ${first}; create schema ${second}`);
    const a = await openStore({ databaseUrl: urlWithSchema(first) });
    try {
      const b = await openStore({ databaseUrl: urlWithSchema(second) });
      try {
        await b.insertWorkspace(workspace('only-in-second'));
        assert.deepEqual(await a.listWorkspaceNames(), []);
        assert.deepEqual(await b.listWorkspaceNames(), ['only-in-second']);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await admin.query(`drop schema ${first} cascade; drop schema ${second} cascade`);
    }
  });

  test('PostgreSQL: openStore picks PostgreSQL for a postgresql:// URL too', async () => {
    const schema = `wsm_test_${randomBytes(6).toString('hex')}`;
    await admin.query(`create schema ${schema}`);
    const url = urlWithSchema(schema).replace(/^postgres:/, 'postgresql:');
    const store = await openStore({ databaseUrl: url, dataDir: freshDataDir() });
    try {
      await store.insertWorkspace(workspace('in-pg'));
      const { rows } = await admin.query(`select name from ${schema}.workspaces`);
      assert.deepEqual(rows, [{ name: 'in-pg' }]);
    } finally {
      await store.close();
      await admin.query(`drop schema ${schema} cascade`);
    }
  });
}
