// How a reconcile changes its workspace's operations, as patches decided in memory: the reconciler
// then writes them in one transaction with the observed state (the store's change feed tells whoever
// waits for them).
import type { InstanceStatus, OperationRecord } from '../core/types.js';
import type { OperationPatch, Store, StoreOps } from '../store/store.js';
import { statusMatchesDesired } from './observed.js';

export interface PlannedPatch {
  op: OperationRecord;
  patch: OperationPatch;
}

/**
 * An operation succeeds once its generation and desired state are observed; an older one that a
 * newer one overtook before that happened is closed as superseded; the newest still open only counts
 * an attempt. `open` says how many stay open.
 */
export function planSettle(
  ops: OperationRecord[],
  status: InstanceStatus,
  observedGeneration: number,
  message: string | undefined,
  at: string,
): { patches: PlannedPatch[]; open: number } {
  const patches: PlannedPatch[] = [];
  let open = 0;
  for (const [index, op] of ops.entries()) {
    const newest = index === ops.length - 1;
    const attempts = op.attempts + 1;
    const reached = op.target_state !== 'deleted' && observedGeneration >= op.target_generation && statusMatchesDesired(status, op.target_state);
    if (reached) {
      patches.push({ op, patch: { state: 'succeeded', error: null, finished_at: at, attempts } });
    } else if (status === 'FAILED' && newest) {
      patches.push({ op, patch: { state: 'failed', error: message ?? 'the workspace failed', finished_at: at, attempts } });
    } else if (!newest) {
      const last = ops[ops.length - 1]!;
      patches.push({ op, patch: { state: 'failed', error: `superseded by operation ${last.id} (${last.action})`, finished_at: at, attempts } });
    } else {
      open++;
      patches.push({ op, patch: { attempts } });
    }
  }
  return { patches, open };
}

/** Records on each operation still open why it has not settled (when that changed), and drops it once it has. */
export function noteWaiting(patches: PlannedPatch[], why: string | undefined): void {
  for (const { op, patch } of patches) {
    const noted = op.details?.waiting_for;
    if (patch.state !== undefined || why === undefined) {
      if (noted === undefined) continue;
      const { waiting_for: _done, ...rest } = op.details!;
      patch.details = rest;
    } else if (noted !== why) {
      patch.details = { ...(op.details ?? {}), waiting_for: why };
    }
  }
}

export type StoreWrite = (store: StoreOps) => Promise<unknown>;

/** Runs the writes in one transaction (one commit), or alone when there is only one. */
export async function writeTogether(store: Store, writes: (StoreWrite | undefined | false)[]): Promise<void> {
  const todo = writes.filter((w): w is StoreWrite => typeof w === 'function');
  if (todo.length === 0) return;
  if (todo.length === 1) {
    await todo[0]!(store);
    return;
  }
  await store.transaction(async (tx) => {
    for (const write of todo) await write(tx);
  });
}
