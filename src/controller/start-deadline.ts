// The start deadline (container_config.start_timeout_seconds, 10 min by default: above the 5 min
// pre-start timeout). A create, resume or patch whose workspace is not ready by then (the instance
// not running, or post-start still waiting for the port) fails its operation with a reason, and the
// run counts as a failed one: the instance is ended and the restart policy decides what comes next.
import type { ObservedInstance } from '../core/runtime.js';
import type { ContainerConfig, ObservedState, OperationRecord, Termination } from '../core/types.js';
import { POST_START } from './post-start.js';

export const DEFAULT_START_TIMEOUT_SECONDS = 600;

export function startTimeoutMs(container: ContainerConfig): number {
  return (container.start_timeout_seconds ?? DEFAULT_START_TIMEOUT_SECONDS) * 1000;
}

export interface OverdueStart {
  op: OperationRecord;
  /** PodNotCreated, ImagePull, Unschedulable, PreStartTimedOut, NotListening or NotReady. */
  reason: string;
  message: string;
}

/** Why a start is not ready, from what the engine says now and what the last pass recorded. */
function notReadyReason(instance: ObservedInstance, previous: ObservedState): string {
  const conditions = [...(instance.conditions ?? []), ...previous.conditions];
  const waitsForPort = conditions.some((c) => (c.type === POST_START && c.reason === 'Pending') || (c.type === 'Listening' && c.status === 'False'));
  if (instance.status === 'RUNNING' && waitsForPort) return 'NotListening';
  // First: a refusal's words (a quota on memory, a policy on images) would read as the reasons below.
  if (conditions.some((c) => c.reason === 'FailedCreate' && c.status === 'False')) return 'PodNotCreated';
  const said = [instance.message ?? '', ...conditions.filter((c) => c.status === 'False').map((c) => `${c.reason} ${c.message}`)].join(' ');
  if (/pull|image/i.test(said)) return 'ImagePull';
  if (/unschedulable|insufficient/i.test(said)) return 'Unschedulable';
  if (/pre-?start/i.test(said)) return 'PreStartTimedOut';
  return 'NotReady';
}

/** The open start operation (newest, begun, desired running) whose deadline has passed, if any. */
export function overdueStart(
  container: ContainerConfig,
  openOps: OperationRecord[],
  instance: ObservedInstance,
  previous: ObservedState,
  nowMs: number,
): OverdueStart | undefined {
  const op = openOps[openOps.length - 1];
  if (!op || op.target_state !== 'running' || op.state !== 'running' || !op.started_at) return undefined;
  const limitMs = startTimeoutMs(container);
  if (nowMs - Date.parse(op.started_at) < limitMs) return undefined;
  const reason = notReadyReason(instance, previous);
  const what = instance.message ? `: ${instance.message}` : '';
  return { op, reason, message: `${reason}: not ready within start_timeout_seconds (${limitMs / 1000} s)${what}` };
}

/** The ended run a missed deadline leaves, for the restart policy. */
export function deadlineTermination(overdue: OverdueStart, at: string): Termination {
  return { reason: overdue.reason, oom_killed: false, finished_at: at };
}
