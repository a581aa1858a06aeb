// Indexes that a status change or an operation's progress touches as little as possible. Every
// index holding a column a write sets is rewritten by that write: with status in all three filter
// indexes and the culler's, each observed-state write moved four index entries, and an action wrote
// ~35 pages to the WAL. Now the filter indexes are (column, name); the culler's and the open
// operations' indexes are partial, so they hold only the rows those readers want (running workspaces
// with auto-termination on; pending or running operations) and stay a few pages big.
import { sql, type Kysely, type Migration } from 'kysely';
import { OPEN_OPERATION, RUNNING_WITH_DEADLINE } from '../partial-indexes.js';

export function leanIndexesMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const column of ['status', 'cluster_type', 'namespace']) {
        await db.schema.dropIndex(`workspaces_${column}_name`).execute();
        await db.schema.createIndex(`workspaces_${column}_name`).on('workspaces').columns([column, 'name']).execute();
      }
      await db.schema.dropIndex('workspaces_status_cull_at').execute();
      await db.schema
        .createIndex('workspaces_running_cull_at')
        .on('workspaces')
        .columns(['cull_at', 'name'])
        .where(sql<boolean>`${sql.raw(RUNNING_WITH_DEADLINE)}`)
        .execute();
      await db.schema.dropIndex('operations_state_created').execute();
      await db.schema
        .createIndex('operations_open')
        .on('operations')
        .columns(['workspace', 'created_at', 'id'])
        .where(sql<boolean>`${sql.raw(OPEN_OPERATION)}`)
        .execute();
    },
  };
}
