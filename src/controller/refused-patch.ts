// A patch the engine refused (an image that cannot be pulled, a config it rejects) changed nothing
// that runs: every runtime checks what it can before it touches the old instance. So when that
// instance still runs the workspace is RUNNING on its old generation, with a PatchFailed condition
// naming the change that was not applied, and the operation fails with the reason. FAILED is kept
// for a workspace of which nothing runs.
import type { Runtime, RuntimeWorkspace } from '../core/runtime.js';
import { PermanentRuntimeError } from '../core/runtime.js';
import type { ObservedState, WorkspaceRecord } from '../core/types.js';
import { mergeConditions, observedFromInstance } from './observed.js';

export const PATCH_FAILED = 'PatchFailed';

export async function observedAfterRefusedPatch(
  ws: WorkspaceRecord,
  runtime: Runtime,
  rws: RuntimeWorkspace | undefined,
  error: Error,
  signal: AbortSignal,
): Promise<ObservedState | undefined> {
  if (!(error instanceof PermanentRuntimeError) || !rws) return undefined;
  const running = ws.observed.observed_generation;
  if (ws.desired_state !== 'running' || running >= ws.generation || running === 0) return undefined;
  let instance;
  try {
    instance = await runtime.observe(rws, signal);
  } catch {
    return undefined;
  }
  if (instance.status !== 'RUNNING') return undefined;
  const now = new Date().toISOString();
  const base = observedFromInstance(ws.observed, { ...instance, generation: instance.generation ?? running }, 'running', running, now);
  const message = `generation ${ws.generation} was not applied: ${error.message}; generation ${base.observed_generation} keeps running`;
  return {
    ...base,
    conditions: mergeConditions(ws.observed.conditions, [
      ...base.conditions,
      { type: 'Reconciled', status: 'False', reason: error.reason, message },
      { type: PATCH_FAILED, status: 'True', reason: error.reason, message },
    ], now),
  };
}
