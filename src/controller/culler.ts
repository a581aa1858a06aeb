// The idle culler: every period it reads from the store's idle index only the running workspaces whose
// stored activity is older than their limit (O(due), not O(running)), decides from what is known which
// are idle, and only for those asks the workspace itself (the probe) before stopping it. Checks run in
// parallel up to a bound, each with its own timeout, and a workspace still being checked is skipped by
// later passes, so one slow workspace delays no other.
import { decideIdle, latestSignal, type ActivitySignal, type IdleDecision } from '../core/idle.js';
import type { AutoStopFigures, ClusterType, WorkspaceRecord } from '../core/types.js';
import { DEFAULT_USAGE_THRESHOLDS, usageActivity, type UsageSample, type UsageThresholds } from '../core/usage.js';
import type { IdleCursor, Store } from '../store/store.js';
import type { ActivityRecorder } from './activity.js';
import type { Logger } from '../lib/logger.js';
import type { CullerObserver } from './observer.js';
import { probeVia, probeWorkspace, type ProbeResult, type ProbeSettings, type WorkspaceHttpGet } from './probe.js';
import { stopRetryKey, stopRetryNotBefore, stopTry } from './stop-retry.js';
import { wantsPreStop } from './pre-stop.js';

/** At most how far ahead of being due a workspace's usage is sampled. */
export const USAGE_LOOKAHEAD_MAX_MS = 5 * 60_000;

export interface AutoStopper {
  autoStop(name: string, confirm: (ws: WorkspaceRecord) => AutoStopFigures | undefined): Promise<unknown>;
}

export interface CullerOptions {
  periodMs: number;
  /** The probe per cluster type; none (or an empty path) means no probe there. */
  probes: Map<ClusterType, ProbeSettings>;
  /** Workspaces checked at once. */
  concurrency: number;
  pageSize?: number;
  now?: () => number;
  /**
   * How to GET inside a workspace whose runtime reaches it through its engine (Kubernetes: the API
   * server's pod proxy, as the control plane may not reach a ClusterIP); undefined: its observed address.
   */
  httpGetFor?: (ws: WorkspaceRecord) => Promise<WorkspaceHttpGet | undefined>;
  /** Reads the workspace's CPU and network counters, when its runtime can tell (a resource signal). */
  usageFor?: (ws: WorkspaceRecord) => Promise<UsageSample | undefined>;
  /** Use above these between two passes counts as activity. */
  usageThresholds?: UsageThresholds;
  /** Told of passes, stops and skips (metrics). */
  observer?: CullerObserver;
}

export interface PassSummary {
  running: number;
  checked: number;
  stopped: string[];
}

/** What the culler last decided about a workspace it looked at, and why: for logs and tests. */
export interface CullDecision {
  /** When it was decided (milliseconds since the epoch, the culler's clock). */
  at: number;
  stopped: boolean;
  reason: string;
}

/** Why a workspace that is not due is kept, in words. */
function keptBecause(ws: WorkspaceRecord, decision: IdleDecision, last: ActivitySignal | undefined): string {
  if (decision.busy_reason) return `busy: ${decision.busy_reason}`;
  const max = ws.spec.lifecycle.termination_policy.max_idle_seconds;
  if (!decision.stops_at) return 'auto-termination does not apply to it now';
  return `last activity (${last?.source ?? 'none'}) ${decision.idle_seconds ?? '?'} s ago, within max_idle_seconds ${max}`;
}

function storedSignal(ws: WorkspaceRecord): ActivitySignal | undefined {
  const at = ws.activity.last_activity_at ? Date.parse(ws.activity.last_activity_at) : NaN;
  return Number.isFinite(at) ? { at, source: ws.activity.last_activity_source ?? 'api' } : undefined;
}

export class Culler {
  private timer?: NodeJS.Timeout;
  /** The checks running now, of any pass, by workspace. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * The last usage sample of each workspace near its limit, to compare the next one with, and the
   * automatic stop try the workspace had when it was taken.
   */
  private readonly samples = new Map<string, { usage: UsageSample; stopTry: string | undefined }>();
  private readonly decisions = new Map<string, CullDecision>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly stopper: AutoStopper,
    private readonly activity: ActivityRecorder,
    private readonly logger: Logger,
    private readonly options: CullerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.pass().catch((err) => this.logger.error({ err }, 'idle culler pass failed'));
    }, this.options.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The last decision about a workspace, once a pass has looked at it (kept for a few periods). */
  lastDecision(name: string): CullDecision | undefined {
    return this.decisions.get(name);
  }

  private noteDecision(name: string, stopped: boolean, reason: string): void {
    this.decisions.set(name, { at: this.now(), stopped, reason });
  }

  /** The last signal known for a workspace, stored or newer in memory. */
  private lastSignal(ws: WorkspaceRecord): ActivitySignal | undefined {
    return latestSignal(storedSignal(ws), this.activity.peek(ws.name));
  }

  /** The row of postponed stops a stop of the workspace now belongs to (stop-retry.ts): new activity starts another. */
  private retryKey(ws: WorkspaceRecord): string {
    const last = this.lastSignal(ws);
    return stopRetryKey('idle', last ? new Date(last.at).toISOString() : 'never active', ws);
  }

  /** The decision for a workspace from what is known without asking it. */
  decide(ws: WorkspaceRecord, busyReason?: string): IdleDecision {
    return decideIdle({
      policy: ws.spec.lifecycle.termination_policy,
      running: ws.desired_state === 'running' && ws.observed.status === 'RUNNING' && !ws.deletion,
      last: this.lastSignal(ws),
      busyReason,
      now: this.now(),
    });
  }

  /**
   * One pass. Resolves once the workspaces it found due have been checked (tests await it; the
   * timer does not, so a slow check never holds back the next pass).
   */
  async pass(): Promise<PassSummary> {
    const began = performance.now();
    const summary: PassSummary = { running: 0, checked: 0, stopped: [] };
    const checks: Promise<void>[] = [];
    const pageSize = this.options.pageSize ?? 500;
    // The count reads only the status index; the candidates are those whose stored activity makes them
    // due. Activity known only in memory is newer, so it can only take a candidate out, never add one.
    const now = this.now();
    summary.running = (await this.store.listWorkspaces({ status: ['RUNNING'], limit: 0, offset: 0 })).total;
    // With a resource signal, workspaces due within the next period are read too: their usage is
    // sampled now so that, when they are due, there is a sample to compare with.
    // The look-ahead is bounded: with a long period a pass would otherwise read nearly every running
    // workspace, and a sample taken that long before the workspace is due says little about it then.
    const horizon = this.options.usageFor ? now + Math.min(this.options.periodMs, USAGE_LOOKAHEAD_MAX_MS) : now;
    for (let after: IdleCursor | undefined, first = true; first || after; first = false) {
      const page = await this.store.listIdleCandidates(horizon, pageSize, after);
      after = page.next;
      for (const ws of page.workspaces) {
        if (this.inFlight.has(ws.name)) continue;
        // Sampled though not stopped now: the use since this sample is known when the workspace is next decided on.
        const sampleOnly = () => {
          if (!this.options.usageFor) return;
          checks.push(
            this.bounded(() => this.sampleUsage(ws)).then(
              () => undefined,
              (err) => this.logger.warn({ workspace: ws.name, err }, 'usage sample failed'),
            ),
          );
        };
        const decision = this.decide(ws);
        if (!decision.due) {
          this.noteDecision(ws.name, false, keptBecause(ws, decision, this.lastSignal(ws)));
          sampleOnly();
          continue;
        }
        const notBefore = stopRetryNotBefore(ws, this.retryKey(ws), now);
        if (notBefore !== undefined) {
          // Use while the stop waits for its next try is activity, which starts its backoff over.
          this.noteDecision(ws.name, false, `its last stop was postponed by its pre-stop; the next try is at ${new Date(notBefore).toISOString()}`);
          sampleOnly();
          continue;
        }
        summary.checked++;
        const checking = this.bounded(() => this.check(ws))
          .then((stopped) => void (stopped && summary.stopped.push(ws.name)))
          .catch((err) => this.logger.error({ workspace: ws.name, err }, 'idle check failed'))
          .finally(() => this.inFlight.delete(ws.name));
        this.inFlight.set(ws.name, checking);
        checks.push(checking);
      }
    }
    await Promise.all(checks);
    // A workspace may leave the candidates for a while (fresh activity) and come back: keep its
    // sample until it is too old to compare with, so the comparison does not start over.
    const oldest = now - 3 * this.options.periodMs - 60_000;
    for (const [name, sample] of this.samples) if (sample.usage.at < oldest) this.samples.delete(name);
    for (const [name, decided] of this.decisions) if (decided.at < oldest) this.decisions.delete(name);
    this.options.observer?.passed?.(performance.now() - began);
    return summary;
  }

  /**
   * Resolves once the checks running now, begun by any pass, are done. After `await pass()` and then
   * this, every workspace that was due has been decided on, including one the pass skipped because an
   * earlier pass was still checking it.
   */
  async settled(): Promise<void> {
    await Promise.all(this.inFlight.values());
  }

  /**
   * Samples the workspace's CPU and network counters; use above the thresholds since the previous
   * sample is recorded as activity (source cpu or network). Returns the source when it was busy.
   */
  private async sampleUsage(ws: WorkspaceRecord): Promise<string | undefined> {
    const next = await this.options.usageFor?.(ws);
    if (!next) return undefined;
    const prev = this.samples.get(ws.name);
    const retry = ws.activity.stop_retry;
    const stopTry = retry && JSON.stringify(retry);
    this.samples.set(ws.name, { usage: next, stopTry });
    // An automatic stop tried since the last sample ran the workspace's pre-stop, whose work is not the
    // user's: counted, a pre-stop that keeps failing would restart the idle clock at every try.
    if (prev && prev.stopTry !== stopTry) return undefined;
    const used = prev && usageActivity(prev.usage, next, this.options.usageThresholds ?? DEFAULT_USAGE_THRESHOLDS);
    if (!used) return undefined;
    await this.activity.record(ws.name, used.source, Math.min(next.at, this.now()));
    return used.source;
  }

  /** Asks the workspace (when its cluster type has a probe), then stops it if it is still due. */
  private async check(ws: WorkspaceRecord): Promise<boolean> {
    if (this.options.usageFor) {
      try {
        const busy = await this.sampleUsage(ws);
        if (busy) {
          this.noteDecision(ws.name, false, `busy: ${busy} use above the threshold since the last sample`);
          this.options.observer?.skipped?.(busy);
          return false;
        }
      } catch (err) {
        this.logger.warn({ workspace: ws.name, err }, 'usage sample failed; deciding without it');
      }
    }
    const settings = this.options.probes.get(ws.cluster_type);
    let probe: ProbeResult | undefined;
    if (settings?.path) {
      let via: WorkspaceHttpGet | undefined;
      try {
        via = await this.options.httpGetFor?.(ws);
      } catch (err) {
        probe = { ok: false, error: `cannot reach workspace ${ws.name} through its runtime: ${(err as Error).message}` };
      }
      if (via) probe = await probeVia(via, `workspace ${ws.name} (through the ${ws.cluster_type} API)`, settings);
      else if (!probe && ws.observed.ip) probe = await probeWorkspace(ws.observed.ip, settings);
      if (probe) await this.recordProbe(ws, probe);
    }
    const busy = probe?.ok && probe.activeRuns > 0 ? `${probe.activeRuns} pipeline run(s) active` : undefined;
    let kept = 'it is gone or no longer running';
    let skippedBy: string | undefined;
    const op = await this.stopper.autoStop(ws.name, (current) => {
      const decision = this.decide(current, busy);
      const last = this.lastSignal(current);
      if (!decision.due || !last) {
        kept = keptBecause(current, decision, last);
        // Kept by newer activity (named by its source) or a running pipeline; 'not_due' when
        // auto-termination was turned off, or the workspace stopped, meanwhile.
        skippedBy = busy ? 'pipeline_run' : decision.stops_at !== null && last ? last.source : 'not_due';
        return undefined;
      }
      const policy = current.spec.lifecycle.termination_policy;
      const now = this.now();
      // Asked again under the lock: a try is made at most once per backoff step, however passes overlap.
      if (stopRetryNotBefore(current, this.retryKey(current), now) !== undefined) {
        kept = 'its last stop was postponed by its pre-stop; not yet time to try again';
        return undefined;
      }
      return {
        reason: `idle for ${decision.idle_seconds} s, longer than max_idle_seconds ${policy.max_idle_seconds}`,
        decided_at: new Date(now).toISOString(),
        last_activity_at: new Date(last.at).toISOString(),
        last_activity_source: last.source,
        idle_seconds: decision.idle_seconds,
        max_idle_seconds: policy.max_idle_seconds,
        probe: probe === undefined ? 'not configured' : probe.ok ? { active_pipeline_run_count: probe.activeRuns, last_activity_at: probe.lastActivityMs === undefined ? null : new Date(probe.lastActivityMs).toISOString() } : { error: probe.error },
        ...(wantsPreStop(current.spec.lifecycle) ? { retry: stopTry(current, this.retryKey(current), now) } : {}),
      };
    });
    if (op) {
      this.logger.info({ workspace: ws.name }, 'stopped an idle workspace');
      this.options.observer?.stopped?.('idle');
    } else if (skippedBy) {
      this.options.observer?.skipped?.(skippedBy);
    }
    this.noteDecision(ws.name, Boolean(op), op ? 'idle past max_idle_seconds' : kept);
    return Boolean(op);
  }

  /** A probe's times are activity (a running pipeline is activity now); a failure is reported, never activity. */
  private async recordProbe(ws: WorkspaceRecord, probe: ProbeResult): Promise<void> {
    if (!probe.ok) {
      if (ws.activity.probe_error !== probe.error) await this.activity.update(ws.name, (a) => ({ ...a, probe_error: probe.error }));
      return;
    }
    if (ws.activity.probe_error !== undefined) {
      await this.activity.update(ws.name, (a) => {
        const { probe_error: _dropped, ...rest } = a;
        return rest;
      });
    }
    const at = probe.activeRuns > 0 ? this.now() : probe.lastActivityMs;
    if (at !== undefined) await this.activity.record(ws.name, 'probe', Math.min(at, this.now()));
  }

  private async bounded<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.options.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
