// The shapes the console reads from the wsm API (only the fields it uses).
export type Role = 'owner' | 'editor' | 'viewer';

export interface FieldError {
  field: string;
  message: string;
  line?: number;
}

export interface Operation {
  id: string;
  /** On the live feed: the workspace's name and uid (an earlier workspace of the name has another uid). */
  workspace?: string;
  workspace_uid?: string | null;
  action: string;
  actor: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed';
  error: string | null;
  attempts: number;
  details: Record<string, unknown> | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  last_transition_time: string;
}

export interface LifecycleConfig {
  termination_policy: { enable_auto_termination: boolean; max_idle_seconds: number };
  pre_start_script_path?: string;
  post_start?: { command?: string[]; hook_path?: string; fail_on_error?: boolean };
  pre_stop?: { command?: string[]; hook_path?: string; timeout_seconds?: number };
  schedule?: { autostart?: string; autostop?: string; timezone: string };
}

export interface Workspace {
  name: string;
  uid: string;
  cluster_type: string;
  url: string | null;
  /** Where the workspace proxy serves it (null when the proxy is off). */
  proxy_url?: string | null;
  access: Role | null;
  instance: { name: string; type: string; status: string; ip: string | null };
  container_config: string;
  /** Names of the variables copied from the cluster settings; overridden when container_config sets one too. */
  inherited_env: { name: string; overridden: boolean }[];
  lifecycle_config: LifecycleConfig;
  namespace: string | null;
  ingress_enabled: boolean;
  desired_state: 'running' | 'stopped';
  generation: number;
  observed_generation: number;
  status_message: string | null;
  conditions: Condition[];
  restart_policy: 'always' | 'on-failure' | 'never';
  restart_count: number;
  next_restart_at: string | null;
  last_termination: { reason: string; exit_code: number | null; signal: string | null; oom_killed: boolean; finished_at: string; log_tail: string | null } | null;
  deletion: { requested_at: string; delete_volume: boolean } | null;
  last_operation: Operation | null;
  activity: { last_activity_at: string | null; last_activity_source: string | null; idle_seconds: number | null; stops_at: string | null };
  next_autostart_at?: string | null;
  next_autostop_at?: string | null;
  dormant?: boolean;
  dormant_since?: string | null;
  dormant_deletes_at?: string | null;
  created_at: string;
  updated_at: string;
}

export interface Whoami {
  actor: string;
  role: Role | null;
  grants: { workspace: string; role: Role }[];
}
