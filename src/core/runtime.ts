// The one interface every cluster type implements (local processes, Docker, Kubernetes).
// A runtime knows its engine and nothing of HTTP or the store. Every call is idempotent, and every
// call that reaches the engine takes a signal: once it is aborted (the reconcile's deadline passed,
// the server is stopping) the call ends soon with the signal's reason, leaving nothing half-known
// that a later call could not repair.
import type {
  ClusterType,
  Condition,
  ContainerConfig,
  DesiredState,
  EnvVar,
  InstanceStatus,
  LifecycleConfig,
  StorageSpec,
  IngressSpec,
  Termination,
} from './types.js';
import type { UsageSample } from './usage.js';

/** A script from the hooks directory, read by the controller and handed to the runtime. */
export interface HookScript {
  /** The path as the user gave it (relative to the hooks directory). */
  path: string;
  /** The file's bytes. */
  content: Buffer;
}

/** What a runtime needs to make a workspace real: the spec resolved for it by the controller. */
export interface RuntimeWorkspace {
  name: string;
  generation: number;
  desired: DesiredState;
  container: ContainerConfig;
  /** The image with any cluster default applied. */
  image: string;
  /** Inherited cluster env merged with the workspace's own env (workspace wins). */
  env: EnvVar[];
  lifecycle: LifecycleConfig;
  storage: StorageSpec;
  ingress: IngressSpec;
  namespace?: string;
  service_account_name?: string;
  /** Resolved lifecycle scripts, when the lifecycle config names them. */
  hooks: { pre_start?: HookScript; post_start?: HookScript; pre_stop?: HookScript };
}

/** The instance as the engine reports it. */
export interface ObservedInstance {
  status: InstanceStatus;
  /** The generation the running instance was made from, when the runtime can tell. */
  generation?: number;
  ip?: string;
  url?: string;
  instance_type?: string;
  instance_name?: string;
  exit_code?: number;
  message?: string;
  conditions?: Omit<Condition, 'last_transition_time'>[];
  /**
   * How the last run ended: on Docker and local when the instance is not running (its current run
   * ended); on Kubernetes the container's last termination, also while the kubelet restarts it.
   */
  termination?: Termination;
  /** Restarts the engine made by itself (Kubernetes' kubelet): the instance they belong to, and how many. */
  engine_restarts?: { instance_id: string; count: number; next_retry_at?: string };
}

/** Why an engine's event stream was started again: it broke, it went silent, or its position expired. */
export type WatchRestartReason = 'lost' | 'silent' | 'gone';

/** The result of running a command inside a workspace (post-start hooks, probes). */
export interface ExecResult {
  exit_code: number;
  output: string;
  duration_ms: number;
  timed_out: boolean;
}

/** One step of a post-start run, as recorded where it ran. */
export interface PostStartStepRecord {
  step: 'command' | 'hook';
  exit_code: number;
  duration_ms: number;
  timed_out: boolean;
  /** The last lines of stdout and stderr. */
  output: string;
}

/** A post-start run the engine itself ran (Kubernetes' postStart hook), read back by the controller. */
export interface PostStartRecord {
  ok: boolean;
  fail_on_error: boolean;
  steps: PostStartStepRecord[];
  started_at: string;
  finished_at: string;
  /** Identifies the run (e.g. the pod and its start), so one run is recorded once. */
  run_id: string;
}

/** An HTTP answer from inside a workspace. */
export interface HttpAnswer {
  status: number;
  body: string;
}

export interface RemoveOptions {
  deleteVolume: boolean;
}

/** Raised by a runtime for a failure a person must fix (retrying will not help). */
export class PermanentRuntimeError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'PermanentRuntimeError';
  }
}

/** Raised by a dry run when the engine would refuse the change; each cause names the API field when it can. */
export class EngineRejection extends Error {
  constructor(
    message: string,
    readonly causes: { field: string; message: string }[],
  ) {
    super(message);
    this.name = 'EngineRejection';
  }
}

export interface Runtime {
  readonly clusterType: ClusterType;
  /** Whether the runtime can expose a workspace through an Ingress. */
  readonly supportsIngress: boolean;

  /** Make the instance match the workspace: create it, recreate it for a new generation, start or stop it. */
  apply(ws: RuntimeWorkspace, signal: AbortSignal): Promise<ObservedInstance>;
  /**
   * Asks the engine whether it would accept the objects `apply` would write for `ws`, writing nothing
   * (Kubernetes: dryRun=All). Returns what was checked; throws EngineRejection when the engine refuses.
   */
  dryRunApply?(ws: RuntimeWorkspace, signal: AbortSignal): Promise<string[]>;
  /** Remove the instance (and its volume when asked). Removing a missing instance succeeds. */
  remove(ws: RuntimeWorkspace, options: RemoveOptions, signal: AbortSignal): Promise<void>;
  /** Report the instance as the engine sees it now. */
  observe(ws: RuntimeWorkspace, signal: AbortSignal): Promise<ObservedInstance>;
  /**
   * Names of the workspaces this runtime knows instances for (adoption at start-up), when the
   * engine can list them.
   */
  listInstances?(signal: AbortSignal): Promise<string[]>;
  /**
   * Follow the engine's own events; the callback gets the name of a workspace that changed.
   * `onRestart` hears each time the event stream had to be started again, and why (lost, silent, gone).
   */
  watch?(onChange: (name: string) => void, onRestart?: (reason: WatchRestartReason) => void): () => void;
  /** Run a command inside the running workspace. */
  exec?(ws: RuntimeWorkspace, command: string[], timeoutMs: number, signal: AbortSignal): Promise<ExecResult>;
  /**
   * The result of the post-start run of the instance's current start, when the engine runs post-start
   * itself (Kubernetes); undefined while there is none yet. The controller runs it otherwise.
   */
  readPostStart?(ws: RuntimeWorkspace, signal: AbortSignal): Promise<PostStartRecord | undefined>;
  /** GET a path of the workspace's HTTP port, when the control plane cannot reach its address directly. */
  httpGet?(ws: RuntimeWorkspace, path: string, timeoutMs: number, signal: AbortSignal): Promise<HttpAnswer>;
  /**
   * Cumulative CPU and network counters of the running instance, where the engine can tell
   * (an activity signal for auto-termination); undefined when it is not running.
   */
  usage?(ws: RuntimeWorkspace, signal: AbortSignal): Promise<UsageSample | undefined>;
  /**
   * Resolves once the engine answers a cheap request (readiness reports an engine that is down; it never
   * makes wsm unready). Absent: the runtime has no engine to lose.
   */
  ping?(signal: AbortSignal): Promise<void>;
  /** Release connections and timers; instances keep running. */
  close(): Promise<void>;
}
