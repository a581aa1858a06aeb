// Request schemas: they validate the shape of each request and are the source of the OpenAPI
// document. What a shape cannot say (YAML contents, quantities, paths) core validates after.
import { Type } from 'typebox';
import { ACTIONS } from '../core/types.js';
import { ContainerConfigInput } from '../core/container-config-shape.js';

/** YAML text, or a JSON object held here to the shape (its errors: errors.ts); docs/container-config.md. */
const containerConfig = ContainerConfigInput;

const lifecycleConfig = Type.Object(
  {
    wake_on_request: Type.Optional(Type.Boolean({ description: 'A request through the workspace proxy resumes the workspace when it is stopped (docs/proxy.md).' })),
  },
  {
    additionalProperties: true,
    description: 'termination_policy {enable_auto_termination, max_idle_seconds}, pre_start_script_path, post_start {command, hook_path, fail_on_error, wait_for_port}, pre_stop {command, hook_path, timeout_seconds}, schedule {autostart, autostop, timezone}, wake_on_request',
  },
);

export const CreateWorkspaceBody = Type.Object(
  {
    workspace: Type.Object(
      {
        name: Type.String({ description: 'A lower-case DNS label of at most 55 characters.' }),
        cluster_type: Type.Optional(Type.String({ description: 'local, docker or k8s (case-insensitive); default: the server\'s.' })),
        container_config: Type.Optional(containerConfig),
        lifecycle_config: Type.Optional(lifecycleConfig),
        namespace: Type.Optional(Type.String()),
        service_account_name: Type.Optional(Type.String()),
        storage_class_name: Type.Optional(Type.String()),
        storage_access_mode: Type.Optional(Type.String({ description: 'ReadWriteOnce, ReadWriteMany or ReadOnlyMany' })),
        storage_request_size: Type.Optional(Type.Union([Type.Number(), Type.String()], { description: 'GB as a number, or a quantity such as 10Gi' })),
        pvc_retention_policy: Type.Optional(Type.String({ description: 'Retain or Delete' })),
        ingress_name: Type.Optional(Type.String()),
        mount_path: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const ActionBody = Type.Object(
  {
    workspace: Type.Object(
      {
        action: Type.Enum([...ACTIONS], { description: 'stop, resume, patch or add_to_ingress' }),
        container_config: Type.Optional(containerConfig),
        lifecycle_config: Type.Optional(lifecycleConfig),
        update_workspace_settings: Type.Optional(Type.Boolean()),
        dry_run: Type.Optional(
          Type.Boolean({
            description:
              'patch only: answer with the plan (what the change does on the workspace\'s runtime) and the workspace as it would be, changing nothing. On Kubernetes the API server is asked too (dryRun=All).',
          }),
        ),
        force: Type.Optional(Type.Boolean({ description: 'stop only: skip the pre-stop (lifecycle_config.pre_stop).' })),
        name: Type.Optional(Type.String({ description: 'Ignored; the path names the workspace.' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const WorkspaceParams = Type.Object({ name: Type.String() });

export const ListQuery = Type.Object(
  {
    cluster_type: Type.Optional(Type.String()),
    status: Type.Optional(Type.String({ description: 'Comma-separated instance statuses, e.g. RUNNING,STOPPED' })),
    namespace: Type.Optional(Type.String({ description: 'Comma-separated namespaces; __all__ for all' })),
    'namespace[]': Type.Optional(Type.String()),
    q: Type.Optional(Type.String({ description: 'Text the name contains' })),
    dormant: Type.Optional(Type.String({ description: 'true: only dormant workspaces (docs/schedules.md); false: only those that are not' })),
    user_id: Type.Optional(Type.String({ description: 'Accepted for Mage compatibility; wsm has no users' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    // Past 2^31 no store holds that many rows, and SQLite refuses integers past 2^63.
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 })),
  },
  { additionalProperties: false },
);

export const DeleteQuery = Type.Object(
  {
    delete_volume: Type.Optional(Type.Boolean({ description: 'Also remove the persistent volume (default false)' })),
  },
  { additionalProperties: false },
);

/** Ten years: longer is a token that never expires in all but name, and past year 275760 no date exists. */
export const MAX_TOKEN_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

export const CreateTokenBody = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    role: Type.Enum(['owner', 'editor', 'viewer']),
    workspace: Type.Optional(Type.String()),
    expires_in_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TOKEN_LIFETIME_SECONDS, description: 'From 1 second to 10 years' })),
  },
  { additionalProperties: false },
);

export const GrantBody = Type.Object(
  { role: Type.Enum(['owner', 'editor', 'viewer']) },
  { additionalProperties: false },
);

export const ClusterSettingsBody = Type.Object(
  {
    cluster_settings: Type.Object(
      {
        env: Type.Optional(Type.Array(Type.Object({ name: Type.String(), value: Type.String() }, { additionalProperties: false }))),
        inherit_patterns: Type.Optional(Type.Array(Type.String())),
        default_image: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        dormant_after_days: Type.Optional(
          Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()], { description: 'Days a workspace stays stopped and untouched before it is dormant; null: never (docs/schedules.md)' }),
        ),
        delete_dormant_after_days: Type.Optional(
          Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()], { description: 'Days after it became dormant that a workspace is deleted (its owner is warned first); null: never' }),
        ),
        delete_dormant_volume: Type.Optional(Type.Boolean({ description: 'Whether that deletion deletes the volume too (default false: kept)' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
