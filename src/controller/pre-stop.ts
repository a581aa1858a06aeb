// Pre-stop: lifecycle_config.pre_stop runs inside the workspace (runtime.exec, on every runtime)
// before the controller stops or deletes it, so work can be saved first. Its command, then its hook,
// share one time budget (timeout_seconds). What a failure means depends on who asked for the stop:
// an automatic one (idle, schedule) is postponed and the workspace stays up; a manual one is refused
// (the operation fails, `force: true` skips the pre-stop); a delete goes ahead and reports it.
import type { ExecResult, Runtime, RuntimeWorkspace } from '../core/runtime.js';
import type { Condition, LifecycleConfig, OperationRecord, StopRetry } from '../core/types.js';
import { DEFAULT_PRE_STOP_SECONDS } from '../core/lifecycle.js';
import { hookCommand, lastLines, type StepResult } from './post-start.js';

export const PRE_STOP_FAILED = 'PreStopFailed';
/** Reasons of the PreStopFailed condition. */
export const STOP_POSTPONED = 'StopPostponed';
export const STOP_REFUSED = 'StopRefused';

/** The statuses in which the instance may still hold unsaved work (a retried reconcile reads the transitional ones). */
const UP = new Set(['RUNNING', 'STOPPING', 'DELETING']);

export interface PreStopResult {
  ok: boolean;
  steps: StepResult[];
  started_at: string;
  finished_at: string;
  /** Set when nothing ran, and why ("force"). */
  skipped?: string;
}

export function wantsPreStop(lifecycle: LifecycleConfig): boolean {
  return Boolean(lifecycle.pre_stop?.command?.length || lifecycle.pre_stop?.hook_path);
}

/** Stops that wsm makes by itself: a failing pre-stop postpones them instead of failing anyone's request. */
export function isAutomaticStop(op: OperationRecord): boolean {
  return op.action === 'auto_stop' || op.action === 'scheduled_stop';
}

export function forced(op: OperationRecord): boolean {
  const request = op.request as { force?: unknown } | null;
  return typeof request === 'object' && request !== null && request.force === true;
}

/**
 * The operation whose stop or delete a pre-stop has to run for now: the newest open one that asks for
 * it, while the instance may still be up, and only once (its result is kept in the operation's details).
 */
export function preStopDue(lifecycle: LifecycleConfig, observedStatus: string, openOps: OperationRecord[]): OperationRecord | undefined {
  if (!wantsPreStop(lifecycle) || !UP.has(observedStatus)) return undefined;
  const op = openOps[openOps.length - 1];
  if (!op || (op.target_state !== 'stopped' && op.target_state !== 'deleted')) return undefined;
  return op.details?.pre_stop === undefined ? op : undefined;
}

function describeStep(s: StepResult): string {
  const what = s.step === 'command' ? 'pre-stop command' : 'pre-stop hook';
  const how = s.timed_out ? `timed out after ${(s.duration_ms / 1000).toFixed(1)} s` : `exited with code ${s.exit_code} after ${(s.duration_ms / 1000).toFixed(1)} s`;
  const tail = lastLines(s.output);
  return `${what} ${how}${tail ? `: ${tail}` : ''}`;
}

/** One sentence on a failed run, with what happened to the stop. */
export function failureMessage(result: PreStopResult, op: OperationRecord): string {
  const failed = result.steps.find((s) => s.exit_code !== 0 || s.timed_out);
  const what = failed ? describeStep(failed) : 'pre-stop failed';
  if (op.target_state === 'deleted') return `${what}; the workspace was deleted all the same`;
  if (isAutomaticStop(op)) {
    const who = op.action === 'scheduled_stop' ? 'the schedule' : 'the idle check';
    const retry = (op.request as { retry?: Partial<StopRetry> } | null)?.retry;
    const when = typeof retry?.next_retry_at === 'string' ? ` at ${retry.next_retry_at}, after try ${retry.attempt}` : '';
    return `${what}; the stop was postponed and the workspace keeps running (${who} tries again${when})`;
  }
  return `${what}; the workspace was not stopped (stop with "force": true to skip the pre-stop)`;
}

export function preStopCondition(result: PreStopResult, op: OperationRecord): Omit<Condition, 'last_transition_time'> {
  return { type: PRE_STOP_FAILED, status: 'True', reason: isAutomaticStop(op) ? STOP_POSTPONED : STOP_REFUSED, message: failureMessage(result, op) };
}

/** Runs the command and then the hook inside the workspace, within `timeoutMs` altogether. */
export async function runPreStop(runtime: Runtime, rws: RuntimeWorkspace, timeoutMs: number, signal: AbortSignal): Promise<PreStopResult> {
  const started_at = new Date().toISOString();
  const deadline = Date.now() + timeoutMs;
  const steps: StepResult[] = [];
  const exec = async (step: StepResult['step'], command: string[]) => {
    const begun = Date.now();
    const budget = Math.max(1, deadline - begun);
    let r: ExecResult;
    try {
      if (!runtime.exec) throw new Error(`the ${runtime.clusterType} runtime cannot run commands in a workspace`);
      r = await runtime.exec(rws, command, budget, signal);
    } catch (err) {
      r = { exit_code: -1, output: (err as Error).message, duration_ms: Date.now() - begun, timed_out: false };
    }
    steps.push({ step, exit_code: r.exit_code, duration_ms: r.duration_ms, timed_out: r.timed_out, output: lastLines(r.output) });
    return r.exit_code === 0 && !r.timed_out;
  };
  let ok = true;
  const command = rws.lifecycle.pre_stop?.command;
  if (command?.length) ok = await exec('command', command);
  if (ok && rws.hooks.pre_stop) ok = await exec('hook', hookCommand(rws.hooks.pre_stop.content));
  return { ok, steps, started_at, finished_at: new Date().toISOString() };
}

/** The pre-stop's budget: its timeout_seconds, bounded by what is left of the reconcile's deadline. */
export function preStopBudgetMs(lifecycle: LifecycleConfig, reconcileDeadlineMs: number): number {
  const wanted = (lifecycle.pre_stop?.timeout_seconds ?? DEFAULT_PRE_STOP_SECONDS) * 1000;
  return Math.max(1_000, Math.min(wanted, reconcileDeadlineMs - 10_000));
}
