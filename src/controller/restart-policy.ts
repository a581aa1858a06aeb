// The restart policy, decided the same way for every runtime: a workspace desired running whose
// instance ended (exited, was killed, was stopped or removed behind wsm's back) is started again,
// at once the first time and then after a backoff that doubles per restart in a row (10 s to 5 min
// by default, ±10 % jitter), forgiven once a run lasted the reset time (10 min). While it waits, the
// workspace says so (CrashLoopBackOff, with the next retry time). Pure: the reconciler acts on it.
import type { RestartPolicy, RestartState, Termination } from '../core/types.js';
import { backoffDelay, type Random } from '../lib/backoff.js';

export interface RestartTiming {
  /** The wait before the second restart in a row (the first is immediate); it doubles from there. */
  initialMs: number;
  /** The wait stops doubling here. */
  maxMs: number;
  /** A run at least this long forgives the restarts before it: the next one is immediate again. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_TIMING: RestartTiming = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

const JITTER = 0.1;

/** on-failure restarts anything but a clean exit 0 (an unknown code counts as a failure). */
export function policyRestarts(policy: RestartPolicy, termination: Termination): boolean {
  if (policy === 'always') return true;
  if (policy === 'never') return false;
  return termination.exit_code !== 0 || termination.reason === 'Missing';
}

export type RestartDecision =
  /** Start it now; `restarts` is the state once it has been started. */
  | { kind: 'restart'; restarts: RestartState }
  /** Back off: look again in waitMs; `restarts` carries next_retry_at. */
  | { kind: 'wait'; restarts: RestartState; waitMs: number }
  /** The policy says no: the workspace stays FAILED. */
  | { kind: 'leave'; restarts: RestartState; policy: RestartPolicy };

export function noRestarts(): RestartState {
  return { count: 0, streak: 0 };
}

/**
 * What to do about an instance found ended at `nowMs`. A wait already decided (next_retry_at) is
 * kept until it is over, whatever the engine says of the end's time in between, so each end waits
 * once and a restart is counted once.
 */
export function decideRestart(
  policy: RestartPolicy,
  timing: RestartTiming,
  previous: RestartState | undefined,
  termination: Termination,
  nowMs: number,
  random: Random = Math.random,
): RestartDecision {
  const prev = previous ?? noRestarts();
  if (!policyRestarts(policy, termination)) {
    const { next_retry_at: _pending, ...rest } = prev;
    return { kind: 'leave', restarts: { ...rest, handled_termination_at: termination.finished_at }, policy };
  }
  let retryAtMs: number;
  let streak = prev.streak;
  if (prev.next_retry_at !== undefined) {
    retryAtMs = Date.parse(prev.next_retry_at);
  } else {
    const endedMs = Date.parse(termination.finished_at);
    const endedAt = Number.isFinite(endedMs) ? Math.min(endedMs, nowMs) : nowMs;
    const lastRestartMs = prev.last_restart_at ? Date.parse(prev.last_restart_at) : NaN;
    const ranLongEnough = !Number.isFinite(lastRestartMs) || endedAt - lastRestartMs >= timing.resetAfterMs;
    if (ranLongEnough) streak = 0;
    const delay = streak === 0 ? 0 : backoffDelay({ baseMs: timing.initialMs, maxMs: timing.maxMs, jitter: JITTER }, streak, random);
    retryAtMs = endedAt + delay;
  }
  if (retryAtMs > nowMs) {
    return {
      kind: 'wait',
      waitMs: retryAtMs - nowMs,
      restarts: { ...prev, streak, next_retry_at: new Date(retryAtMs).toISOString(), handled_termination_at: termination.finished_at },
    };
  }
  const { next_retry_at: _done, ...rest } = prev;
  return {
    kind: 'restart',
    restarts: { ...rest, count: prev.count + 1, streak: streak + 1, last_restart_at: new Date(nowMs).toISOString(), handled_termination_at: termination.finished_at },
  };
}

/** Restarts the engine made by itself (the kubelet), added to the count once each. */
export function countEngineRestarts(previous: RestartState | undefined, engine: { instance_id: string; count: number }): RestartState {
  const prev = previous ?? noRestarts();
  const before = prev.engine_instance === engine.instance_id ? prev.engine_count ?? 0 : 0;
  const added = Math.max(0, engine.count - before);
  return { ...prev, count: prev.count + added, engine_instance: engine.instance_id, engine_count: engine.count };
}
