// Whether a workspace has a schedule, in a column of its own with a partial index of those that do:
// the scheduler's pass then reads the few scheduled workspaces instead of decoding every row's spec.
// The store's writes of the spec keep it in step (codec.ts); here the rows already stored are filled in.
import { sql, type Kysely, type Migration } from 'kysely';
import { SCHEDULED } from '../partial-indexes.js';
import { scheduledColumn } from '../idle-columns.js';

export function scheduleColumnMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('workspaces').addColumn('scheduled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      const rows = await db.selectFrom('workspaces').select(['name', 'spec']).execute();
      for (const row of rows as { name: string; spec: string }[]) {
        const scheduled = scheduledColumn(JSON.parse(row.spec));
        if (scheduled) await db.updateTable('workspaces').set({ scheduled }).where('name', '=', row.name).execute();
      }
      await db.schema
        .createIndex('workspaces_scheduled')
        .on('workspaces')
        .column('name')
        .where(sql<boolean>`${sql.raw(SCHEDULED)}`)
        .execute();
    },
  };
}
