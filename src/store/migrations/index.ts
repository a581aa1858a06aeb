// The ordered list of schema migrations. Names sort in the order they must run; never rename one
// that has shipped, only append.
import type { Migration, MigrationProvider } from 'kysely';
import type { SqlDialect } from '../schema.js';
import { initialMigration } from './0001-initial.js';
import { idleColumnsMigration } from './0002-idle-columns.js';
import { leanIndexesMigration } from './0003-lean-indexes.js';
import { workspaceUidMigration } from './0004-workspace-uid.js';
import { workspaceRevisionMigration } from './0005-workspace-revision.js';
import { operationWorkspaceUidMigration } from './0006-operation-workspace-uid.js';
import { leaderLeaseMigration } from './0007-leader-lease.js';
import { scheduleColumnMigration } from './0008-schedule-column.js';

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001-initial': initialMigration(dialect),
    '0002-idle-columns': idleColumnsMigration(dialect),
    '0003-lean-indexes': leanIndexesMigration(),
    '0004-workspace-uid': workspaceUidMigration(),
    '0005-workspace-revision': workspaceRevisionMigration(dialect),
    '0006-operation-workspace-uid': operationWorkspaceUidMigration(),
    '0007-leader-lease': leaderLeaseMigration(dialect),
    '0008-schedule-column': scheduleColumnMigration(),
  };
  return { getMigrations: async () => migrations };
}
