// The columns of a workspace row that the idle culler and the scheduler select by, derived from its
// spec and activity.
import type { ActivityState, WorkspaceSpec } from '../core/types.js';

export interface IdleColumns {
  /** max_idle_seconds in ms when auto-termination is on, else null. */
  idle_limit_ms: number | null;
  last_activity_ms: number | null;
  /** When it becomes due if nothing else happens; null when it never does. */
  cull_at: number | null;
}

export function idleLimitMs(spec: WorkspaceSpec): number | null {
  const policy = spec.lifecycle?.termination_policy;
  return policy?.enable_auto_termination ? policy.max_idle_seconds * 1000 : null;
}

export function lastActivityMs(activity: ActivityState): number | null {
  const at = activity.last_activity_at ? Date.parse(activity.last_activity_at) : NaN;
  return Number.isFinite(at) ? at : null;
}

export function idleColumns(spec: WorkspaceSpec, activity: ActivityState): IdleColumns {
  const idle_limit_ms = idleLimitMs(spec);
  const last_activity_ms = lastActivityMs(activity);
  const cull_at = idle_limit_ms === null || last_activity_ms === null ? null : last_activity_ms + idle_limit_ms;
  return { idle_limit_ms, last_activity_ms, cull_at };
}

/** 1 when the workspace has a schedule (the scheduler reads only those), else 0. */
export function scheduledColumn(spec: WorkspaceSpec): 0 | 1 {
  return spec.lifecycle?.schedule ? 1 : 0;
}
