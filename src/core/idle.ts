// The auto-termination decision, as a pure function of the signals and the policy, so the culler,
// the API view and the tests all agree on when a workspace is idle and when it will be stopped.
import type { ActivitySource, TerminationPolicy } from './types.js';

export interface ActivitySignal {
  /** Milliseconds since the epoch. */
  at: number;
  source: ActivitySource;
}

export interface IdleInput {
  policy: TerminationPolicy;
  /** Only a workspace that is running (desired and observed) can be stopped for idleness. */
  running: boolean;
  /** The latest activity known, from any source. */
  last?: ActivitySignal;
  /** Set when the workspace says it is busy whatever the times say (a pipeline run in progress). */
  busyReason?: string;
  now: number;
}

export interface IdleDecision {
  /** Whole seconds since the last activity; null when none is known. */
  idle_seconds: number | null;
  /** Stop it now. */
  due: boolean;
  /** When it will be stopped if nothing happens (ISO 8601, UTC); null when it will not be. */
  stops_at: string | null;
  /** Why it is not due although the policy is on. */
  busy_reason: string | null;
}

/** The latest of several signals (undefined ones ignored); ties keep the first. */
export function latestSignal(...signals: (ActivitySignal | undefined)[]): ActivitySignal | undefined {
  let best: ActivitySignal | undefined;
  for (const s of signals) {
    if (s && Number.isFinite(s.at) && (!best || s.at > best.at)) best = s;
  }
  return best;
}

/**
 * Idle means strictly longer than max_idle_seconds without activity. Activity stamped in the future
 * (clock skew of a workspace reporting its own times) counts as now, never as negative idleness.
 * Without any known activity nothing is due: the start of a workspace is itself recorded as activity,
 * so this only happens for rows written before activity was tracked.
 */
export function decideIdle(input: IdleInput): IdleDecision {
  const { policy, running, last, busyReason, now } = input;
  const idleMs = last ? Math.max(0, now - last.at) : undefined;
  const idle_seconds = idleMs === undefined ? null : Math.floor(idleMs / 1000);
  const enabled = policy.enable_auto_termination && running;
  if (!enabled) return { idle_seconds, due: false, stops_at: null, busy_reason: null };
  if (busyReason) return { idle_seconds, due: false, stops_at: null, busy_reason: busyReason };
  if (!last || idleMs === undefined) return { idle_seconds, due: false, stops_at: null, busy_reason: 'no activity recorded yet' };
  const limitMs = policy.max_idle_seconds * 1000;
  const stopAt = Math.min(now, last.at) + limitMs;
  return { idle_seconds, due: idleMs > limitMs, stops_at: new Date(stopAt).toISOString(), busy_reason: null };
}
