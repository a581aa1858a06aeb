// What a workspace's schedule (lifecycle_config.schedule) asks for, as pure functions of the time:
// when it next starts and stops, and which of its start and stop times have come since it was last
// acted on. Only the latest of those counts: a start missed while the control plane was down is made
// up when no stop came after it (the window is still open), and forgotten when one did.
import { nextFire, parseCron, previousFire, type CronExpression } from './cron.js';
import type { ScheduleConfig, StopRetry } from './types.js';

export type ScheduledAction = 'start' | 'stop';

export interface ScheduleStep {
  /** What to do now; absent: only move `checked_at` on. */
  action?: ScheduledAction;
  /** The schedule time the action is for (ISO 8601). */
  fire_at?: string;
  /** Acted on up to here from now on (ISO 8601). */
  checked_at: string;
  /** A stop tried again after its pre-stop postponed it: which try it is (kept with the workspace). */
  retry?: StopRetry;
}

function cron(text: string | undefined): CronExpression | undefined {
  if (!text) return undefined;
  const parsed = parseCron(text);
  // Stored schedules were checked on the way in; one that no longer parses does nothing.
  return 'error' in parsed ? undefined : parsed;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The next start and stop after `now` (ISO 8601), null where the schedule has none. */
export function nextScheduleTimes(schedule: ScheduleConfig | undefined, now: number): { next_autostart_at: string | null; next_autostop_at: string | null } {
  if (!schedule) return { next_autostart_at: null, next_autostop_at: null };
  const start = cron(schedule.autostart);
  const stop = cron(schedule.autostop);
  return {
    next_autostart_at: iso(start && nextFire(start, schedule.timezone, now)),
    next_autostop_at: iso(stop && nextFire(stop, schedule.timezone, now)),
  };
}

/**
 * The step for a pass at `now`, given the time the schedule was last acted on up to. Without one the
 * schedule begins now (nothing before it is acted on). Undefined when nothing has come since.
 */
export function scheduleStep(schedule: ScheduleConfig, checkedAt: string | undefined, now: number): ScheduleStep | undefined {
  const since = checkedAt === undefined ? NaN : Date.parse(checkedAt);
  if (!Number.isFinite(since)) return { checked_at: new Date(now).toISOString() };
  const latest = (text: string | undefined) => {
    const c = cron(text);
    const at = c && previousFire(c, schedule.timezone, now);
    return at !== undefined && at > since ? at : undefined;
  };
  const start = latest(schedule.autostart);
  const stop = latest(schedule.autostop);
  if (start === undefined && stop === undefined) return undefined;
  // A start and a stop at the same minute: the stop wins, so a mistaken schedule never keeps one running.
  const action: ScheduledAction = stop !== undefined && (start === undefined || stop >= start) ? 'stop' : 'start';
  const fireAt = action === 'stop' ? stop! : start!;
  return { action, fire_at: new Date(fireAt).toISOString(), checked_at: new Date(now).toISOString() };
}
