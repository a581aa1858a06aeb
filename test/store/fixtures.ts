// Records for the store tests, complete enough that a round trip through the database is meaningful.
import type { OperationRecord, TokenRecord, WorkspaceRecord } from '../../src/core/types.js';

export function workspace(name: string, overrides: Partial<WorkspaceRecord> = {}): WorkspaceRecord {
  return {
    name,
    uid: `uid-${name}`,
    cluster_type: 'docker',
    project_uuid: 'proj-1',
    spec: {
      container: {
        image: 'mageai/mageai:latest',
        env: [{ name: 'A', value: 'ünïcode "quoted" \n newline' }],
        resources: { limits: { cpu: '1', memory: '1Gi' } },
      },
      lifecycle: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 600 } },
      storage: {
        access_mode: 'ReadWriteOnce',
        request_size: '2Gi',
        retention_policy: 'Retain',
        mount_path: '/home/src',
      },
      ingress: { enabled: false },
      namespace: 'default',
      inherited_env: [],
    },
    desired_state: 'running',
    generation: 1,
    resource_version: 1,
    observed: {
      status: 'PENDING',
      observed_generation: 0,
      conditions: [{ type: 'Ready', status: 'False', reason: 'Creating', last_transition_time: '2024-01-01T00:00:00.000Z' }],
      updated_at: '2024-01-01T00:00:00.000Z',
    },
    activity: {},
    created_at: '2024-01-01T00:00:00.000Z',
    updated_at: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A workspace whose spec names another namespace (the list filter reads it). */
export function inNamespace(ws: WorkspaceRecord, namespace: string | undefined): WorkspaceRecord {
  const spec = { ...ws.spec };
  if (namespace === undefined) delete spec.namespace;
  else spec.namespace = namespace;
  return { ...ws, spec };
}

export function operation(id: string, workspace: string, overrides: Partial<OperationRecord> = {}): OperationRecord {
  return {
    id,
    workspace,
    workspace_uid: `uid-${workspace}`,
    action: 'resume',
    actor: 'token:abc',
    request: { workspace: { action: 'resume' } },
    state: 'pending',
    target_generation: 1,
    target_state: 'running',
    attempts: 0,
    created_at: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function token(id: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id,
    hash: `hash-of-${id}`,
    name: `token ${id}`,
    role: 'editor',
    created_at: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** ISO time `seconds` after a fixed start, so ordering by time is unambiguous. */
export function at(seconds: number): string {
  return new Date(Date.UTC(2024, 0, 1) + seconds * 1000).toISOString();
}
