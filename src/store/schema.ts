// Row shapes of the tables, as Kysely sees them. JSON columns are text; timestamps are ISO 8601 UTC text.
import type { Generated } from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

/** The columns a workspace record is read from. */
export interface WorkspaceRow {
  name: string;
  uid: string;
  cluster_type: string;
  project_uuid: string;
  desired_state: string;
  generation: number;
  resource_version: number;
  spec: string;
  observed: string;
  activity: string;
  deletion: string | null;
  created_at: string;
  updated_at: string;
}

export interface WorkspacesTable extends WorkspaceRow {
  /** observed.status, kept in its own column so lists can filter on it through an index. */
  status: string;
  /** spec.namespace, kept in its own column for the same reason. */
  namespace: string | null;
  /** The idle culler's columns (src/store/idle-columns.ts); PostgreSQL returns them as strings. */
  idle_limit_ms: number | null;
  last_activity_ms: number | null;
  cull_at: number | null;
  /** 1 when spec.lifecycle.schedule is set (src/store/migrations/0008-schedule-column.ts), else 0. */
  scheduled: number;
  /** Raised by every write of the row (src/store/migrations/0005-workspace-revision.ts). */
  revision: Generated<number>;
}

export interface OperationsTable {
  id: string;
  workspace: string;
  /** NULL only on operations recorded before uids whose workspace had already been deleted. */
  workspace_uid: string | null;
  action: string;
  actor: string;
  request: string;
  state: string;
  target_generation: number;
  target_state: string;
  error: string | null;
  attempts: number;
  details: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface TokensTable {
  id: string;
  hash: string;
  name: string;
  role: string;
  workspace: string | null;
  expires_at: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface GrantsTable {
  token_id: string;
  workspace: string;
  role: string;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  workspace: string | null;
  generation_before: number | null;
  generation_after: number | null;
  result: string;
  detail: string | null;
  request_id: string | null;
}

/** Values by key: `cluster` (the cluster settings, JSON), `installation` (the installation id). */
export interface ClusterSettingsTable {
  key: string;
  value: string;
}

export interface IdempotencyKeysTable {
  key: string;
  actor: string;
  fingerprint: string;
  response: string;
  created_at: string;
}

export interface Database {
  workspaces: WorkspacesTable;
  operations: OperationsTable;
  tokens: TokensTable;
  grants: GrantsTable;
  audit_events: AuditEventsTable;
  cluster_settings: ClusterSettingsTable;
  idempotency_keys: IdempotencyKeysTable;
}

