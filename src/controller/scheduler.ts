// Schedules (lifecycle_config.schedule): every period the leader looks at the workspaces that have
// one (only those are read, from the store's index of them) and starts or stops those whose start or stop time has come since their schedule was last acted
// on. That mark is kept in the store with the workspace (activity.schedule_checked_at), so a restart
// loses nothing: times that passed while no leader ran are found at the first pass after it, and the
// latest of them decides (core/schedule.ts). The clock is injected: tests move it instead of waiting.
import { scheduleStep, type ScheduleStep } from '../core/schedule.js';
import type { OperationRecord, WorkspaceRecord } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../lib/logger.js';
import { wantsPreStop } from './pre-stop.js';
import { stopRetryKey, stopRetryNotBefore, stopTry } from './stop-retry.js';

export interface ScheduledActor {
  scheduled(name: string, decide: (ws: WorkspaceRecord) => ScheduleStep | undefined): Promise<OperationRecord | undefined>;
}

export interface SchedulerOptions {
  periodMs: number;
  now?: () => number;
  pageSize?: number;
}

export interface SchedulePass {
  started: string[];
  stopped: string[];
}

export class Scheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<SchedulePass>;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly actor: ScheduledActor,
    private readonly logger: Logger,
    private readonly options: SchedulerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.pass().catch((err) => this.logger.error({ err }, 'schedule pass failed')), this.options.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over every scheduled workspace; a pass asked for while one runs waits for it and runs after. */
  async pass(): Promise<SchedulePass> {
    const before = this.running ?? Promise.resolve(undefined);
    const mine = before.catch(() => undefined).then(() => this.passOnce());
    this.running = mine;
    try {
      return await mine;
    } finally {
      if (this.running === mine) this.running = undefined;
    }
  }

  private async passOnce(): Promise<SchedulePass> {
    const result: SchedulePass = { started: [], stopped: [] };
    const pageSize = this.options.pageSize ?? 500;
    const now = this.now();
    // Only the workspaces with a schedule are read, from an index: they are few among many.
    for (let after: string | undefined, first = true; first || after; first = false) {
      const page = await this.store.listScheduled(pageSize, after);
      after = page.next;
      for (const ws of page.workspaces) {
        if (!ws.spec.lifecycle.schedule || ws.deletion) continue;
        try {
          const op = await this.actor.scheduled(ws.name, (current) => {
            const schedule = current.spec.lifecycle.schedule;
            const step = schedule && scheduleStep(schedule, current.activity.schedule_checked_at, now);
            if (step?.action !== 'stop' || !step.fire_at || !wantsPreStop(current.spec.lifecycle)) return step;
            // A stop its pre-stop postponed stays owed, and is tried again with backoff (stop-retry.ts).
            const key = stopRetryKey('schedule', step.fire_at, current);
            return stopRetryNotBefore(current, key, now) === undefined ? { ...step, retry: stopTry(current, key, now) } : undefined;
          });
          if (op?.action === 'scheduled_start') result.started.push(ws.name);
          if (op?.action === 'scheduled_stop') result.stopped.push(ws.name);
          if (op) this.logger.info({ workspace: ws.name, action: op.action, operation: op.id }, 'schedule acted');
        } catch (err) {
          this.logger.warn({ workspace: ws.name, err }, 'schedule could not act on the workspace');
        }
      }
    }
    return result;
  }
}
