// A PostgreSQL schema of the bench's own for one scenario: made fresh, dropped afterwards. The server
// is given the database's URL with that schema first on its search_path (as the store tests do).
// The URL comes from BENCH_DATABASE_URL, else WSM_TEST_DATABASE_URL, else /tmp/wsm-pg-url (what
// scripts/ci/start-postgres.sh writes).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';

export interface BenchSchema {
  /** The database URL whose unqualified names resolve in the fresh schema. */
  url: string;
  drop(): Promise<void>;
}

/** The server's URL, or why there is none. */
export async function postgresUrl(): Promise<{ url: string } | { missing: string }> {
  const fromEnv = process.env.BENCH_DATABASE_URL || process.env.WSM_TEST_DATABASE_URL;
  if (fromEnv) return { url: fromEnv };
  try {
    return { url: (await readFile('/tmp/wsm-pg-url', 'utf8')).trim() };
  } catch {
    return { missing: 'no PostgreSQL URL: set BENCH_DATABASE_URL (or run scripts/ci/start-postgres.sh)' };
  }
}

export async function freshSchema(url: string): Promise<BenchSchema> {
  const schema = `wsm_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: scoped.toString(),
    async drop() {
      try {
        await admin.query(`drop schema ${schema} cascade`);
      } finally {
        await admin.end();
      }
    },
  };
}
