// Post-start where the engine runs it (Kubernetes: the container's postStart hook). The controller
// does not run anything: it reads the record the run left (runtime.readPostStart) and shows it exactly
// as Docker and local runs are shown (the PostStart / PostStartFailed condition, details.post_start on
// the start's operation, fail_on_error stopping the instance).
//
// When to read: after a new start is observed RUNNING (the kubelet does not report a container running
// before its postStart hook ended), until a record comes; and while a start crash-loops, because a hook
// that fails with fail_on_error gets the container killed, so that start never becomes RUNNING.
import type { PostStartRecord, Runtime, RuntimeWorkspace } from '../core/runtime.js';
import type { ObservedState, OperationRecord, WorkspaceRecord } from '../core/types.js';
import type { Logger } from '../lib/logger.js';
import { isPostStartCondition, POST_START, resultCondition, wantsPostStart, withPostStartConditions, type PostStartResult } from './post-start.js';

/** How long a RUNNING start may go without a readable record before that is reported (as a warning). */
export const RECORD_GRACE_MS = 30_000;

/** Container states after which a failed postStart hook is worth looking for. */
const CRASHING = new Set(['CrashLoopBackOff', 'PostStartHookError', 'RunContainerError']);

export interface EnginePostStartDeps {
  logger: Logger;
  /** The run each workspace's result was last recorded for, so a run is recorded once. */
  recorded: Map<string, string>;
  recordOnOperation(ws: Pick<WorkspaceRecord, 'uid'>, result: PostStartResult): Promise<OperationRecord | undefined>;
}

export interface EnginePostStartOutcome {
  observed: ObservedState;
  /** Still waiting for a record: look again soon. */
  recheck: boolean;
  /** The operation the result was written to. */
  operation?: OperationRecord;
}

function missingRecord(pendingSince: string, failOnError: boolean): PostStartRecord {
  const now = new Date().toISOString();
  return {
    ok: false,
    // Not having found the record is no proof that the hook failed: never fatal.
    fail_on_error: false,
    steps: [{ step: 'hook', exit_code: -1, duration_ms: 0, timed_out: false, output: `no record of the post-start run was found in the workspace ${RECORD_GRACE_MS / 1000} s after it was running (fail_on_error ${failOnError} not applied)` }],
    started_at: pendingSince,
    finished_at: now,
    run_id: `missing/${pendingSince}`,
  };
}

export async function enginePostStart(
  ws: WorkspaceRecord,
  runtime: Runtime,
  rws: RuntimeWorkspace,
  reported: ObservedState,
  deps: EnginePostStartDeps,
  signal: AbortSignal,
): Promise<EnginePostStartOutcome> {
  const prev = ws.observed;
  const at = new Date().toISOString();
  const wanted = wantsPostStart(ws);
  const desiredRunning = ws.desired_state === 'running';
  const newStart = reported.status === 'RUNNING' && (prev.status !== 'RUNNING' || prev.observed_generation !== reported.observed_generation);
  let observed = withPostStartConditions(prev, reported, { newStart, wanted, desiredRunning, now: at });
  if (!wanted || !runtime.readPostStart) return { observed, recheck: false };

  const pendingMark = observed.conditions.find((c) => c.type === POST_START && c.reason === 'Pending');
  const crashing = desiredRunning && reported.status === 'PENDING' && (reported.conditions ?? []).some((c) => c.reason !== undefined && CRASHING.has(c.reason));
  if (!pendingMark && !crashing) return { observed, recheck: false };

  let record: PostStartRecord | undefined;
  try {
    record = await runtime.readPostStart(rws, signal);
  } catch (err) {
    deps.logger.warn({ workspace: ws.name, err }, 'could not read the post-start record');
  }
  if (record && deps.recorded.get(ws.name) === record.run_id) record = undefined;
  // While crash-looping only a failure counts: a success there is an older container's record.
  if (record && !pendingMark && record.ok) record = undefined;
  if (!record && pendingMark && observed.status === 'RUNNING' && Date.parse(pendingMark.last_transition_time) + RECORD_GRACE_MS < Date.now()) {
    record = missingRecord(pendingMark.last_transition_time, Boolean(ws.spec.lifecycle.post_start?.fail_on_error));
  }
  if (!record) return { observed, recheck: Boolean(pendingMark) };

  deps.recorded.set(ws.name, record.run_id);
  const { run_id: _run, ...result } = record;
  const condition = { ...resultCondition(result), last_transition_time: at };
  observed = { ...observed, conditions: [...observed.conditions.filter((c) => !isPostStartCondition(c)), condition] };
  const operation = await deps.recordOnOperation(ws, result);
  deps.logger[result.ok ? 'info' : 'warn']({ workspace: ws.name, ok: result.ok, steps: result.steps.map((s) => ({ step: s.step, exit_code: s.exit_code, timed_out: s.timed_out })) }, result.ok ? 'post-start finished' : 'post-start failed');
  if (!result.ok && result.fail_on_error && (observed.status === 'RUNNING' || observed.status === 'PENDING')) {
    // As on Docker: the instance is stopped and the workspace stays FAILED until it is started again
    // (on Kubernetes it would otherwise crash-loop, the hook failing on every restart).
    const stopped = await runtime.apply({ ...rws, desired: 'stopped' }, signal);
    observed = withPostStartConditions(observed, { ...observed, status: stopped.status, ip: undefined, url: undefined }, { newStart: false, wanted, desiredRunning: true, now: at });
  }
  return { observed, recheck: false, operation };
}
