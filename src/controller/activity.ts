// Records activity of workspaces (heartbeats, probes, starts) without writing to the store on every
// signal: the newest signal per workspace is kept in memory at once (the culler reads it from here)
// and written at most once per debounce interval, the last one of a burst always landing.
// API actions are not recorded here: they write their activity in the same transaction as the change.
// Reads (GET) are not activity at all: a console or monitor polling would keep every workspace alive.
import { latestSignal, type ActivitySignal } from '../core/idle.js';
import type { ActivitySource, ActivityState } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../lib/logger.js';

export interface ActivityRecorderOptions {
  /** At most one store write per workspace per this many ms. */
  debounceMs: number;
}

export class ActivityRecorder {
  private readonly latest = new Map<string, ActivitySignal>();
  private readonly lastWrite = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: ActivityRecorderOptions = { debounceMs: 5_000 },
  ) {}

  /** The newest signal seen for a workspace, written or not. */
  peek(name: string): ActivitySignal | undefined {
    return this.latest.get(name);
  }

  /** Notes a signal; resolves once it is in the store or scheduled to be. Older signals are ignored. */
  async record(name: string, source: ActivitySource, at = Date.now()): Promise<void> {
    const next = latestSignal(this.latest.get(name), { at, source });
    if (next === this.latest.get(name)) return;
    this.latest.set(name, next!);
    const since = Date.now() - (this.lastWrite.get(name) ?? 0);
    if (since >= this.options.debounceMs && !this.timers.has(name)) {
      await this.write(name);
      return;
    }
    if (!this.timers.has(name)) {
      const timer = setTimeout(() => {
        this.timers.delete(name);
        void this.write(name);
      }, Math.max(0, this.options.debounceMs - since));
      timer.unref();
      this.timers.set(name, timer);
    }
  }

  /** Changes other activity fields (probe error, auto-stop figures) at once, keeping the time fields newest. */
  async update(name: string, change: (current: ActivityState) => ActivityState): Promise<void> {
    await this.serial(name, async () => {
      await this.store.transaction(async (tx) => {
        const ws = await tx.getWorkspace(name);
        if (!ws) return;
        await tx.setActivity(name, this.withLatest(name, change(ws.activity)));
      });
    });
  }

  /** Forgets a workspace (it was deleted). */
  forget(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    this.latest.delete(name);
    this.lastWrite.delete(name);
  }

  /** Writes whatever is pending now (at shutdown). */
  async flush(): Promise<void> {
    const names = [...this.timers.keys()];
    for (const name of names) {
      clearTimeout(this.timers.get(name));
      this.timers.delete(name);
    }
    await Promise.all(names.map((name) => this.write(name)));
    await Promise.all(this.writing.values());
  }

  private withLatest(name: string, activity: ActivityState): ActivityState {
    const mine = this.latest.get(name);
    const stored = activity.last_activity_at ? { at: Date.parse(activity.last_activity_at), source: activity.last_activity_source ?? 'api' } : undefined;
    const newest = latestSignal(stored, mine);
    if (!newest || newest === stored) return activity;
    return { ...activity, last_activity_at: new Date(newest.at).toISOString(), last_activity_source: newest.source };
  }

  private async write(name: string): Promise<void> {
    this.lastWrite.set(name, Date.now());
    try {
      await this.update(name, (a) => a);
    } catch (err) {
      this.logger.warn({ workspace: name, err }, 'could not record workspace activity');
    }
  }

  /** One read-modify-write per workspace at a time, so two writers never undo each other. */
  private async serial(name: string, fn: () => Promise<void>): Promise<void> {
    const before = this.writing.get(name) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const settled = mine.catch(() => undefined);
    this.writing.set(name, settled);
    try {
      await mine;
    } finally {
      if (this.writing.get(name) === settled) this.writing.delete(name);
    }
  }
}
