// A migration test on both databases: a store left as an older wsm wrote it (`seed`, through a raw
// Kysely handle), then opened by this one, which must upgrade it in place (`check`). On PostgreSQL
// (with WSM_TEST_DATABASE_URL) in a schema of its own, dropped afterwards.
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { openStore } from '../../src/store/index.js';
import type { SqlDialect } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { postgresTestUrl } from './postgres-url.js';

type Seed = (db: Kysely<any>, dialect: SqlDialect, schema?: string) => Promise<void>;
/** `databaseUrl` (PostgreSQL only) reaches the upgraded schema, for checks that need more than the Store. */
type Check = (store: Store, databaseUrl?: string) => Promise<void>;

async function checked(store: Store, check: Check, databaseUrl?: string): Promise<void> {
  try {
    await check(store, databaseUrl);
  } finally {
    await store.close();
  }
}

export function upgradeTests(title: string, seed: Seed, check: Check): void {
  test(`SQLite: ${title}`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wsm-upgrade-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(join(dataDir, 'wsm.sqlite')) }) });
    await seed(db, 'sqlite');
    await db.destroy();
    await checked(await openStore({ dataDir }), check);
  });

  const pgUrl = postgresTestUrl(title);
  if (pgUrl === undefined) return;
  test(`PostgreSQL: ${title}`, async () => {
    const schema = `wsm_test_${randomBytes(6).toString('hex')}`;
    const url = new URL(pgUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
    await admin.query(`create schema ${schema}`);
    try {
      const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 1 }) }) });
      await seed(db, 'postgres', schema);
      await db.destroy();
      await checked(await openStore({ databaseUrl: url.toString() }), check, url.toString());
    } finally {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  });
}
