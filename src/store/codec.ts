// Conversions between domain records and table rows. Optional fields are stored as NULL and come back
// absent (not undefined-valued), so a record read back deep-equals the one written.
import type {
  AuditEvent,
  ClusterType,
  DesiredState,
  OperationAction,
  OperationRecord,
  OperationState,
  Role,
  TokenRecord,
  WorkspaceRecord,
  WorkspaceSpec,
} from '../core/types.js';
import type { Insertable } from 'kysely';
import type { Grant, IdempotencyRecord } from './store.js';
import type {
  AuditEventsTable,
  GrantsTable,
  IdempotencyKeysTable,
  OperationsTable,
  TokensTable,
  WorkspaceRow,
  WorkspacesTable,
} from './schema.js';
import { idleColumns, scheduledColumn } from './idle-columns.js';

export function workspaceToRow(ws: WorkspaceRecord): Insertable<WorkspacesTable> {
  return {
    name: ws.name,
    uid: ws.uid,
    cluster_type: ws.cluster_type,
    project_uuid: ws.project_uuid,
    desired_state: ws.desired_state,
    generation: ws.generation,
    resource_version: ws.resource_version,
    status: ws.observed.status,
    namespace: ws.spec.namespace ?? null,
    spec: JSON.stringify(ws.spec),
    observed: JSON.stringify(ws.observed),
    activity: JSON.stringify(ws.activity),
    deletion: ws.deletion ? JSON.stringify(ws.deletion) : null,
    created_at: ws.created_at,
    updated_at: ws.updated_at,
    ...idleColumns(ws.spec, ws.activity),
    scheduled: scheduledColumn(ws.spec),
  };
}

/** `spec`, when given, is the row's spec already decoded (it must be the same text's). */
export function rowToWorkspace(row: WorkspaceRow, spec?: WorkspaceSpec): WorkspaceRecord {
  const ws: WorkspaceRecord = {
    name: row.name,
    uid: row.uid,
    cluster_type: row.cluster_type as ClusterType,
    project_uuid: row.project_uuid,
    spec: spec ?? JSON.parse(row.spec),
    desired_state: row.desired_state as DesiredState,
    generation: Number(row.generation),
    resource_version: Number(row.resource_version),
    observed: JSON.parse(row.observed),
    activity: JSON.parse(row.activity),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
  if (row.deletion !== null) ws.deletion = JSON.parse(row.deletion);
  return ws;
}

/**
 * The record a replace leaves: the columns it writes from `row`, the rest (fixed at insert, or
 * written by their own writers) as they were in `before`.
 */
export function replacedWorkspace(row: WorkspaceRow, before: WorkspaceRecord): WorkspaceRecord {
  const ws: WorkspaceRecord = {
    name: before.name,
    uid: before.uid,
    cluster_type: before.cluster_type,
    project_uuid: before.project_uuid,
    spec: JSON.parse(row.spec),
    desired_state: row.desired_state as DesiredState,
    generation: Number(row.generation),
    resource_version: Number(row.resource_version),
    observed: before.observed,
    activity: before.activity,
    created_at: before.created_at,
    updated_at: row.updated_at,
  };
  if (row.deletion !== null) ws.deletion = JSON.parse(row.deletion);
  return ws;
}

export function operationToRow(op: OperationRecord): OperationsTable {
  return {
    id: op.id,
    workspace: op.workspace,
    workspace_uid: op.workspace_uid ?? null,
    action: op.action,
    actor: op.actor,
    request: JSON.stringify(op.request ?? null),
    state: op.state,
    target_generation: op.target_generation,
    target_state: op.target_state,
    error: op.error ?? null,
    attempts: op.attempts,
    details: op.details === undefined ? null : JSON.stringify(op.details),
    created_at: op.created_at,
    started_at: op.started_at ?? null,
    finished_at: op.finished_at ?? null,
  };
}

export function rowToOperation(row: OperationsTable): OperationRecord {
  const op: OperationRecord = {
    id: row.id,
    workspace: row.workspace,
    action: row.action as OperationAction,
    actor: row.actor,
    request: JSON.parse(row.request),
    state: row.state as OperationState,
    target_generation: Number(row.target_generation),
    target_state: row.target_state as OperationRecord['target_state'],
    attempts: Number(row.attempts),
    created_at: row.created_at,
  };
  if (row.workspace_uid !== null) op.workspace_uid = row.workspace_uid;
  if (row.error !== null) op.error = row.error;
  if (row.details !== null) op.details = JSON.parse(row.details);
  if (row.started_at !== null) op.started_at = row.started_at;
  if (row.finished_at !== null) op.finished_at = row.finished_at;
  return op;
}

export function tokenToRow(t: TokenRecord): TokensTable {
  return {
    id: t.id,
    hash: t.hash,
    name: t.name,
    role: t.role,
    workspace: t.workspace ?? null,
    expires_at: t.expires_at ?? null,
    created_at: t.created_at,
    revoked_at: t.revoked_at ?? null,
  };
}

export function rowToToken(row: TokensTable): TokenRecord {
  const t: TokenRecord = {
    id: row.id,
    hash: row.hash,
    name: row.name,
    role: row.role as Role,
    created_at: row.created_at,
  };
  if (row.workspace !== null) t.workspace = row.workspace;
  if (row.expires_at !== null) t.expires_at = row.expires_at;
  if (row.revoked_at !== null) t.revoked_at = row.revoked_at;
  return t;
}

export function rowToGrant(row: GrantsTable): Grant {
  return { token_id: row.token_id, workspace: row.workspace, role: row.role as Role };
}

export function auditToRow(e: AuditEvent): Omit<AuditEventsTable, 'id'> {
  return {
    at: e.at,
    actor: e.actor,
    action: e.action,
    workspace: e.workspace ?? null,
    generation_before: e.generation_before ?? null,
    generation_after: e.generation_after ?? null,
    result: e.result,
    detail: e.detail ?? null,
    request_id: e.request_id ?? null,
  };
}

export function rowToAudit(row: Omit<AuditEventsTable, 'id'> & { id: number }): AuditEvent {
  const e: AuditEvent = {
    id: Number(row.id),
    at: row.at,
    actor: row.actor,
    action: row.action,
    result: row.result as AuditEvent['result'],
  };
  if (row.workspace !== null) e.workspace = row.workspace;
  if (row.generation_before !== null) e.generation_before = Number(row.generation_before);
  if (row.generation_after !== null) e.generation_after = Number(row.generation_after);
  if (row.detail !== null) e.detail = row.detail;
  if (row.request_id !== null) e.request_id = row.request_id;
  return e;
}

export function rowToIdempotency(row: IdempotencyKeysTable): IdempotencyRecord {
  return {
    key: row.key,
    actor: row.actor,
    fingerprint: row.fingerprint,
    response: JSON.parse(row.response),
    created_at: row.created_at,
  };
}

