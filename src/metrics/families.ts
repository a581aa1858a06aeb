// Every metric wsm exports, in one place: name, meaning, labels and buckets. Names follow Prometheus'
// conventions (wsm_ prefix, base units, _seconds, _total). Labels take values from small fixed sets
// (route templates, actions, cluster types, statuses, reasons written in the code); a workspace name
// is a label only in the opt-in family wsm_workspace_status. docs/operations.md explains each one.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** From a millisecond to half a minute: API answers, runtime calls, reconciles, culler passes. */
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** From a tenth of a second to ten minutes: operations and starts, which wait for engines and images. */
const SLOW_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];

export function defineFamilies(registry: Registry) {
  const registers = [registry];
  return {
    buildInfo: new Gauge({ name: 'wsm_build_info', help: 'Always 1; the version label says which wsm runs.', labelNames: ['version'], registers }),

    httpDuration: new Histogram({
      name: 'wsm_http_request_duration_seconds',
      help: 'Time from a request arriving to its answer being sent, by route template (unmatched for 404s without a route), method and status class (2xx..5xx, aborted).',
      labelNames: ['route', 'method', 'status_class'],
      buckets: FAST_BUCKETS,
      registers,
    }),
    httpInFlight: new Gauge({ name: 'wsm_http_requests_in_flight', help: 'Requests received and not yet answered, event streams included.', registers }),
    sseClients: new Gauge({ name: 'wsm_sse_clients', help: 'Open GET /api/events streams (server-sent events).', registers }),

    workspaces: new Gauge({ name: 'wsm_workspaces', help: 'Workspaces in the store by cluster type and observed status (reported by the replica that reports store series).', labelNames: ['cluster_type', 'status'], registers }),
    mismatched: new Gauge({
      name: 'wsm_workspaces_mismatched',
      help: 'Workspaces whose observed status is not yet what is desired (desired running but not RUNNING, or desired stopped but not STOPPED), by cluster type and desired state.',
      labelNames: ['cluster_type', 'desired_state'],
      registers,
    }),

    operationsStarted: new Counter({ name: 'wsm_operations_started_total', help: 'Operations requested (written to the store with their change), by action.', labelNames: ['action'], registers }),
    operationsFinished: new Counter({ name: 'wsm_operations_finished_total', help: 'Operations that reached succeeded or failed, by action and result.', labelNames: ['action', 'result'], registers }),
    operationDuration: new Histogram({
      name: 'wsm_operation_duration_seconds',
      help: 'Time from an operation being requested to it finishing (succeeded or failed), by action and runtime (cluster type).',
      labelNames: ['action', 'runtime'],
      buckets: SLOW_BUCKETS,
      registers,
    }),
    requestToRunning: new Histogram({
      name: 'wsm_start_request_to_running_seconds',
      help: 'For starts (create, resume) that succeeded: time from the request to the workspace observed RUNNING, by runtime.',
      labelNames: ['runtime'],
      buckets: SLOW_BUCKETS,
      registers,
    }),

    queueDepth: new Gauge({ name: 'wsm_reconcile_queue_depth', help: 'Workspaces waiting in the reconcile queue (not those being reconciled, nor those waiting for a backoff or requeue timer).', registers }),
    queueRunning: new Gauge({ name: 'wsm_reconcile_in_progress', help: 'Reconciles running now.', registers }),
    startsInProgress: new Gauge({ name: 'wsm_starts_in_progress', help: 'Instances being started now (runtime calls that start or recreate one); at most WSM_MAX_CONCURRENT_STARTS.', registers }),
    startsWaiting: new Gauge({ name: 'wsm_starts_waiting', help: 'Starts waiting for their turn under WSM_MAX_CONCURRENT_STARTS.', registers }),
    startsPeak: new Gauge({ name: 'wsm_starts_in_progress_max', help: 'The most instances started at once since this server began.', registers }),
    startsLimit: new Gauge({ name: 'wsm_starts_limit', help: 'WSM_MAX_CONCURRENT_STARTS: instances started at once, at most.', registers }),
    queueOldest: new Gauge({ name: 'wsm_reconcile_queue_oldest_age_seconds', help: 'How long the workspace waiting longest in the reconcile queue has waited; 0 when none waits.', registers }),
    reconcileDuration: new Histogram({
      name: 'wsm_reconcile_duration_seconds',
      help: 'Time one reconcile of one workspace took, by outcome: settled (nothing more to do), requeued (still converging), error (retried with backoff).',
      labelNames: ['outcome'],
      buckets: FAST_BUCKETS,
      registers,
    }),
    reconcileRetries: new Counter({ name: 'wsm_reconcile_retries_total', help: 'Reconciles that failed and were scheduled again with backoff.', registers }),
    reconcileErrors: new Counter({
      name: 'wsm_reconcile_errors_total',
      help: 'Failed reconciles by reason: RuntimeError, DeadlineExceeded, Aborted (retried), or the reason of a permanent failure (e.g. PreStartFailed, ImageNotFound), which fails the operation instead.',
      labelNames: ['reason'],
      registers,
    }),

    runtimeDuration: new Histogram({
      name: 'wsm_runtime_call_duration_seconds',
      help: 'Time of each call into a runtime (apply, observe, remove, exec, http_get, usage, read_post_start, list_instances), by runtime and call.',
      labelNames: ['runtime', 'call'],
      buckets: FAST_BUCKETS,
      registers,
    }),
    runtimeErrors: new Counter({ name: 'wsm_runtime_call_errors_total', help: 'Runtime calls that failed, by runtime and call.', labelNames: ['runtime', 'call'], registers }),
    watchRestarts: new Counter({ name: 'wsm_runtime_watch_restarts_total', help: "Times an engine's event stream was started again, by runtime and reason (lost, silent, gone).", labelNames: ['runtime', 'reason'], registers }),
    runtimeUp: new Gauge({ name: 'wsm_runtime_up', help: 'Whether the runtime\'s engine answered its last check (1) or not (0); a runtime that is down does not make wsm unready.', labelNames: ['runtime'], registers }),

    storeUp: new Gauge({ name: 'wsm_ready', help: 'Whether this replica is ready (1): the store answers and every migration is applied. /readyz says why not.', registers }),
    storeSeriesReporter: new Gauge({ name: 'wsm_reports_store_series', help: 'Whether this replica reports the series read from the store (workspaces, queue): 1 on exactly one replica.', registers }),

    restarts: new Counter({
      name: 'wsm_workspace_restarts_total',
      help: 'Instances started again (by wsm on Docker and local, by the kubelet on Kubernetes) after ending while desired running, by cluster type and how the instance ended (Exited, Killed, OOMKilled, Missing, Stopped, ...).',
      labelNames: ['cluster_type', 'reason'],
      registers,
    }),
    crashLoopBackoffs: new Counter({
      name: 'wsm_workspace_crash_loop_backoffs_total',
      help: 'Times a workspace that keeps ending entered a restart back-off (CrashLoopBackOff), by cluster type.',
      labelNames: ['cluster_type'],
      registers,
    }),
    cullerPasses: new Counter({ name: 'wsm_culler_passes_total', help: 'Idle culler passes completed.', registers }),
    cullerDuration: new Histogram({ name: 'wsm_culler_pass_duration_seconds', help: 'Time of one idle culler pass, its checks and probes included.', buckets: FAST_BUCKETS, registers }),
    cullerStops: new Counter({ name: 'wsm_culler_stops_total', help: 'Workspaces the idle culler stopped, by reason.', labelNames: ['reason'], registers }),
    cullerSkips: new Counter({
      name: 'wsm_culler_skips_total',
      help: 'Workspaces due for an idle stop that were kept running, by the signal that showed activity (cpu, network, probe, heartbeat, api, start, pipeline_run; not_due when the policy changed or it stopped meanwhile).',
      labelNames: ['signal'],
      registers,
    }),
  };
}

export type Families = ReturnType<typeof defineFamilies>;

/** The opt-in family with one series per workspace (WSM_METRICS_WORKSPACE_LABELS): small installations only. */
export function defineWorkspaceFamily(registry: Registry): Gauge<'workspace' | 'cluster_type' | 'status' | 'desired_state'> {
  return new Gauge({
    name: 'wsm_workspace_status',
    help: 'One series per workspace, always 1, labelled with its observed status and desired state (opt-in: WSM_METRICS_WORKSPACE_LABELS).',
    labelNames: ['workspace', 'cluster_type', 'status', 'desired_state'],
    registers: [registry],
  });
}
