// A dry run's second opinion: the engine itself (Kubernetes' dryRun=All) is asked whether it would take
// the workspace as the patch makes it. A refusal is the client's to fix (a 400 naming the fields); an
// engine that cannot be asked leaves the plan answered, marked unchecked.
import type { ChangePlan } from '../core/change-plan.js';
import { WsmError } from '../core/errors.js';
import { EngineRejection } from '../core/runtime.js';
import type { WorkspaceRecord } from '../core/types.js';

/** Asks a cluster type's engine whether it would accept the workspace as given; returns what it checked. */
export type EngineDryRun = (ws: WorkspaceRecord, signal?: AbortSignal) => Promise<string[]>;

/** Sets plan.engine_check, or throws the 400 the engine's refusal becomes. */
export async function checkWithEngine(check: EngineDryRun, workspace: WorkspaceRecord, plan: ChangePlan, signal?: AbortSignal): Promise<void> {
  try {
    const checked = await check(workspace, signal);
    plan.engine_check = { status: 'accepted', message: `the engine accepted the change without making it: ${checked.join(', ')}` };
  } catch (err) {
    if (err instanceof EngineRejection) {
      throw new WsmError('validation_error', `The ${workspace.cluster_type} engine would reject this change: ${err.message}`, err.causes);
    }
    plan.engine_check = { status: 'unavailable', message: `the engine could not be asked: ${(err as Error).message}` };
  }
}
