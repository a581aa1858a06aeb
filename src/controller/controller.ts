// The reconciler: level-triggered, it reads the workspace from the store, asks the runtime to make
// the instance match it, writes what it observed, and settles the operations that asked for it.
// It wakes for a workspace when the store's change feed says a request changed it (or wrote it an
// operation), when the engine reports a change, and on resync. Nothing lives only in memory: after a
// restart, start() requeues everything and it converges.
import { effectiveEnv } from '../core/env.js';
import type { UsageSample } from '../core/usage.js';
import { PermanentRuntimeError, type Runtime, type RuntimeWorkspace } from '../core/runtime.js';
import type { ClusterType, ObservedState, OperationRecord, WorkspaceRecord } from '../core/types.js';
import type { StoreChange } from '../store/change-feed.js';
import type { Store } from '../store/store.js';
import { ActivityRecorder } from './activity.js';
import { loadHookScripts } from '../lib/hook-scripts.js';
import { mergeConditions, observedFromError, observedFromInstance, sameObserved, statusMatchesDesired, transitionalStatus } from './observed.js';
import { failureMessage, forced, preStopBudgetMs, preStopCondition, preStopDue, PRE_STOP_FAILED, runPreStop, type PreStopResult } from './pre-stop.js';
import { isPostStartCondition, pendingMessage, PostStartRunner, resultCondition, wantsPostStart, withPostStartConditions, POST_START } from './post-start.js';
import { enginePostStart } from './post-start-engine.js';
import type { WorkspaceHttpGet } from './probe.js';
import { noteWaiting, planSettle, writeTogether, type StoreWrite } from './operation-writes.js';
import { WorkQueue, type HandlerResult, type QueueStats } from './work-queue.js';
import { DEFAULT_RESTART_TIMING, type RestartTiming } from './restart-policy.js';
import { applyRestartPolicy, type RestartOutcome } from './restarts.js';
import { listeningProbeDelay } from './listening.js';
import { observedAfterRefusedPatch } from './refused-patch.js';
import { deadlineTermination, overdueStart } from './start-deadline.js';
import type { Logger } from '../lib/logger.js';
import { StartGate, type StartStats } from './start-gate.js';
import { UnsettledBackoff } from './unsettled.js';
import type { ControllerObserver } from './observer.js';
import { failureReason, finished, finishedByPlan } from './observed-outcomes.js';

export interface ControllerOptions {
  hooksDir: string;
  /** The image of a workspace that names none when the cluster settings name none (decided by the config). */
  defaultImage: string;
  /** Parallel reconciles across workspaces. */
  concurrency: number;
  /** How often every workspace is reconciled even without events. */
  resyncIntervalMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How soon a workspace that is still converging (e.g. a pod starting) is looked at again. */
  progressRequeueMs: number;
  /** A workspace still converging without progress is looked at again after progressRequeueMs, doubling up to this. */
  unsettledMaxMs: number;
  /** A reconcile still running after this long is cancelled (its runtime calls end) and retried with backoff. */
  reconcileDeadlineMs: number;
  /** Bound of each post-start step (Docker and local), and of the wait for the workspace to answer first. */
  postStartTimeoutMs: number;
  /** At most one activity write per workspace per this many ms (heartbeats, probes). */
  activityDebounceMs: number;
  /** Told of reconciles, their failures and finished operations (metrics); nothing by default. */
  observer?: ControllerObserver;
  /** The restart policy's backoff (restart-policy.ts): 10 s doubling to 5 min, forgiven after 10 min running. */
  restartTiming: RestartTiming;
  /**
   * Instances being started at once, at most (runtime calls that start or recreate one): after a
   * host reboot every desired-running workspace needs a start, and the engine gets them a few at a
   * time instead of all together. Reconciles that only look or stop are not held back.
   */
  maxConcurrentStarts: number;
}

export const DEFAULT_CONTROLLER_OPTIONS: Omit<ControllerOptions, 'hooksDir' | 'defaultImage'> = {
  concurrency: 16,
  resyncIntervalMs: 60_000,
  retryBaseMs: 500,
  retryMaxMs: 60_000,
  progressRequeueMs: 500,
  unsettledMaxMs: 60_000,
  reconcileDeadlineMs: 120_000,
  postStartTimeoutMs: 300_000,
  activityDebounceMs: 5_000,
  restartTiming: DEFAULT_RESTART_TIMING,
  maxConcurrentStarts: 10,
};


/** What a reconcile is woken for: a workspace a request created or changed, or wrote an operation for. */
function wakes(change: StoreChange): string | undefined {
  if (change.kind === 'operation-inserted') return change.operation.workspace;
  if (change.kind === 'workspace' && (change.write === 'created' || change.write === 'desired')) return change.name;
  return undefined;
}

export class Controller {
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];
  private readonly unsubscribe: () => void;
  /** The newest operation of each workspace that the runtime has already been asked to carry out. */
  private readonly appliedOps = new Map<string, string>();
  private resyncTimer?: NodeJS.Timeout;
  private readonly options: ControllerOptions;
  /** Activity from heartbeats, probes and starts (the culler and the heartbeat route use it). */
  readonly activity: ActivityRecorder;
  private readonly postStart: PostStartRunner;
  /** Post-start runs the engine ran (Kubernetes) whose record is already written, per workspace. */
  private readonly enginePostStartRuns = new Map<string, string>();
  private readonly starts: StartGate;
  private readonly unsettled: UnsettledBackoff;

  constructor(
    private readonly store: Store,
    private readonly runtimes: Map<ClusterType, Runtime>,
    private readonly logger: Logger,
    options: Partial<ControllerOptions> & Pick<ControllerOptions, 'hooksDir' | 'defaultImage'>,
  ) {
    this.options = { ...DEFAULT_CONTROLLER_OPTIONS, ...options };
    this.starts = new StartGate(this.options.maxConcurrentStarts);
    this.unsettled = new UnsettledBackoff({ baseMs: this.options.progressRequeueMs, maxMs: this.options.unsettledMaxMs, jitter: 0.2 });
    this.activity = new ActivityRecorder(store, logger, { debounceMs: this.options.activityDebounceMs });
    this.postStart = new PostStartRunner(store, logger, { timeoutMs: this.options.postStartTimeoutMs }, (name) => this.enqueue(name));
    this.queue = new WorkQueue((name, signal) => this.reconcile(name, signal), {
      concurrency: this.options.concurrency,
      baseDelayMs: this.options.retryBaseMs,
      maxDelayMs: this.options.retryMaxMs,
      deadlineMs: this.options.reconcileDeadlineMs,
      onRun: this.options.observer?.reconciled?.bind(this.options.observer),
    }, (name, error, attempt) => {
      this.options.observer?.reconcileFailed?.(failureReason(error), true);
      this.logger.warn({ workspace: name, attempt, err: error }, 'reconcile failed; retrying with backoff');
    });
    // A request's transaction publishes its changes one after another (the workspace, then its
    // operation): queued together at the end of the turn, they wake one reconcile, not a second one for
    // the same commit (the first would have started already and have read both).
    let woken: Set<string> | undefined;
    this.unsubscribe = store.changes.subscribe((change) => {
      const name = wakes(change);
      if (name === undefined) return;
      if (woken === undefined) {
        woken = new Set();
        queueMicrotask(() => {
          const names = woken!;
          woken = undefined;
          for (const each of names) this.enqueue(each);
        });
      }
      woken.add(name);
    });
  }

  /** A GET inside the workspace through its runtime, when the runtime offers one (the culler's probe on Kubernetes). */
  async httpGetFor(ws: WorkspaceRecord): Promise<WorkspaceHttpGet | undefined> {
    const runtime = this.runtimes.get(ws.cluster_type);
    if (!runtime?.httpGet) return undefined;
    const rws = await this.toRuntimeWorkspace(ws);
    return (path, timeoutMs) => runtime.httpGet!(rws, path, timeoutMs, AbortSignal.timeout(timeoutMs));
  }

  /** Whether any configured runtime reports resource counters (usageFor can answer). */
  get reportsUsage(): boolean {
    return [...this.runtimes.values()].some((runtime) => runtime.usage !== undefined);
  }

  /** The workspace's resource counters through its runtime, when the runtime can tell. */
  async usageFor(ws: WorkspaceRecord): Promise<UsageSample | undefined> {
    const runtime = this.runtimes.get(ws.cluster_type);
    if (!runtime?.usage) return undefined;
    return runtime.usage(await this.toRuntimeWorkspace(ws), AbortSignal.timeout(this.options.reconcileDeadlineMs));
  }

  get clusterTypes(): ClusterType[] {
    return [...this.runtimes.keys()];
  }

  /** The cluster types whose runtime can add a workspace to an Ingress. */
  get ingressClusterTypes(): ClusterType[] {
    return [...this.runtimes.values()].filter((runtime) => runtime.supportsIngress).map((runtime) => runtime.clusterType);
  }

  async start(): Promise<void> {
    for (const runtime of this.runtimes.values()) {
      if (runtime.watch) this.unwatch.push(runtime.watch((name) => this.enqueue(name)));
    }
    try {
      await this.resync();
      await this.reportOrphans();
    } catch (err) {
      // Started again later (the next term): without watchers twice over.
      for (const stop of this.unwatch.splice(0)) stop();
      throw err;
    }
    this.resyncTimer = setInterval(() => void this.resync().catch((err) => this.logger.error({ err }, 'resync failed')), this.options.resyncIntervalMs);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const stop of this.unwatch.splice(0)) stop();
    this.queue.stop();
    await this.activity.flush();
  }

  enqueue(name: string): void {
    this.queue.add(name);
  }

  /** Queues every workspace in the store. */
  async resync(): Promise<number> {
    const names = await this.store.listWorkspaceNames();
    for (const name of names) this.queue.add(name);
    return names.length;
  }

  /** What the work queue holds now (metrics). */
  queueStats(): QueueStats {
    return this.queue.stats();
  }

  /** Starts under way now, waiting, and the most at once so far. */
  startStats(): StartStats {
    return this.starts.stats();
  }

  /** Resolves once nothing is queued or being reconciled (for tests and benchmarks). */
  drained(): Promise<void> {
    return this.queue.drained();
  }

  /** Instances an engine holds for workspaces the store does not know: never touched, only reported. */
  private async reportOrphans(): Promise<void> {
    const known = new Set(await this.store.listWorkspaceNames());
    for (const runtime of this.runtimes.values()) {
      if (!runtime.listInstances) continue;
      try {
        const orphans = (await runtime.listInstances(AbortSignal.timeout(this.options.reconcileDeadlineMs))).filter((name) => !known.has(name));
        if (orphans.length > 0) this.logger.warn({ clusterType: runtime.clusterType, orphans }, 'instances without a workspace in the store are left alone');
      } catch (err) {
        this.logger.warn({ clusterType: runtime.clusterType, err }, 'could not list instances');
      }
    }
  }

  async toRuntimeWorkspace(ws: WorkspaceRecord): Promise<RuntimeWorkspace> {
    const settings = await this.store.getClusterSettings();
    const spec = ws.spec;
    return {
      name: ws.name,
      generation: ws.generation,
      desired: ws.desired_state,
      container: spec.container,
      image: spec.container.image ?? settings.default_image ?? this.options.defaultImage,
      env: effectiveEnv(spec.inherited_env, spec.container.env ?? []),
      lifecycle: spec.lifecycle,
      storage: spec.storage,
      ingress: spec.ingress,
      namespace: spec.namespace,
      service_account_name: spec.service_account_name,
      hooks: await loadHookScripts(this.options.hooksDir, spec.lifecycle),
    };
  }

  /**
   * Makes what runs match what the store asks for, as far as one pass can. Returns when to look at the
   * workspace again (still converging); nothing when it has settled. Throws to be retried with
   * backoff. Every runtime call gets `signal`, aborted at the reconcile's deadline or on stop().
   */
  async reconcile(name: string, signal: AbortSignal): Promise<HandlerResult> {
    // A request writes the workspace and its operation in one transaction: read as one snapshot, so
    // that neither an operation is applied with the workspace before it (a lost resume) nor a
    // workspace asked to run is seen without its operation (a resume taken for a crash and restarted).
    const { workspace: ws, operations: openOps } = await this.store.getWorkspaceAndOpenOperations(name);
    if (!ws) {
      this.unsettled.forget(name);
      return {};
    }
    const runtime = this.runtimes.get(ws.cluster_type);
    const now = () => new Date().toISOString();

    if (!runtime) {
      await this.markStarted(openOps, now());
      const error = new Error(`cluster type ${ws.cluster_type} is not configured on this server`);
      await this.store.setObserved(name, observedFromError(ws.observed, error, 'ClusterTypeUnavailable', 'UNAVAILABLE', now()));
      await this.failOperations(openOps, error.message, ws.cluster_type);
      return {};
    }

    // Act when something was asked (an open operation) or the spec is not yet applied. Otherwise
    // look: an instance that ended while desired running (exited, killed, stopped by an engine
    // restart or a host reboot, removed) is started again by the restart policy (restarts.ts), with
    // backoff, counted and shown.
    // Each operation is applied once (again only after an error); then the instance is watched until
    // it settles. Applying again would restart a process that has just failed to start.
    const newestOp = openOps[openOps.length - 1];
    const unappliedOp = newestOp !== undefined && this.appliedOps.get(name) !== newestOp.id;
    const mustApply = unappliedOp || ws.observed.observed_generation < ws.generation || Boolean(ws.deletion);
    const transitional = mustApply ? transitionalStatus(ws.observed.status, ws.desired_state, Boolean(ws.deletion)) : undefined;
    // What the store holds now, so that an unchanged result is not written again.
    let stored = ws.observed;
    const showTransitional = transitional !== undefined && transitional !== ws.observed.status;
    const starting = openOps.filter((op) => op.state === 'pending');
    const startedAt = now();
    // The operations' start and the transitional status land together, before the runtime is asked.
    let announced: Promise<void> | undefined;
    const announce = (): Promise<void> => {
      announced ??= (async () => {
        const transitionalObserved = showTransitional ? { ...ws.observed, status: transitional, updated_at: now() } : undefined;
        await writeTogether(this.store, [
          ...starting.map((op): StoreWrite => (s) => s.updateOperation(op.id, { state: 'running', started_at: startedAt })),
          transitionalObserved && ((s) => s.setObserved(name, transitionalObserved)),
        ]);
        if (transitionalObserved) stored = transitionalObserved;
        for (const op of starting) {
          op.state = 'running';
          op.started_at = startedAt;
        }
      })();
      return announced;
    };

    let rws: RuntimeWorkspace | undefined;
    try {
      if (mustApply && (starting.length > 0 || showTransitional)) await announce();
      rws = await this.toRuntimeWorkspace(ws);
      const preStopOp = mustApply ? preStopDue(ws.spec.lifecycle, ws.observed.status, openOps) : undefined;
      if (preStopOp) {
        await announce();
        if (await this.preStop(ws, runtime, rws, preStopOp, signal)) return {};
      }
      if (ws.deletion) {
        await announce();
        await runtime.remove(rws, { deleteVolume: ws.deletion.delete_volume }, signal);
        this.postStart.forget(name);
        this.enginePostStartRuns.delete(name);
        this.activity.forget(name);
        this.appliedOps.delete(name);
        this.unsettled.forget(name);
        const deletedAt = now();
        await this.store.transaction(async (tx) => {
          await tx.deleteWorkspace(name);
          for (const op of openOps) {
            await tx.updateOperation(op.id, { state: 'succeeded', finished_at: deletedAt, attempts: op.attempts + 1 });
          }
        });
        this.options.observer?.operationsFinished?.(ws.cluster_type, openOps.map((op) => finished(op, 'succeeded', deletedAt)));
        return {};
      }
      const target = rws;
      const applyNow = () => runtime.apply(target, signal);
      const limitStart = <T>(start: () => Promise<T>) => this.starts.run(start, signal);
      let seen = !mustApply ? await runtime.observe(rws, signal) : rws.desired === 'running' ? await limitStart(applyNow) : await applyNow();
      if (mustApply && newestOp) this.appliedOps.set(name, newestOp.id);
      const overdue = overdueStart(ws.spec.container, openOps, seen, ws.observed, Date.now());
      if (overdue) {
        // Ended as a failed run (nothing half-started keeps running); the restart policy below decides.
        this.logger.warn({ workspace: name, operation: overdue.op.id, reason: overdue.reason }, 'start not ready within its deadline');
        const ended = await runtime.apply({ ...rws, desired: 'stopped' }, signal);
        const at = now();
        seen = { ...ended, status: 'FAILED', message: overdue.message, termination: deadlineTermination(overdue, at) };
        const { waiting_for: _noLonger, ...details } = overdue.op.details ?? {};
        await this.store.updateOperation(overdue.op.id, {
          state: 'failed', error: overdue.message, finished_at: at, attempts: overdue.op.attempts + 1, details: { ...details, reason: overdue.reason },
        });
        // A post-start still waiting for the old run's port is given up; the next run gets its own.
        this.postStart.forget(name);
        this.options.observer?.operationsFinished?.(ws.cluster_type, [finished(overdue.op, 'failed', at)]);
        openOps.splice(openOps.indexOf(overdue.op), 1);
      }
      const restart = await applyRestartPolicy(ws, seen, {
        runtime, rws, timing: this.options.restartTiming, logger: this.logger, signal, actionApplied: unappliedOp, limitStart,
      });
      const instance = restart.instance;
      const announcedStart = announced !== undefined;
      const reported: ObservedState = {
        ...observedFromInstance(ws.observed, instance, ws.desired_state, ws.generation, now()),
        restarts: restart.restarts,
        ...(restart.last_termination ? { last_termination: restart.last_termination } : {}),
      };
      // Why a stop was postponed or refused is said for as long as the workspace keeps running because of it.
      const preStopFailed = ws.observed.conditions.find((c) => c.type === PRE_STOP_FAILED);
      if (preStopFailed && reported.status === 'RUNNING' && ws.desired_state === 'running') reported.conditions.push(preStopFailed);
      const { observed, startPostStart, recheck, recorded } = await this.withPostStart(ws, runtime, rws, reported, signal);
      if (recorded) {
        const index = openOps.findIndex((op) => op.id === recorded.id);
        if (index >= 0) openOps[index] = recorded;
      }
      // A start is not done until its post-start has run: the operation waits for that result, so
      // a failing hook with fail_on_error fails the operation that started the workspace.
      const pendingPostStart = observed.conditions.find((c) => c.type === POST_START && c.reason === 'Pending');
      const postStartPending = pendingPostStart !== undefined;
      const plan = planSettle(openOps, postStartPending ? 'PENDING' : observed.status, observed.observed_generation, observed.message, now());
      // An operation held open by post-start says what it waits for (a port that never answers, say).
      noteWaiting(plan.patches, pendingPostStart?.message);
      const startedHere = announcedStart ? [] : plan.patches.filter(({ op }) => starting.some((begun) => begun.id === op.id));
      for (const { patch } of startedHere) {
        patch.started_at = startedAt;
        patch.state ??= 'running';
      }
      await writeTogether(this.store, [
        !sameObserved(stored, observed) && ((s) => s.setObserved(name, observed)),
        ...plan.patches.map(({ op, patch }): StoreWrite => (s) => s.updateOperation(op.id, patch)),
      ]);
      this.options.observer?.operationsFinished?.(ws.cluster_type, finishedByPlan(plan.patches));
      this.reportRestarts(ws, restart);
      if (startPostStart) {
        await this.activity.record(name, 'start');
        this.postStart.start(runtime, rws, observed.ip);
      }
      const settled = plan.open === 0;
      if (restart.requeueAfterMs !== undefined) return { requeueAfterMs: restart.requeueAfterMs };
      // Looked at again soon while it moves, less and less often while nothing changes (a workspace
      // that cannot settle must not cost a steady share of the CPU).
      const progressed = mustApply || !sameObserved(ws.observed, observed) || plan.patches.some(({ patch }) => patch.state !== undefined);
      const again = (): HandlerResult => ({ requeueAfterMs: this.unsettled.next(name, progressed) });
      if (recheck) return again();
      const probeMs = listeningProbeDelay(observed, Date.now());
      if (probeMs !== undefined) return { requeueAfterMs: probeMs };
      if ((settled && statusMatchesDesired(observed.status, ws.desired_state)) || observed.status === 'FAILED') {
        this.unsettled.forget(name);
        return {};
      }
      return again();
    } catch (err) {
      // A failure is recorded on operations that are shown as begun.
      if (starting.length > 0 || showTransitional) await announce();
      const error = err instanceof Error ? err : new Error(String(err));
      const permanent = error instanceof PermanentRuntimeError;
      const reason = permanent ? error.reason : 'RuntimeError';
      const status = permanent ? 'FAILED' : 'UNAVAILABLE';
      const fresh = (await this.store.getWorkspace(name)) ?? ws;
      // A change the engine refused (an image that cannot be pulled, a config it rejects) leaves the
      // instance as it was: when that still runs, the workspace is RUNNING on its old generation.
      const refused = permanent && mustApply ? await observedAfterRefusedPatch(fresh, runtime, rws, error, signal) : undefined;
      await this.store.setObserved(name, refused ?? observedFromError(fresh.observed, error, reason, status, now()));
      if (permanent) {
        this.options.observer?.reconcileFailed?.(reason, false);
        await this.failOperations(openOps, error.message, ws.cluster_type);
        return {};
      }
      await this.recordAttempt(openOps, error.message);
      throw error;
    }
  }

  /**
   * Post-start (Docker and local; Kubernetes in post-start-engine.ts): a new start (RUNNING after not running, or a new generation
   * applied) is marked pending and its run begins once that is stored; a finished run's result is
   * written here, by the workspace's one reconciler, and with fail_on_error a failure stops the
   * instance and leaves the workspace FAILED until it is started again.
   */
  private async withPostStart(
    ws: WorkspaceRecord,
    runtime: Runtime,
    rws: RuntimeWorkspace,
    reported: ObservedState,
    signal: AbortSignal,
  ): Promise<{ observed: ObservedState; startPostStart: boolean; recheck?: boolean; recorded?: OperationRecord }> {
    if (runtime.readPostStart) {
      // The engine runs post-start itself (Kubernetes' postStart hook): only its record is read here.
      const deps = { logger: this.logger, recorded: this.enginePostStartRuns, recordOnOperation: (w: WorkspaceRecord, r: Parameters<PostStartRunner['recordOnOperation']>[1]) => this.postStart.recordOnOperation(w, r) };
      const outcome = await enginePostStart(ws, runtime, rws, reported, deps, signal);
      return { observed: outcome.observed, startPostStart: false, recheck: outcome.recheck, recorded: outcome.operation };
    }
    const prev = ws.observed;
    const at = new Date().toISOString();
    const newStart = reported.status === 'RUNNING' && (prev.status !== 'RUNNING' || prev.observed_generation !== reported.observed_generation);
    const wanted = wantsPostStart(ws);
    const waiting = pendingMessage(ws, reported.ip, this.options.postStartTimeoutMs);
    let observed = withPostStartConditions(prev, reported, { newStart, wanted, desiredRunning: ws.desired_state === 'running', now: at, pendingMessage: waiting });
    if (newStart) return { observed, startPostStart: wanted };
    const pending = observed.conditions.some((c) => c.type === POST_START && c.reason === 'Pending');
    const result = pending ? this.postStart.take(ws.name) : undefined;
    if (!result) {
      // Pending but not running here: the control plane restarted during the run, so it runs again.
      const recover = pending && wanted && observed.status === 'RUNNING' && !this.postStart.running(ws.name);
      return { observed, startPostStart: recover };
    }
    const condition = { ...resultCondition(result), last_transition_time: at };
    observed = { ...observed, conditions: [...observed.conditions.filter((c) => !isPostStartCondition(c)), condition] };
    const op = await this.postStart.recordOnOperation(ws, result);
    if (!result.ok && result.fail_on_error && observed.status === 'RUNNING') {
      const stopped = await runtime.apply({ ...rws, desired: 'stopped' }, signal);
      observed = withPostStartConditions(observed, { ...observed, status: stopped.status, ip: undefined, url: undefined }, { newStart: false, wanted, desiredRunning: true, now: at });
    }
    return { observed, startPostStart: false, recorded: op };
  }

  /**
   * Runs the pre-stop for the operation (or skips it: `force`) and records its result on it. Returns
   * true when the stop must not go ahead: the desired state goes back to running, the operation fails
   * and the PreStopFailed condition says why, all in one write. A delete always goes ahead.
   */
  private async preStop(ws: WorkspaceRecord, runtime: Runtime, rws: RuntimeWorkspace, op: OperationRecord, signal: AbortSignal): Promise<boolean> {
    const skip = op.target_state === 'stopped' && forced(op);
    const at = new Date().toISOString();
    const result: PreStopResult = skip
      ? { ok: true, steps: [], started_at: at, finished_at: at, skipped: 'force' }
      : await runPreStop(runtime, rws, preStopBudgetMs(ws.spec.lifecycle, this.options.reconcileDeadlineMs), signal);
    const details = { ...(op.details ?? {}), pre_stop: result };
    op.details = details;
    if (result.ok || op.target_state === 'deleted') {
      if (!result.ok) this.logger.warn({ workspace: ws.name, operation: op.id }, failureMessage(result, op));
      await this.store.updateOperation(op.id, { details });
      return false;
    }
    const message = failureMessage(result, op);
    const finishedAt = new Date().toISOString();
    const conditions = mergeConditions(ws.observed.conditions, [...ws.observed.conditions.filter((c) => c.type !== PRE_STOP_FAILED), preStopCondition(result, op)], finishedAt);
    const status = ws.observed.status === 'STOPPING' ? 'RUNNING' : ws.observed.status;
    const fireAt = (op.request as { fire_at?: unknown } | null)?.fire_at;
    await this.store.transaction(async (tx) => {
      const fresh = await tx.getWorkspace(ws.name);
      if (fresh && !fresh.deletion && fresh.desired_state === 'stopped') {
        await tx.replaceWorkspace({ ...fresh, desired_state: 'running', resource_version: fresh.resource_version + 1, updated_at: finishedAt }, fresh.resource_version);
      }
      // A scheduled stop is owed again: the schedule's next pass finds its time not yet acted on.
      if (fresh && op.action === 'scheduled_stop' && typeof fireAt === 'string') {
        await tx.setActivity(ws.name, { ...fresh.activity, schedule_checked_at: new Date(Date.parse(fireAt) - 1_000).toISOString() });
      }
      await tx.updateOperation(op.id, { state: 'failed', error: message, details, finished_at: finishedAt, attempts: op.attempts + 1 });
      await tx.setObserved(ws.name, { ...ws.observed, status, conditions, updated_at: finishedAt });
      await tx.appendAudit({ at: finishedAt, actor: op.actor, action: 'pre_stop', workspace: ws.name, generation_before: ws.generation, generation_after: ws.generation, result: 'error', detail: message });
    });
    this.logger.warn({ workspace: ws.name, operation: op.id }, message);
    this.options.observer?.operationsFinished?.(ws.cluster_type, [finished(op, 'failed', finishedAt)]);
    return true;
  }

  private async markStarted(ops: OperationRecord[], at: string): Promise<void> {
    for (const op of ops) {
      if (op.state !== 'pending') continue;
      op.state = 'running';
      op.started_at = at;
      await this.store.updateOperation(op.id, { state: 'running', started_at: at });
    }
  }

  private async recordAttempt(ops: OperationRecord[], error: string): Promise<void> {
    for (const op of ops) {
      op.attempts += 1;
      op.error = error;
      await this.store.updateOperation(op.id, { attempts: op.attempts, error });
    }
  }

  private async failOperations(ops: OperationRecord[], error: string, clusterType: ClusterType): Promise<void> {
    const at = new Date().toISOString();
    for (const op of ops) {
      await this.store.updateOperation(op.id, { state: 'failed', error, finished_at: at, attempts: op.attempts + 1 });
    }
    this.options.observer?.operationsFinished?.(clusterType, ops.map((op) => finished(op, 'failed', at)));
  }

  /** Tells the observer of restarts this pass made or saw (the count written grew) and of a new back-off. */
  private reportRestarts(ws: WorkspaceRecord, restart: RestartOutcome): void {
    const observer = this.options.observer;
    if (!observer) return;
    const before = ws.observed.restarts;
    const grown = restart.restarts.count - (before?.count ?? 0);
    if (grown > 0) observer.restarted?.(ws.cluster_type, grown, restart.last_termination?.reason ?? 'Unknown');
    if (restart.restarts.next_retry_at !== undefined && restart.restarts.next_retry_at !== before?.next_retry_at) observer.backedOff?.(ws.cluster_type);
  }
}
