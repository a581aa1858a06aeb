// Columns the idle culler reads instead of decoding every running workspace's JSON: the idle limit
// when auto-termination is on, the stored last activity, and their sum (when it may be stopped), with an
// index that yields only the running workspaces whose time has come. The store's writes keep them in step.
import { sql, type Kysely, type Migration } from 'kysely';
import { idleColumns } from '../idle-columns.js';
import type { SqlDialect } from '../schema.js';

export function idleColumnsMigration(dialect: SqlDialect): Migration {
  // Milliseconds since the epoch overflow PostgreSQL's integer.
  const msType = dialect === 'postgres' ? sql`bigint` : sql`integer`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const column of ['idle_limit_ms', 'last_activity_ms', 'cull_at']) {
        await db.schema.alterTable('workspaces').addColumn(column, msType).execute();
      }
      await db.schema.createIndex('workspaces_status_cull_at').on('workspaces').columns(['status', 'cull_at', 'name']).execute();
      const rows = await db.selectFrom('workspaces').select(['name', 'spec', 'activity']).execute();
      for (const row of rows as { name: string; spec: string; activity: string }[]) {
        const values = idleColumns(JSON.parse(row.spec), JSON.parse(row.activity));
        await db.updateTable('workspaces').set(values).where('name', '=', row.name).execute();
      }
    },
  };
}
