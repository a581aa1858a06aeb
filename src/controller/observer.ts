// What the controller and the culler tell an observer (metrics) as they work: thin calls at the points
// where something is decided, so that counting stays out of the reconcile logic. Every method may be
// left out; the default observer ignores everything.
import type { ClusterType, OperationRecord } from '../core/types.js';

export interface FinishedOperation {
  action: OperationRecord['action'];
  result: 'succeeded' | 'failed';
  /** When it was requested and when it finished, ISO 8601. */
  created_at: string;
  finished_at: string;
}

export type ReconcileOutcome = 'settled' | 'requeued' | 'error';

export interface ControllerObserver {
  /** One reconcile ran for this long and ended so. */
  reconciled?(durationMs: number, outcome: ReconcileOutcome): void;
  /** A reconcile failed: `retried` when it will be tried again with backoff, not when the failure is permanent. */
  reconcileFailed?(reason: string, retried: boolean): void;
  /** Operations of a workspace of this cluster type reached succeeded or failed (each once). */
  operationsFinished?(clusterType: ClusterType, ops: readonly FinishedOperation[]): void;
  /** A workspace's instance was started again `count` times since the last look, after ending so (`reason`). */
  restarted?(clusterType: ClusterType, count: number, reason: string): void;
  /** A workspace that keeps ending began to wait before its next restart (CrashLoopBackOff). */
  backedOff?(clusterType: ClusterType): void;
}

export interface CullerObserver {
  /** A pass over the due workspaces ended after this long (its checks included). */
  passed?(durationMs: number): void;
  /** A workspace was stopped; `reason` is why (idle). */
  stopped?(reason: string): void;
  /** A due workspace was not stopped because this signal showed activity (cpu, network, probe, heartbeat, api, pipeline_run, ...). */
  skipped?(signal: string): void;
}
