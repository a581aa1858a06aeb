// The metrics of one server: its own prom-client Registry (never the global one, so several servers in
// one process do not share counters), the families of families.ts, and what feeds them: the HTTP hook,
// the runtime wrapper, the controller's and the culler's observers, the store's change feed, and at each
// scrape the series read from the store.
import { collectDefaultMetrics, Registry, type Gauge } from 'prom-client';
import { ACTIONS, INSTANCE_STATUSES, type ClusterType, type OperationAction } from '../core/types.js';
import type { Runtime } from '../core/runtime.js';
import type { ControllerObserver, CullerObserver } from '../controller/observer.js';
import type { QueueStats } from '../controller/work-queue.js';
import type { StartStats } from '../controller/start-gate.js';
import { statusMatchesDesired } from '../controller/observed.js';
import type { Store } from '../store/store.js';
import { defineFamilies, defineWorkspaceFamily, type Families } from './families.js';
import { instrumentRuntimes } from './runtime.js';
import type { ReadinessChecker } from './readiness.js';

export { installHttpMetrics } from './http.js';
export { ReadinessChecker, type Readiness } from './readiness.js';

const OPERATION_ACTIONS: readonly OperationAction[] = [...ACTIONS, 'create', 'delete', 'auto_stop'];
/** Operations after which the workspace runs: their time to success is the start time users feel. */
const STARTS = new Set<OperationAction>(['create', 'resume']);
/** How long a scrape waits for the store's counts before answering without them. */
const STORE_SERIES_TIMEOUT_MS = 2_000;

export interface MetricsOptions {
  store: Store;
  version: string;
  clusterTypes: readonly ClusterType[];
  /** Adds wsm_workspace_status, one series per workspace (small installations only). */
  workspaceLabels?: boolean;
  /**
   * Whether this replica reports the series read from the store and the controller's queue, so that a
   * sum over replicas counts them once. One replica for now; with leader election, the leader.
   */
  reportsStoreSeries?: () => boolean;
  /** Node.js process metrics (process_*, nodejs_*); on by default. */
  processMetrics?: boolean;
}

export class WsmMetrics {
  readonly registry = new Registry();
  readonly families: Families;
  private readonly perWorkspace?: Gauge<'workspace' | 'cluster_type' | 'status' | 'desired_state'>;
  private readonly unsubscribe: () => void;
  private queue?: () => QueueStats;
  private starts?: () => StartStats;
  private readiness?: ReadinessChecker;
  private readonly reportsStoreSeries: () => boolean;

  constructor(private readonly options: MetricsOptions) {
    this.families = defineFamilies(this.registry);
    if (options.workspaceLabels) this.perWorkspace = defineWorkspaceFamily(this.registry);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.reportsStoreSeries = options.reportsStoreSeries ?? (() => true);
    const f = this.families;
    f.buildInfo.labels(options.version).set(1);
    // Every known label value starts at 0, so rate() and absence alerts work before the first event.
    for (const action of OPERATION_ACTIONS) {
      f.operationsStarted.labels(action).inc(0);
      for (const result of ['succeeded', 'failed']) f.operationsFinished.labels(action, result).inc(0);
    }
    f.reconcileRetries.inc(0);
    f.cullerPasses.inc(0);
    // Operations are counted where they are written (this process's commits, not those the change
    // feed brings from other replicas), so that a sum over replicas counts each once.
    this.unsubscribe = options.store.changes.subscribe((change, received) => {
      if (!received && change.kind === 'operation-inserted') f.operationsStarted.labels(change.operation.action).inc();
    });
  }

  /** The runtimes, each wrapped to time its calls. */
  instrument(runtimes: Map<ClusterType, Runtime>): Map<ClusterType, Runtime> {
    return instrumentRuntimes(runtimes, this.families);
  }

  /** Where the queue gauges are read from at each scrape. */
  watchQueue(stats: () => QueueStats): void {
    this.queue = stats;
  }

  /** Where the start gauges are read from at each scrape. */
  watchStarts(stats: () => StartStats): void {
    this.starts = stats;
  }

  /** Where wsm_ready and wsm_runtime_up are read from at each scrape. */
  watchReadiness(checker: ReadinessChecker): void {
    this.readiness = checker;
  }

  controllerObserver(): ControllerObserver {
    const f = this.families;
    return {
      reconciled: (ms, outcome) => f.reconcileDuration.labels(outcome).observe(ms / 1000),
      reconcileFailed: (reason, retried) => {
        f.reconcileErrors.labels(reason).inc();
        if (retried) f.reconcileRetries.inc();
      },
      operationsFinished: (clusterType, ops) => {
        for (const op of ops) {
          f.operationsFinished.labels(op.action, op.result).inc();
          const seconds = Math.max(0, Date.parse(op.finished_at) - Date.parse(op.created_at)) / 1000;
          if (!Number.isFinite(seconds)) continue;
          f.operationDuration.labels(op.action, clusterType).observe(seconds);
          if (op.result === 'succeeded' && STARTS.has(op.action)) f.requestToRunning.labels(clusterType).observe(seconds);
        }
      },
      restarted: (clusterType, count, reason) => f.restarts.labels(clusterType, reason).inc(count),
      backedOff: (clusterType) => f.crashLoopBackoffs.labels(clusterType).inc(),
    };
  }

  cullerObserver(): CullerObserver {
    const f = this.families;
    return {
      passed: (ms) => {
        f.cullerPasses.inc();
        f.cullerDuration.observe(ms / 1000);
      },
      stopped: (reason) => f.cullerStops.labels(reason).inc(),
      skipped: (signal) => f.cullerSkips.labels(signal).inc(),
    };
  }

  /** The text a scrape gets: the series read now (store, queue, readiness), then every family. */
  async render(): Promise<string> {
    await this.refresh();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.unsubscribe();
  }

  private async refresh(): Promise<void> {
    const f = this.families;
    const reporting = this.reportsStoreSeries();
    f.storeSeriesReporter.set(reporting ? 1 : 0);
    const [, readiness] = await Promise.all([reporting ? this.refreshOrClearStoreSeries() : this.clearStoreSeries(), this.readiness?.check()]);
    if (readiness) {
      f.storeUp.set(readiness.ready ? 1 : 0);
      for (const [type, reach] of Object.entries(readiness.runtimes)) f.runtimeUp.labels(type).set(reach.reachable ? 1 : 0);
    }
  }

  /** A store that does not answer leaves the store series out of the scrape (wsm_ready says why), not the scrape failing. */
  private async refreshOrClearStoreSeries(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the store did not answer in time')), STORE_SERIES_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.refreshStoreSeries(), late]);
    } catch {
      await this.clearStoreSeries();
    } finally {
      clearTimeout(timer);
    }
  }

  private async clearStoreSeries(): Promise<void> {
    const f = this.families;
    for (const gauge of [f.workspaces, f.mismatched, f.queueDepth, f.queueRunning, f.queueOldest]) gauge.reset();
    this.perWorkspace?.reset();
  }

  private async refreshStoreSeries(): Promise<void> {
    const f = this.families;
    const counts = await this.options.store.countWorkspaces();
    f.workspaces.reset();
    f.mismatched.reset();
    for (const type of this.options.clusterTypes) {
      for (const status of INSTANCE_STATUSES) f.workspaces.labels(type, status).set(0);
      for (const desired of ['running', 'stopped']) f.mismatched.labels(type, desired).set(0);
    }
    for (const c of counts) {
      f.workspaces.labels(c.cluster_type, c.status).inc(c.count);
      if (!statusMatchesDesired(c.status, c.desired_state)) f.mismatched.labels(c.cluster_type, c.desired_state).inc(c.count);
    }
    const queue = this.queue?.();
    f.queueDepth.set(queue?.waiting ?? 0);
    f.queueRunning.set(queue?.running ?? 0);
    f.queueOldest.set((queue?.oldestWaitingMs ?? 0) / 1000);
    const starts = this.starts?.();
    f.startsInProgress.set(starts?.starting ?? 0);
    f.startsWaiting.set(starts?.waiting ?? 0);
    f.startsPeak.set(starts?.peak ?? 0);
    f.startsLimit.set(starts?.limit ?? 0);
    if (this.perWorkspace) await this.refreshPerWorkspace(this.perWorkspace);
  }

  private async refreshPerWorkspace(gauge: Gauge<'workspace' | 'cluster_type' | 'status' | 'desired_state'>): Promise<void> {
    gauge.reset();
    const pageSize = 500;
    for (let offset = 0; ; offset += pageSize) {
      const page = await this.options.store.listWorkspaces({ limit: pageSize, offset });
      for (const ws of page.workspaces) gauge.labels(ws.name, ws.cluster_type, ws.observed.status, ws.desired_state).set(1);
      if (page.workspaces.length < pageSize) break;
    }
  }
}
