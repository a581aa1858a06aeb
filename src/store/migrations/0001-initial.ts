// The first schema. Names sort byte-wise on both dialects (PostgreSQL gets COLLATE "C"), so a list
// is ordered the same way whichever database holds it.
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../schema.js';

export function initialMigration(dialect: SqlDialect): Migration {
  const nameType = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('workspaces')
        .addColumn('name', nameType, (c) => c.primaryKey())
        .addColumn('cluster_type', 'text', (c) => c.notNull())
        .addColumn('project_uuid', 'text', (c) => c.notNull())
        .addColumn('desired_state', 'text', (c) => c.notNull())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('resource_version', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('observed', 'text', (c) => c.notNull())
        .addColumn('activity', 'text', (c) => c.notNull())
        .addColumn('deletion', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      // Each filter's index continues with name, so a filtered page is read in name order and stops at
      // LIMIT; the other filter columns follow so that combined filters and counts never touch the rows.
      const filterColumns = ['status', 'cluster_type', 'namespace'];
      for (const first of filterColumns) {
        await db.schema
          .createIndex(`workspaces_${first}_name`)
          .on('workspaces')
          .columns([first, 'name', ...filterColumns.filter((c) => c !== first)])
          .execute();
      }

      await db.schema
        .createTable('operations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('target_generation', 'integer', (c) => c.notNull())
        .addColumn('target_state', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('details', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema
        .createIndex('operations_workspace_created')
        .on('operations')
        .columns(['workspace', 'created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('operations_state_created')
        .on('operations')
        .columns(['state', 'created_at', 'id'])
        .execute();

      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('workspace', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();

      await db.schema
        .createTable('grants')
        .addColumn('token_id', 'text', (c) => c.notNull().references('tokens.id').onDelete('cascade'))
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('grants_pk', ['token_id', 'workspace'])
        .execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('workspace', 'text')
        .addColumn('generation_before', 'integer')
        .addColumn('generation_after', 'integer')
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('request_id', 'text')
        .execute();
      await db.schema
        .createIndex('audit_events_workspace_id')
        .on('audit_events')
        .columns(['workspace', 'id'])
        .execute();

      await db.schema
        .createTable('cluster_settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('response', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['key', 'actor'])
        .execute();
      // Lets a later sweep drop old keys without a full scan.
      await db.schema
        .createIndex('idempotency_keys_created')
        .on('idempotency_keys')
        .column('created_at')
        .execute();
    },
  };
}
