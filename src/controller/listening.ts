// How soon a running workspace whose port does not answer yet is looked at again: within a second
// of a start, so `Listening` turns True within seconds of the fact rather than at the next resync,
// and less often the longer it stays closed (a workspace that never listens costs little).
import type { ObservedState } from '../core/types.js';

const FIRST_MS = 1_000;
const LAST_MS = 60_000;

/** The delay before the next look, or undefined when nothing waits for a port. */
export function listeningProbeDelay(observed: ObservedState, nowMs: number): number | undefined {
  if (observed.status !== 'RUNNING') return undefined;
  const closed = observed.conditions.find((c) => c.type === 'Listening' && c.status === 'False');
  if (!closed) return undefined;
  const since = Date.parse(closed.last_transition_time);
  const waited = Number.isFinite(since) ? Math.max(0, nowMs - since) : 0;
  // A tenth of the time it has been closed: 1 s for the first 10 s, once a minute after 10 min
  // (a process that never listens then costs no more than the resync).
  return Math.min(LAST_MS, Math.max(FIRST_MS, Math.round(waited / 10)));
}
