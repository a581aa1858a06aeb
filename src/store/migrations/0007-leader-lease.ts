// The leader's lease (src/store/leader-lease.ts): one row per elected duty, naming the holder, its
// term and when the lease ends. PostgreSQL only: with SQLite there is one process, which always leads.
// Builds before this migration created the table themselves when they first needed it, with these
// very columns, so one may exist already (with a live lease in it, during a rolling upgrade): it is
// kept as it is.
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../schema.js';

export function leaderLeaseMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect !== 'postgres') return;
      await db.schema
        .createTable('wsm_leader_lease')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('term', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', sql`timestamptz`, (c) => c.notNull())
        .execute();
    },
  };
}
