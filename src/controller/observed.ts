// Turns what a runtime reported (or the error it raised) into the observed state kept in the store,
// carrying condition transition times over so they change only when the condition does.
import type { ObservedInstance } from '../core/runtime.js';
import type { Condition, DesiredState, InstanceStatus, ObservedState } from '../core/types.js';

export function statusMatchesDesired(status: InstanceStatus, desired: DesiredState): boolean {
  return desired === 'running' ? status === 'RUNNING' : status === 'STOPPED';
}

/**
 * The conditions of a new observed state: exactly one per type, in the order types first appear,
 * a later entry of a type replacing an earlier one (the more specific word wins); each keeps its
 * transition time while its status and reason stay the same.
 */
export function mergeConditions(previous: readonly Condition[], next: readonly Omit<Condition, 'last_transition_time'>[], now: string): Condition[] {
  // A Map keeps a key where it was first set: the first place of a type, holding its last entry.
  const byType = new Map<string, Omit<Condition, 'last_transition_time'>>();
  for (const c of next) byType.set(c.type, c);
  return [...byType].map(([type, c]) => {
    const before = previous.find((p) => p.type === type);
    const unchanged = before && before.status === c.status && before.reason === c.reason;
    return { ...c, last_transition_time: unchanged ? before.last_transition_time : now };
  });
}

export function observedFromInstance(
  previous: ObservedState,
  instance: ObservedInstance,
  desired: DesiredState,
  generation: number,
  now: string,
): ObservedState {
  const ready = statusMatchesDesired(instance.status, desired);
  // Ready is the controller's word (does what runs match what was asked?); when it does not, the
  // runtime's own Ready says why more precisely (Exited, OOMKilled, CrashLoopBackOff, …).
  const engineReady = instance.conditions?.find((c) => c.type === 'Ready');
  const conditions: Omit<Condition, 'last_transition_time'>[] = [
    ready
      ? { type: 'Ready', status: 'True', reason: desired === 'running' ? 'Running' : 'Stopped', ...(instance.message ? { message: instance.message } : {}) }
      : {
          type: 'Ready',
          status: 'False',
          reason: engineReady?.reason ?? instance.termination?.reason ?? (instance.status === 'FAILED' ? 'Failed' : 'Progressing'),
          ...((engineReady?.message ?? instance.message) ? { message: engineReady?.message ?? instance.message } : {}),
        },
    { type: 'Reconciled', status: 'True', reason: 'Applied' },
    ...(instance.conditions ?? []).filter((c) => c.type !== 'Ready'),
  ];
  return {
    status: instance.status,
    observed_generation: instance.generation ?? generation,
    ip: instance.ip,
    url: instance.url,
    instance_type: instance.instance_type,
    instance_name: instance.instance_name,
    exit_code: instance.exit_code,
    message: instance.message,
    conditions: mergeConditions(previous.conditions, conditions, now),
    ...(previous.restarts ? { restarts: previous.restarts } : {}),
    ...(previous.last_termination ? { last_termination: previous.last_termination } : {}),
    updated_at: now,
  };
}

/** The runtime failed to act: keep what was last seen, say why, and mark it unavailable if the engine is gone. */
export function observedFromError(
  previous: ObservedState,
  error: Error,
  reason: string,
  status: InstanceStatus,
  now: string,
): ObservedState {
  const kept = previous.conditions.filter((c) => c.type !== 'Reconciled' && c.type !== 'Ready');
  return {
    ...previous,
    status,
    message: error.message,
    conditions: mergeConditions(
      previous.conditions,
      [
        { type: 'Ready', status: 'False', reason, message: error.message },
        { type: 'Reconciled', status: 'False', reason, message: error.message },
        ...kept,
      ],
      now,
    ),
    updated_at: now,
  };
}

/**
 * Whether two observed states say the same apart from when they were taken: a reconcile that saw
 * nothing new writes nothing (a resync of every workspace would otherwise rewrite every row). A
 * difference in key order only costs a write.
 */
export function sameObserved(a: ObservedState, b: ObservedState): boolean {
  return JSON.stringify({ ...a, updated_at: '' }) === JSON.stringify({ ...b, updated_at: '' });
}

/** Shown while an action is under way, before the runtime has reported back. */
export function transitionalStatus(current: InstanceStatus, desired: DesiredState, deleting: boolean): InstanceStatus | undefined {
  if (deleting) return 'DELETING';
  if (desired === 'stopped' && current === 'RUNNING') return 'STOPPING';
  if (desired === 'running' && (current === 'STOPPED' || current === 'UNAVAILABLE' || current === 'FAILED')) return 'PENDING';
  return undefined;
}
