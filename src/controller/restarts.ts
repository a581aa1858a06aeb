// Carries out the restart policy inside a reconcile (the decision itself: restart-policy.ts). On
// Docker and local wsm restarts an ended instance itself; on Kubernetes the kubelet does (a
// StatefulSet allows only Always), wsm counts its restarts and, for on-failure and never, scales the
// workspace to 0 once it sees the termination. Either way the workspace shows the same fields:
// restarts (count, next retry), last_termination, and a Ready condition that says what happens.
import type { ObservedInstance, Runtime, RuntimeWorkspace } from '../core/runtime.js';
import { describeTermination } from '../core/termination.js';
import type { Condition, InstanceStatus, RestartState, Termination, WorkspaceRecord } from '../core/types.js';
import type { Logger } from '../lib/logger.js';
import { restartPolicyOf } from '../core/restart-policy.js';
import { countEngineRestarts, decideRestart, noRestarts, policyRestarts, type RestartTiming } from './restart-policy.js';
import { POST_START_FAILED, WORKSPACE_FAILED } from './post-start.js';

export interface RestartOutcome {
  instance: ObservedInstance;
  restarts: RestartState;
  last_termination?: Termination;
  /** Backing off: look again then. */
  requeueAfterMs?: number;
}

const ENDED: ReadonlySet<InstanceStatus> = new Set(['FAILED', 'STOPPED', 'UNAVAILABLE', 'SUCCEEDED']);

type PlainCondition = Omit<Condition, 'last_transition_time'>;

function withReady(instance: ObservedInstance, status: InstanceStatus, ready: PlainCondition): ObservedInstance {
  const others = (instance.conditions ?? []).filter((c) => c.type !== 'Ready');
  return { ...instance, status, message: ready.message, conditions: [ready, ...others] };
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.max(1, Math.round(ms / 1000))} s`;
}

/**
 * The end this pass is about: the engine's; else the one a pending wait, or a decision to leave it
 * ended, was about (so looking again changes nothing); else a new one, "found ended" now.
 */
function terminationFor(instance: ObservedInstance, restarts: RestartState, last: Termination | undefined, nowIso: string): Termination {
  if (instance.termination) return instance.termination;
  const restartedSince = last !== undefined && restarts.last_restart_at !== undefined && restarts.last_restart_at >= last.finished_at;
  if (last && (restarts.next_retry_at !== undefined || (restarts.handled_termination_at === last.finished_at && !restartedSince))) return last;
  const missing = instance.status === 'UNAVAILABLE';
  return { reason: missing ? 'Missing' : 'Stopped', oom_killed: false, finished_at: nowIso };
}

export interface RestartContext {
  runtime: Runtime;
  rws: RuntimeWorkspace;
  timing: RestartTiming;
  logger: Logger;
  signal: AbortSignal;
  /** An action was just applied: the backoff starts afresh (a user's resume or patch is not a crash). */
  actionApplied: boolean;
  /** Runs a start within the controller's limit on starts at once; unbounded when absent. */
  limitStart?: <T>(start: () => Promise<T>) => Promise<T>;
}

export async function applyRestartPolicy(ws: WorkspaceRecord, instance: ObservedInstance, ctx: RestartContext): Promise<RestartOutcome> {
  const now = Date.now();
  const nowIso = new Date(now).toISOString();
  let restarts = ws.observed.restarts ?? noRestarts();
  if (ctx.actionApplied) {
    const { next_retry_at: _cleared, ...rest } = restarts;
    restarts = { ...rest, streak: 0 };
  }
  let last = ws.observed.last_termination;
  if (instance.engine_restarts) restarts = countEngineRestarts(restarts, instance.engine_restarts);
  if (instance.termination) last = instance.termination;
  const policy = restartPolicyOf(ws.spec.container);
  const heldByPostStart = ws.observed.conditions.some((c) => c.type === POST_START_FAILED && c.reason === WORKSPACE_FAILED);
  if (ws.desired_state !== 'running' || ws.deletion || heldByPostStart) return { instance, restarts: withoutWait(restarts), last_termination: last };

  if (instance.engine_restarts || !ENDED.has(instance.status)) {
    restarts = withoutWait(restarts);
    const retry = instance.engine_restarts?.next_retry_at;
    if (retry) restarts = { ...restarts, next_retry_at: retry };
    // Kubernetes: the kubelet restarts by itself; a policy that says no is carried out by scaling to 0.
    const term = instance.engine_restarts ? instance.termination : undefined;
    if (term && !policyRestarts(policy, term) && restarts.handled_termination_at !== term.finished_at) {
      ctx.logger.info({ workspace: ws.name, policy, termination: term }, 'instance ended; not restarted under its restart policy: scaling to 0');
      const stopped = await ctx.runtime.apply({ ...ctx.rws, desired: 'stopped' }, ctx.signal);
      restarts = { ...restarts, handled_termination_at: term.finished_at };
      return { instance: leftEnded(stopped, term, policy), restarts, last_termination: term };
    }
    return { instance, restarts, last_termination: last };
  }

  const termination = terminationFor(instance, restarts, last, nowIso);
  const decision = decideRestart(policy, ctx.timing, restarts, termination, now);
  if (decision.kind === 'leave') return { instance: leftEnded(instance, termination, policy), restarts: decision.restarts, last_termination: termination };
  if (decision.kind === 'wait') {
    const what = endedMessage(instance, termination);
    const message = `${what}; back-off ${seconds(decision.waitMs)} before restart ${decision.restarts.count + 1} (at ${decision.restarts.next_retry_at})`;
    const ready = { type: 'Ready', status: 'False' as const, reason: 'CrashLoopBackOff', message };
    return { instance: withReady(instance, 'FAILED', ready), restarts: decision.restarts, last_termination: termination, requeueAfterMs: decision.waitMs };
  }
  ctx.logger.warn({ workspace: ws.name, restart: decision.restarts.count, termination }, 'instance ended while desired running: restarting it');
  const start = () => ctx.runtime.apply(ctx.rws, ctx.signal);
  const started = await (ctx.limitStart ? ctx.limitStart(start) : start());
  return { instance: started, restarts: decision.restarts, last_termination: termination };
}

/** The runtime's own sentence when it has one (a pre-start failure names the script's last lines). */
function endedMessage(instance: ObservedInstance, termination: Termination): string {
  return instance.termination && instance.message ? instance.message : describeTermination(termination);
}

function withoutWait(restarts: RestartState): RestartState {
  if (restarts.next_retry_at === undefined) return restarts;
  const { next_retry_at: _cleared, ...rest } = restarts;
  return rest;
}

/** Ended, and the policy keeps it so: FAILED, saying why it is not started again. */
function leftEnded(instance: ObservedInstance, termination: Termination, policy: string): ObservedInstance {
  const message = `${endedMessage(instance, termination)}; not restarted (restart_policy ${policy})`;
  return withReady({ ...instance, ip: undefined, url: undefined }, 'FAILED', { type: 'Ready', status: 'False', reason: termination.reason, message });
}
