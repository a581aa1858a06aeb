// Operations belong to one workspace, not to a name: a workspace deleted and created again under its
// name must not show the first one's operations. Each operation gets its workspace's uid; those
// recorded before are given the uid of the workspace of their name that existed when they were
// made, and none (NULL) when that workspace has since been deleted, so they are listed nowhere.
import { sql, type Kysely, type Migration } from 'kysely';

export function operationWorkspaceUidMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('operations').addColumn('workspace_uid', 'text').execute();
      await sql`update operations set workspace_uid = (
          select w.uid from workspaces w where w.name = operations.workspace and w.created_at <= operations.created_at
        )`.execute(db);
      // A workspace's operations are read newest first by uid.
      await db.schema
        .createIndex('operations_workspace_uid_created')
        .on('operations')
        .columns(['workspace_uid', 'created_at', 'id'])
        .execute();
    },
  };
}
