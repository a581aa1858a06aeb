// An automatic stop that its pre-stop postponed is tried again later, with backoff per workspace: each
// try in a row waits twice as long as the one before (lib/backoff.ts, with jitter), up to a cap. The
// row is kept with the workspace (activity.stop_retry), so every replica and every new leader sees it,
// and it is over once the workspace is no longer postponed (a stop went through), or once what made the
// stop due or the pre_stop itself changed (another key). docs/lifecycle.md.
import { createHash } from 'node:crypto';
import type { StopRetry, WorkspaceRecord } from '../core/types.js';
import { backoffDelay, type BackoffPolicy, type Random } from '../lib/backoff.js';
import { PRE_STOP_FAILED, STOP_POSTPONED } from './pre-stop.js';

/** A minute after the first postponement (the idle check's default period), doubling to half an hour. */
export const STOP_RETRY_BACKOFF: BackoffPolicy = { baseMs: 60_000, maxMs: 30 * 60_000, jitter: 0.2 };

/** Which automatic stop: the idle check's, or the schedule's. */
export type AutomaticStop = 'idle' | 'schedule';

/**
 * The row a try belongs to: the kind of stop, what made it due (the last activity for an idle stop,
 * the schedule's time for a scheduled one) and the pre_stop. New activity or an edited pre_stop
 * starts a new row: the stop is then tried at once.
 */
export function stopRetryKey(kind: AutomaticStop, dueBecause: string, ws: WorkspaceRecord): string {
  const preStop = createHash('sha256').update(JSON.stringify(ws.spec.lifecycle.pre_stop ?? null)).digest('hex').slice(0, 12);
  return `${kind}@${dueBecause}#${preStop}`;
}

/** The row the workspace is in: its last automatic stop was postponed by its pre-stop, for this key. */
function row(ws: WorkspaceRecord, key: string): StopRetry | undefined {
  const postponed = ws.observed.conditions.some((c) => c.type === PRE_STOP_FAILED && c.reason === STOP_POSTPONED);
  const last = ws.activity.stop_retry;
  return postponed && last?.key === key ? last : undefined;
}

/** When the stop may be tried again, if not now (milliseconds since the epoch). */
export function stopRetryNotBefore(ws: WorkspaceRecord, key: string, now: number): number | undefined {
  const last = row(ws, key);
  const at = last ? Date.parse(last.next_retry_at) : NaN;
  return Number.isFinite(at) && at > now ? at : undefined;
}

/** The try made now: its number in the row, and when the next may come should this one be postponed too. */
export function stopTry(ws: WorkspaceRecord, key: string, now: number, random: Random = Math.random): StopRetry {
  const attempt = (row(ws, key)?.attempt ?? 0) + 1;
  return { key, attempt, next_retry_at: new Date(now + backoffDelay(STOP_RETRY_BACKOFF, attempt, random)).toISOString() };
}
