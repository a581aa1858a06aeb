// The workspace as the API shows it: Mage's fields first (so existing scripts keep working), then
// wsm's own (desired state, generation, conditions, last operation, activity).
import { dormancyOf, type DormancySettings } from '../core/dormancy.js';
import { nextScheduleTimes } from '../core/schedule.js';
import { renderContainerConfig } from '../core/container-config.js';
import type { ContainerConfig, OperationRecord, Role, Termination, WorkspaceRecord } from '../core/types.js';
import { restartPolicyOf } from '../core/restart-policy.js';
import { isDeepFrozen } from '../lib/deep-freeze.js';

// Rendering YAML costs about as much as the rest of a request; the config changes rarely, so the YAML
// is kept by the config's JSON text (the key is the content, so a changed config never gets a stale
// answer). The bound keeps memory flat when many configs differ; past it the cache starts afresh.
const YAML_CACHE_LIMIT = 20_000;
const yamlCache = new Map<string, string>();

// A deeply frozen spec or record (the store's kept records are; records decoded from the same spec text
// share one frozen spec) cannot change, so the YAML of its config is also kept by that object: a page of
// kept records then skips turning each config into its JSON key.
const yamlOfFrozen = new WeakMap<object, string>();

function containerYaml(ws: WorkspaceRecord): string {
  const owner = isDeepFrozen(ws.spec) ? ws.spec : isDeepFrozen(ws) ? ws : undefined;
  if (owner === undefined) return renderContainerConfigCached(ws.spec.container);
  let yaml = yamlOfFrozen.get(owner);
  if (yaml === undefined) {
    yaml = renderContainerConfigCached(ws.spec.container);
    yamlOfFrozen.set(owner, yaml);
  }
  return yaml;
}

export function renderContainerConfigCached(config: ContainerConfig): string {
  const key = JSON.stringify(config);
  let yaml = yamlCache.get(key);
  if (yaml === undefined) {
    yaml = renderContainerConfig(config);
    if (yamlCache.size >= YAML_CACHE_LIMIT) yamlCache.clear();
    yamlCache.set(key, yaml);
  }
  return yaml;
}

function presentTermination(t: Termination) {
  return {
    reason: t.reason,
    exit_code: t.exit_code ?? null,
    signal: t.signal ?? null,
    oom_killed: t.oom_killed,
    finished_at: t.finished_at,
    log_tail: t.log_tail ?? null,
  };
}

export function presentOperation(op: OperationRecord | undefined) {
  if (!op) return null;
  return {
    id: op.id,
    action: op.action,
    actor: op.actor,
    state: op.state,
    error: op.error ?? null,
    attempts: op.attempts,
    target_generation: op.target_generation,
    target_state: op.target_state,
    details: op.details ?? null,
    created_at: op.created_at,
    started_at: op.started_at ?? null,
    finished_at: op.finished_at ?? null,
  };
}

/** Milliseconds since the epoch, or undefined for no time or one that does not parse. */
function parseTime(iso: string | undefined): number | undefined {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

export interface ActivityView {
  last_activity_at: string | null;
  last_activity_source: string | null;
  idle_seconds: number | null;
  stops_at: string | null;
  last_auto_stop: Record<string, unknown> | null;
  probe_error: string | null;
}

/** When the workspace was last active, in ms since the epoch; undefined when never (or not parseable). */
export function lastActivityMs(ws: WorkspaceRecord): number | undefined {
  return parseTime(ws.activity.last_activity_at);
}

/** Whole seconds from the last activity to `now`: the one time-dependent figure of a workspace's answer. */
export function idleSeconds(lastMs: number, now: number): number {
  return Math.max(0, Math.floor((now - lastMs) / 1000));
}

/** `idleMark`, when given, stands in for a known idle seconds figure (see kept-list-pages.ts). */
export function presentActivity(ws: WorkspaceRecord, now = Date.now(), idleMark?: number): ActivityView {
  const a = ws.activity;
  const last = lastActivityMs(ws);
  const policy = ws.spec.lifecycle.termination_policy;
  const running = ws.desired_state === 'running' && ws.observed.status === 'RUNNING';
  const stopsAt =
    running && policy.enable_auto_termination && last !== undefined
      ? new Date(last + policy.max_idle_seconds * 1000).toISOString()
      : null;
  return {
    last_activity_at: a.last_activity_at ?? null,
    last_activity_source: a.last_activity_source ?? null,
    idle_seconds: last === undefined ? null : (idleMark ?? idleSeconds(last, now)),
    stops_at: stopsAt,
    last_auto_stop: a.last_auto_stop ?? null,
    probe_error: a.probe_error ?? null,
  };
}

/** The names of the cluster env the workspace runs with, and whether its own env replaces each. */
function inheritedEnv(ws: WorkspaceRecord): { name: string; overridden: boolean }[] {
  const inherited = ws.spec.inherited_env;
  if (inherited.length === 0) return [];
  const own = new Set((ws.spec.container.env ?? []).map((v) => v.name));
  return inherited.map((v) => ({ name: v.name, overridden: own.has(v.name) }));
}

export interface PresentOptions {
  access?: Role;
  lastOperation?: OperationRecord;
  now?: number;
  idleMark?: number;
  proxyUrlOf?: (name: string) => string;
  /** The cluster's dormancy settings; without them no workspace is shown dormant. */
  dormancy?: DormancySettings;
}

export function presentWorkspace(ws: WorkspaceRecord, options: PresentOptions = {}) {
  const spec = ws.spec;
  const obs = ws.observed;
  const now = options.now ?? Date.now();
  const dormancy = dormancyOf(ws, options.dormancy ?? {}, now);
  return {
    name: ws.name,
    cluster_type: ws.cluster_type,
    url: obs.url ?? null,
    repo_path: spec.storage.mount_path,
    success: obs.status !== 'FAILED',
    access: options.access ?? null,
    instance: {
      name: obs.instance_name ?? ws.name,
      type: obs.instance_type ?? ws.cluster_type,
      status: obs.status,
      ip: obs.ip ?? null,
    },
    project_uuid: ws.project_uuid,
    uid: ws.uid,
    lifecycle_config: spec.lifecycle,
    container_config: containerYaml(ws),
    inherited_env: inheritedEnv(ws),
    namespace: spec.namespace ?? null,
    ingress_name: spec.ingress.name ?? null,
    pvc_retention_policy: spec.storage.retention_policy,
    service_account_name: spec.service_account_name ?? null,
    storage_access_mode: spec.storage.access_mode,
    storage_class_name: spec.storage.class_name ?? null,
    storage_request_size: spec.storage.request_size,
    ingress_enabled: spec.ingress.enabled,
    desired_state: ws.desired_state,
    generation: ws.generation,
    observed_generation: obs.observed_generation,
    resource_version: ws.resource_version,
    status_message: obs.message ?? null,
    exit_code: obs.exit_code ?? null,
    restart_policy: restartPolicyOf(spec.container),
    restart_count: obs.restarts?.count ?? 0,
    next_restart_at: obs.restarts?.next_retry_at ?? null,
    last_termination: obs.last_termination ? presentTermination(obs.last_termination) : null,
    conditions: obs.conditions,
    deletion: ws.deletion ?? null,
    last_operation: presentOperation(options.lastOperation),
    activity: presentActivity(ws, options.now, options.idleMark),
    ...nextScheduleTimes(spec.lifecycle.schedule, now),
    dormant: dormancy.dormant,
    dormant_since: dormancy.dormant_since,
    dormant_deletes_at: dormancy.deletes_at,
    dormant_warned_at: dormancy.warned_at,
    proxy_url: options.proxyUrlOf ? options.proxyUrlOf(ws.name) : null,
    created_at: ws.created_at,
    updated_at: ws.updated_at,
  };
}

export function etag(ws: WorkspaceRecord): string {
  return `"${ws.resource_version}"`;
}
