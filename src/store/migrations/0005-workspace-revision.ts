// A revision per workspace row that changes with every write of the row, so that a decoded record kept
// by (uid, revision) can only ever be the row's current content (src/store/record-cache.ts). The
// store's writes raise it themselves; a trigger raises it for any other writer that does not (an older
// wsm replica during an upgrade, an operator's UPDATE), so no write can leave a kept record current.
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../schema.js';

export function workspaceRevisionMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('workspaces')
        .addColumn('revision', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      if (dialect === 'postgres') {
        await sql`create function wsm_workspace_revision() returns trigger language plpgsql as $$
          begin
            if new.revision = old.revision then new.revision := old.revision + 1; end if;
            return new;
          end $$`.execute(db);
        await sql`create trigger workspaces_revision before update on workspaces
          for each row execute function wsm_workspace_revision()`.execute(db);
      } else {
        // SQLite cannot change NEW in a trigger: a second UPDATE, run only when the writer left the
        // revision as it was (never for the store's own writes).
        await sql`create trigger workspaces_revision after update on workspaces
          for each row when new.revision = old.revision
          begin
            update workspaces set revision = old.revision + 1 where rowid = new.rowid;
          end`.execute(db);
      }
    },
  };
}
