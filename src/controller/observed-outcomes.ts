// What the controller hands its observer, derived from what it already decided: the operations a
// settle plan finished, and a short, bounded reason for a failed reconcile.
import type { OperationRecord } from '../core/types.js';
import type { FinishedOperation } from './observer.js';
import type { PlannedPatch } from './operation-writes.js';
import { DeadlineExceeded } from './work-queue.js';

export function finished(op: OperationRecord, result: FinishedOperation['result'], at: string): FinishedOperation {
  return { action: op.action, result, created_at: op.created_at, finished_at: at };
}

/** The operations a settle plan closes (succeeded or failed); those it leaves open are not among them. */
export function finishedByPlan(patches: readonly PlannedPatch[]): FinishedOperation[] {
  const out: FinishedOperation[] = [];
  for (const { op, patch } of patches) {
    if ((patch.state === 'succeeded' || patch.state === 'failed') && patch.finished_at) out.push(finished(op, patch.state, patch.finished_at));
  }
  return out;
}

/**
 * A label for a reconcile that threw: the deadline, a cancellation, or anything else the engine or the
 * store raised. Messages stay out of it (they would make a series per message); the workspace's
 * Reconciled condition carries the message.
 */
export function failureReason(error: unknown): string {
  if (error instanceof DeadlineExceeded) return 'DeadlineExceeded';
  if (error instanceof Error && error.name === 'AbortError') return 'Aborted';
  return 'RuntimeError';
}
