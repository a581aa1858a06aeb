// Turns what a runtime reported (or the error it raised) into the observed state kept in the store,
// carrying condition transition times over so they change only when the condition does.
import type { ObservedInstance } from '../core/runtime.js';
import type { Condition, DesiredState, InstanceStatus, ObservedState } from '../core/types.js';

export function statusMatchesDesired(status: InstanceStatus, desired: DesiredState): boolean {
  return desired === 'running' ? status === 'RUNNING' : status === 'STOPPED';
}

function mergeConditions(previous: Condition[], next: Omit<Condition, 'last_transition_time'>[], now: string): Condition[] {
  return next.map((c) => {
    const before = previous.find((p) => p.type === c.type);
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
  const conditions: Omit<Condition, 'last_transition_time'>[] = [
    {
      type: 'Ready',
      status: ready ? 'True' : 'False',
      reason: ready ? (desired === 'running' ? 'Running' : 'Stopped') : instance.status === 'FAILED' ? 'Failed' : 'Progressing',
      message: instance.message,
    },
    { type: 'Reconciled', status: 'True', reason: 'Applied' },
    ...(instance.conditions ?? []),
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
