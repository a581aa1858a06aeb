// Each workspace gets a uid, made at create and never reused, so that a workspace deleted and created
// again under its name can be told from the first one. Rows from before get one each here.
import { randomUUID } from 'node:crypto';
import type { Kysely, Migration } from 'kysely';

export function workspaceUidMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // SQLite adds a NOT NULL column only with a default: the column stays nullable in the schema,
      // and every write gives it a value (the unique index refuses a uid made twice).
      await db.schema.alterTable('workspaces').addColumn('uid', 'text').execute();
      const rows = (await db.selectFrom('workspaces').select('name').execute()) as { name: string }[];
      for (const row of rows) {
        await db.updateTable('workspaces').set({ uid: randomUUID() }).where('name', '=', row.name).execute();
      }
      await db.schema.createIndex('workspaces_uid').on('workspaces').column('uid').unique().execute();
    },
  };
}
