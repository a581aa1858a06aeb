// The domain model shared by every layer. Pure data: no I/O, no imports of other layers.

export const CLUSTER_TYPES = ['local', 'docker', 'k8s'] as const;
export type ClusterType = (typeof CLUSTER_TYPES)[number];

export const ACTIONS = ['stop', 'resume', 'patch', 'add_to_ingress'] as const;
export type Action = (typeof ACTIONS)[number];

export type DesiredState = 'running' | 'stopped';

/** Mage's upper-case instance statuses, plus the transitional ones wsm shows while it acts. */
export const INSTANCE_STATUSES = [
  'PENDING',
  'PROVISIONING',
  'RUNNING',
  'STOPPING',
  'STOPPED',
  'FAILED',
  'SUCCEEDED',
  'UNAVAILABLE',
  'DELETING',
  'UNKNOWN',
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

/** The restart policies wsm applies on every runtime. */
export const RESTART_POLICIES = ['always', 'on-failure', 'never'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];
/** What container_config.restart_policy accepts: wsm's names and Mage's Docker spellings. */
export const RESTART_POLICY_SETTINGS = ['always', 'on-failure', 'never', 'no', 'unless-stopped'] as const;
export type RestartPolicySetting = (typeof RESTART_POLICY_SETTINGS)[number];

export interface EnvVar {
  name: string;
  value: string;
}

/** Kubernetes-style quantities as strings, e.g. { cpu: "500m", memory: "1Gi" }. */
export interface ResourceRequirements {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
}

/** A bind of a host path into the container (Mage's Docker `volumes` key). */
export interface VolumeBind {
  bind: string;
  mode: 'rw' | 'ro';
}

/**
 * The normalized container_config. The YAML the API accepts is parsed into this shape
 * (Mage's Docker `environment` map is folded into `env`), and rendered back as YAML.
 */
export interface ContainerConfig {
  image?: string;
  env?: EnvVar[];
  resources?: ResourceRequirements;
  command?: string[];
  args?: string[];
  working_dir?: string;
  port?: number;
  host_port?: number;
  /**
   * What wsm does when the instance ends while the workspace is desired running (restart-policy in
   * the controller): `always` (the default), `on-failure`, `never`; Mage's Docker spellings `no`
   * (= never) and `unless-stopped` (= always) are taken too. The engine's own policy stays off.
   */
  restart_policy?: RestartPolicySetting;
  /** A start not ready within this many seconds fails its operation and ends as a failed run (default 600). */
  start_timeout_seconds?: number;
  image_pull_policy?: 'Always' | 'IfNotPresent' | 'Never';
  image_pull_secrets?: string[];
  volumes?: Record<string, VolumeBind>;
  public_url?: string;
  service_type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface TerminationPolicy {
  enable_auto_termination: boolean;
  max_idle_seconds: number;
}

export interface PostStartConfig {
  command?: string[];
  hook_path?: string;
  /** When true a failing post-start hook fails the workspace; by default it is a warning. */
  fail_on_error?: boolean;
  /**
   * When true post-start runs once the workspace accepts connections on its port (at most the
   * post-start timeout); by default it runs right after the start, beside the main process, as
   * Kubernetes runs a postStart hook. The same on every runtime.
   */
  wait_for_port?: boolean;
}

/** Runs inside the workspace before every stop (manual, idle, schedule, delete) to save work (docs/schedules.md). */
export interface PreStopConfig {
  command?: string[];
  hook_path?: string;
  /** How long the command and the hook may take together before the pre-stop counts as failed (default 60). */
  timeout_seconds?: number;
}

/** When the control plane starts and stops the workspace: 5-field cron expressions read in `timezone`. */
export interface ScheduleConfig {
  autostart?: string;
  autostop?: string;
  /** An IANA time zone such as Europe/Berlin; UTC when not given. */
  timezone: string;
}

export interface LifecycleConfig {
  termination_policy: TerminationPolicy;
  pre_start_script_path?: string;
  post_start?: PostStartConfig;
  pre_stop?: PreStopConfig;
  schedule?: ScheduleConfig;
  /** A request through the workspace proxy resumes the workspace when it is stopped (docs/proxy.md). */
  wake_on_request?: boolean;
}

export type StorageAccessMode = 'ReadWriteOnce' | 'ReadWriteMany' | 'ReadOnlyMany';
export type RetentionPolicy = 'Retain' | 'Delete';

export interface StorageSpec {
  class_name?: string;
  access_mode: StorageAccessMode;
  /** A Kubernetes quantity such as "2Gi". */
  request_size: string;
  retention_policy: RetentionPolicy;
  /** Where the persistent volume is mounted in the workspace. */
  mount_path: string;
}

export interface IngressSpec {
  enabled: boolean;
  /** The shared Ingress this workspace's path lives on (cluster default when absent). */
  name?: string;
}

/** Everything the user can change; a change of spec bumps the generation. */
export interface WorkspaceSpec {
  container: ContainerConfig;
  lifecycle: LifecycleConfig;
  storage: StorageSpec;
  ingress: IngressSpec;
  namespace?: string;
  service_account_name?: string;
  /** The cluster env copied into the workspace at create and on update_workspace_settings. */
  inherited_env: EnvVar[];
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  last_transition_time: string;
}

/** How an instance's run ended, as far as its engine tells. */
export interface Termination {
  /** Exited, OOMKilled, Killed (a signal), Missing (removed), Stopped (from outside). */
  reason: string;
  exit_code?: number;
  /** The signal that ended it, when one did (SIGKILL, SIGTERM, …). */
  signal?: string;
  oom_killed: boolean;
  /** When it ended (when that is unknown: when wsm found it ended). */
  finished_at: string;
  /** The last lines it wrote, when the engine keeps them. */
  log_tail?: string;
}

/** The restarts wsm made (or the engine made and wsm counted) of a workspace desired running. */
export interface RestartState {
  /** Restarts since the workspace was created. */
  count: number;
  /** Restarts in a row without a run that lasted the reset time: the backoff grows with it. */
  streak: number;
  last_restart_at?: string;
  /** Set while a restart waits out its backoff (CrashLoopBackOff). */
  next_retry_at?: string;
  /** The termination the pending or last decision was about, so one end is counted once. */
  handled_termination_at?: string;
  /** Kubernetes: the pod whose kubelet restarts were last counted, and how many there were. */
  engine_instance?: string;
  engine_count?: number;
}

/** What the controller last saw of the workspace's instance. */
export interface ObservedState {
  status: InstanceStatus;
  /** The generation whose spec the instance runs, once applied. */
  observed_generation: number;
  ip?: string;
  url?: string;
  instance_type?: string;
  instance_name?: string;
  exit_code?: number;
  message?: string;
  conditions: Condition[];
  /** Absent on rows written before restarts were counted: read as none. */
  restarts?: RestartState;
  last_termination?: Termination;
  updated_at: string;
}

export type ActivitySource = 'api' | 'heartbeat' | 'probe' | 'network' | 'cpu' | 'start' | 'proxy';

export interface ActivityState {
  last_activity_at?: string;
  last_activity_source?: ActivitySource;
  /** The figures behind the last automatic stop. */
  last_auto_stop?: Record<string, unknown>;
  probe_error?: string;
  /**
   * The time (ISO 8601) up to which the schedule has been acted on: its events
   * after it and up to now are the ones still to carry out, which is how a start missed while the
   * control plane was down is made up.
   */
  schedule_checked_at?: string;
  /** When the owner was warned that this dormant workspace will be deleted, and for when. */
  dormancy_warning?: { warned_at: string; deletes_at: string };
  /** The automatic stop tried last while pre-stop postpones them: the next is not tried before its time. */
  stop_retry?: StopRetry;
}

/** What an idle stop is decided on (kept on its operation and as activity.last_auto_stop); `retry` while pre-stop postpones it. */
export type AutoStopFigures = Record<string, unknown> & { retry?: StopRetry };

/** An automatic stop (idle or scheduled) tried while its pre-stop keeps failing, one of a row of them. */
export interface StopRetry {
  /** What the row is about (the kind of stop, what made it due, the pre_stop): another key starts a new row. */
  key: string;
  /** This try's number in the row, from 1. */
  attempt: number;
  /** Should this try be postponed too, the next is not made before this time (ISO 8601). */
  next_retry_at: string;
}

export interface WorkspaceRecord {
  name: string;
  /**
   * Made at create and never reused: a workspace deleted and created again under its name is another
   * workspace, and what was bound to the first (a cached grant) must not carry over to the second.
   */
  uid: string;
  cluster_type: ClusterType;
  project_uuid: string;
  spec: WorkspaceSpec;
  desired_state: DesiredState;
  /** Set by DELETE: the controller removes the instance and then the row. */
  deletion?: { requested_at: string; delete_volume: boolean };
  generation: number;
  /** Increases on every write to the row; the ETag. */
  resource_version: number;
  observed: ObservedState;
  activity: ActivityState;
  created_at: string;
  updated_at: string;
}

export type OperationState = 'pending' | 'running' | 'succeeded' | 'failed';

/** `dormant_warning` changes nothing: it is recorded done, as the event that tells a dormant workspace's watchers of its deletion. */
export type OperationAction = Action | 'create' | 'delete' | 'auto_stop' | 'scheduled_start' | 'scheduled_stop' | 'dormant_warning';

export interface OperationRecord {
  id: string;
  workspace: string;
  /**
   * The uid of the workspace it was made for (a later workspace of the same name has another). Absent only
   * on operations recorded before uids whose workspace had already been deleted.
   */
  workspace_uid?: string;
  action: OperationAction;
  actor: string;
  request: unknown;
  state: OperationState;
  /** The generation and desired state this operation asked for; it succeeds when both are observed. */
  target_generation: number;
  target_state: DesiredState | 'deleted';
  error?: string;
  attempts: number;
  /** Output of hooks run for this operation, when any. */
  details?: Record<string, unknown>;
  created_at: string;
  started_at?: string;
  finished_at?: string;
}

export type Role = 'owner' | 'editor' | 'viewer';
export const ROLES: readonly Role[] = ['viewer', 'editor', 'owner'];

export interface TokenRecord {
  id: string;
  /** sha256 of the secret, hex. */
  hash: string;
  name: string;
  role: Role;
  /** Set when the token only has its role on one workspace. */
  workspace?: string;
  expires_at?: string;
  created_at: string;
  revoked_at?: string;
}

export interface AuditEvent {
  id?: number;
  at: string;
  actor: string;
  action: string;
  workspace?: string;
  generation_before?: number;
  generation_after?: number;
  result: 'ok' | 'error';
  detail?: string;
  request_id?: string;
}

/** Cluster-wide settings kept in the store and edited by owners. */
export interface ClusterSettings {
  /** Env that workspaces inherit. */
  env: EnvVar[];
  /** Names of `env` that workspaces inherit: exact names, `*` wildcards, or /regexes/. Empty = all. */
  inherit_patterns: string[];
  default_image?: string;
  /** A workspace stopped (and untouched) for longer than this many days is dormant; absent: never. */
  dormant_after_days?: number;
  /** A dormant workspace is deleted this many days after it became dormant; absent: never. */
  delete_dormant_after_days?: number;
  /** Whether that deletion also deletes the volume (default false: the volume is kept). */
  delete_dormant_volume?: boolean;
}
