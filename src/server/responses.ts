// Response schemas: Fastify serializes every answer with the one its route declares for the status,
// so a field missing here never leaves the server, and the OpenAPI document shows what is returned.
// Keep them in step with presenter.ts; test/server/openapi-conformance.test.ts checks both ways.
import { Type, type TSchema } from 'typebox';
import { ACTIONS, CLUSTER_TYPES, INSTANCE_STATUSES, RESTART_POLICIES } from '../core/types.js';
import { CHANGE_EFFECTS } from '../core/change-plan.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** An object whose keys are not fixed (hook output, the figures of an automatic stop): passed on whole. */
const FreeObject = Type.Object({}, { additionalProperties: true });
const Time = Type.String({ description: 'ISO 8601' });
const RoleName = Type.Enum(['owner', 'editor', 'viewer']);

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.Integer({ description: 'The HTTP status' }),
      type: Type.String({ description: 'validation_error, not_found, invalid_oauth_token, unauthorized_access, conflict, ...' }),
      message: Type.String(),
      errors: Type.Array(
        Type.Object({
          field: Type.String(),
          message: Type.String(),
          line: Type.Optional(Type.Integer({ description: 'The line of container_config YAML at fault' })),
        }),
      ),
    }),
  },
  { description: 'Every 4xx and 5xx answer' },
);

/** 4xx and 5xx of every route: the error handler always answers with an ErrorBody. */
export const ERRORS = { '4xx': ErrorBody, '5xx': ErrorBody } as const;

const Effect = Type.Enum([...CHANGE_EFFECTS], {
  description: 'none: not used by this runtime; live: applied without a restart; deferred: used from the next start; restart: the process restarts (local); recreate: the container is recreated (Docker) or the pod rolled (Kubernetes)',
});

export const ChangePlan = Type.Object(
  {
    cluster_type: Type.Enum([...CLUSTER_TYPES]),
    effect: Effect,
    interrupts: Type.Boolean({ description: 'Whether the running workspace is restarted, recreated or rolled now' }),
    changes: Type.Array(Type.Object({ field: Type.String(), effect: Effect, message: Type.String() })),
    summary: Type.String(),
    engine_check: Type.Optional(
      Type.Object(
        { status: Type.Enum(['accepted', 'unavailable']), message: Type.String() },
        { description: 'Dry runs on Kubernetes: whether the API server accepted the objects (dryRun=All); a rejection is a 400 instead' },
      ),
    ),
  },
  { description: 'What a patch does on the workspace\'s runtime, field by field' },
);

export const Operation = Type.Object({
  id: Type.String(),
  action: Type.Enum([...ACTIONS, 'create', 'delete', 'auto_stop', 'scheduled_start', 'scheduled_stop', 'dormant_warning']),
  actor: Type.String(),
  state: Type.Enum(['pending', 'running', 'succeeded', 'failed']),
  error: Nullable(Type.String()),
  attempts: Type.Integer(),
  target_generation: Type.Integer(),
  target_state: Type.Enum(['running', 'stopped', 'deleted']),
  details: Nullable(Type.Object({ plan: Type.Optional(ChangePlan) }, { additionalProperties: true, description: 'The plan a patch followed; hook output' })),
  created_at: Time,
  started_at: Nullable(Time),
  finished_at: Nullable(Time),
});

export const Activity = Type.Object({
  last_activity_at: Nullable(Time),
  last_activity_source: Nullable(Type.String({ description: 'api, heartbeat, probe, network, cpu, start or proxy' })),
  idle_seconds: Nullable(Type.Integer()),
  stops_at: Nullable(Time),
  last_auto_stop: Nullable(FreeObject),
  probe_error: Nullable(Type.String()),
});

const LifecycleConfig = Type.Object({
  termination_policy: Type.Object({ enable_auto_termination: Type.Boolean(), max_idle_seconds: Type.Integer() }),
  pre_start_script_path: Type.Optional(Type.String()),
  post_start: Type.Optional(
    Type.Object({
      command: Type.Optional(Type.Array(Type.String())),
      hook_path: Type.Optional(Type.String()),
      fail_on_error: Type.Optional(Type.Boolean()),
      wait_for_port: Type.Optional(Type.Boolean()),
    }),
  ),
  wake_on_request: Type.Optional(Type.Boolean({ description: 'A request through the workspace proxy resumes the workspace when it is stopped' })),
  pre_stop: Type.Optional(
    Type.Object({
      command: Type.Optional(Type.Array(Type.String())),
      hook_path: Type.Optional(Type.String()),
      timeout_seconds: Type.Optional(Type.Integer()),
    }, { description: 'Runs inside the workspace before every stop (docs/schedules.md)' }),
  ),
  schedule: Type.Optional(
    Type.Object({
      autostart: Type.Optional(Type.String({ description: '5-field cron expression' })),
      autostop: Type.Optional(Type.String({ description: '5-field cron expression' })),
      timezone: Type.String({ description: 'IANA time zone' }),
    }),
  ),
});

const Condition = Type.Object({
  type: Type.String(),
  status: Type.Enum(['True', 'False', 'Unknown']),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  last_transition_time: Time,
});

const Termination = Type.Object({
  reason: Type.String({ description: 'Exited, Killed, OOMKilled, Missing, Stopped, PreStartFailed, …' }),
  exit_code: Nullable(Type.Integer()),
  signal: Nullable(Type.String()),
  oom_killed: Type.Boolean(),
  finished_at: Time,
  log_tail: Nullable(Type.String({ description: 'The last lines the instance wrote, when the engine keeps them' })),
}, { description: 'How the last run of the instance ended' });

export const Workspace = Type.Object({
  name: Type.String(),
  cluster_type: Type.Enum([...CLUSTER_TYPES]),
  url: Nullable(Type.String()),
  repo_path: Type.String({ description: 'Where the persistent volume is mounted' }),
  success: Type.Boolean({ description: 'false when the instance has FAILED' }),
  access: Nullable(RoleName),
  instance: Type.Object({
    name: Type.String(),
    type: Type.String(),
    status: Type.Enum([...INSTANCE_STATUSES]),
    ip: Nullable(Type.String()),
  }),
  project_uuid: Type.String(),
  uid: Type.String({ description: 'Never reused: a workspace made again under the same name has another' }),
  lifecycle_config: LifecycleConfig,
  container_config: Type.String({ description: 'YAML' }),
  inherited_env: Type.Array(
    Type.Object({
      name: Type.String(),
      overridden: Type.Boolean({ description: 'true when container_config sets a variable of this name, whose value wins' }),
    }),
    {
      description:
        'The variables copied from the cluster settings (at create, and again with update_workspace_settings), which the workspace runs with besides its container_config env. Names only: the values are in the cluster settings, which only owners read.',
    },
  ),
  namespace: Nullable(Type.String()),
  ingress_name: Nullable(Type.String()),
  pvc_retention_policy: Type.String(),
  service_account_name: Nullable(Type.String()),
  storage_access_mode: Type.String(),
  storage_class_name: Nullable(Type.String()),
  storage_request_size: Type.String(),
  ingress_enabled: Type.Boolean(),
  desired_state: Type.Enum(['running', 'stopped']),
  generation: Type.Integer(),
  observed_generation: Type.Integer(),
  resource_version: Type.Integer({ description: 'The ETag' }),
  status_message: Nullable(Type.String()),
  exit_code: Nullable(Type.Integer()),
  restart_policy: Type.Enum([...RESTART_POLICIES], { description: 'What wsm does when the instance ends while desired running' }),
  restart_count: Type.Integer({ description: 'Restarts wsm made (or counted from the engine) since the workspace was created' }),
  next_restart_at: Nullable(Time),
  last_termination: Nullable(Termination),
  conditions: Type.Array(Condition),
  deletion: Nullable(Type.Object({ requested_at: Time, delete_volume: Type.Boolean() })),
  last_operation: Nullable(Operation),
  activity: Activity,
  proxy_url: Nullable(Type.String({ description: 'Where the workspace is reached through wsm\'s workspace proxy (docs/proxy.md); null when the proxy is off' })),
  next_autostart_at: Nullable(Time),
  next_autostop_at: Nullable(Time),
  dormant: Type.Boolean({ description: 'Stopped and untouched for longer than the cluster\'s dormant_after_days (docs/schedules.md)' }),
  dormant_since: Nullable(Time),
  dormant_deletes_at: Nullable(Time),
  dormant_warned_at: Nullable(Time),
  created_at: Time,
  updated_at: Time,
});

const Empty = Type.Object({});

export const WorkspaceEnvelope = Type.Object({ workspace: Workspace, metadata: Empty }, { description: 'The workspace' });
export const WorkspaceChange = Type.Object(
  {
    workspace: Workspace,
    operation: Nullable(Operation),
    plan: Type.Optional(ChangePlan),
    dry_run: Type.Optional(Type.Boolean({ description: 'true: nothing was changed; workspace is what the patch would make of it, and operation is null' })),
    metadata: Empty,
  },
  { description: 'The workspace as changed (or, in a dry run, as it would be), the operation that carries the change out, and for a patch its plan' },
);
export const WorkspacePage = Type.Object({
  workspaces: Type.Array(Workspace),
  metadata: Type.Object({ count: Type.Integer(), limit: Type.Integer(), offset: Type.Integer(), next_offset: Nullable(Type.Integer()) }),
}, { description: 'A page of the workspaces the token may view' });
export const OperationList = Type.Object({ operations: Type.Array(Operation), metadata: Type.Object({ count: Type.Integer() }) }, { description: 'The latest operations, newest first' });
export const OperationEnvelope = Type.Object({ operation: Operation }, { description: 'The operation' });
export const ActivityEnvelope = Type.Object({ activity: Activity, metadata: Empty }, { description: 'The activity, with this heartbeat' });

export const Status = Type.Object({ status: Type.Literal('ok'), version: Type.String(), cluster_types: Type.Array(Type.String()) }, { description: 'The server is ready' });

export const Token = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleName,
  workspace: Nullable(Type.String()),
  expires_at: Nullable(Time),
  created_at: Time,
  revoked_at: Nullable(Time),
});
export const NewToken = Type.Object({ token: Type.Object({ ...Token.properties, secret: Type.String({ description: 'Shown only here' }) }) });
export const TokenList = Type.Object({ tokens: Type.Array(Token), metadata: Type.Object({ count: Type.Integer() }) });
export const Revoked = Type.Object({ revoked: Type.String() });
export const GrantEnvelope = Type.Object({ grant: Type.Object({ token_id: Type.String(), workspace: Type.String(), role: RoleName }) });
export const GrantRemoved = Type.Object({ removed: Type.Object({ token_id: Type.String(), workspace: Type.String() }) });

export const ClusterSettingsEnvelope = Type.Object({
  cluster_settings: Type.Object({
    env: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })),
    inherit_patterns: Type.Array(Type.String()),
    default_image: Type.Optional(Type.String()),
    dormant_after_days: Type.Optional(Type.Integer()),
    delete_dormant_after_days: Type.Optional(Type.Integer()),
    delete_dormant_volume: Type.Optional(Type.Boolean()),
  }),
});

export const AuditPage = Type.Object({
  events: Type.Array(
    Type.Object({
      id: Type.Optional(Type.Integer()),
      at: Time,
      actor: Type.String(),
      action: Type.String(),
      workspace: Type.Optional(Type.String()),
      generation_before: Type.Optional(Type.Integer()),
      generation_after: Type.Optional(Type.Integer()),
      result: Type.Enum(['ok', 'error']),
      detail: Type.Optional(Type.String()),
      request_id: Type.Optional(Type.String()),
    }),
  ),
  metadata: Type.Object({ count: Type.Integer() }),
});

export const Caller = Type.Object({
  actor: Type.String(),
  role: Nullable(RoleName),
  grants: Type.Array(Type.Object({ workspace: Type.String(), role: RoleName })),
});

/** An answer with no body (204, or a redirect). */
export const NoBody = Type.Null({ description: 'No body' });

/** A body that is not JSON, by content type (the console's page and assets, the event stream). */
export function textBody(contentType: string, description: string) {
  return { description, content: { [contentType]: { schema: Type.String() } } };
}

const DormantWorkspace = Type.Object({
  name: Type.String(),
  dormant_since: Time,
  deletes_at: Nullable(Time),
  warned_at: Nullable(Time),
  next_step: Nullable(Type.Enum(['warn', 'delete'], { description: 'What the next dormancy pass does: warn the owner, or delete it' })),
  delete_volume: Type.Boolean(),
});

export const DormancyReport = Type.Object({
  settings: Type.Object({
    dormant_after_days: Nullable(Type.Integer()),
    delete_dormant_after_days: Nullable(Type.Integer()),
    delete_dormant_volume: Type.Boolean(),
  }),
  workspaces: Type.Array(DormantWorkspace),
  metadata: Type.Object({ count: Type.Integer() }),
}, { description: 'The dormant workspaces and what will be done about them; nothing is changed' });
