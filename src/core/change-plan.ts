// What a patch will do to a running workspace, field by field, on its runtime: apply live, restart the
// process, or recreate the container / roll the pod. Pure: it compares the spec before and after with
// the same inputs each runtime decides by (the local config hash, the Docker config hash, the
// Kubernetes pod template), and test/runtimes/*/change-plan*.test.ts hold every row to what the runtime
// then really does. A runtime that changes what it hashes must change its column here.
import { effectiveEnv } from './env.js';
import { deepEqual } from './spec.js';
import type { ClusterType, ContainerConfig, EnvVar, WorkspaceSpec } from './types.js';

/**
 * Weakest first. `none`: the runtime does not use the field (it is only stored); `live`: applied with no
 * restart; `deferred`: used from the next start or recreation, nothing restarts for it; `restart`: the
 * workspace's process is restarted (local); `recreate`: the container is recreated (Docker) or the pod
 * rolled (Kubernetes).
 */
export const CHANGE_EFFECTS = ['none', 'live', 'deferred', 'restart', 'recreate'] as const;
export type ChangeEffect = (typeof CHANGE_EFFECTS)[number];

export interface PlannedChange {
  /** The field as the API names it (container_config.env, lifecycle_config.termination_policy, ...). */
  field: string;
  effect: ChangeEffect;
  /** Why, in a few words a person understands. */
  message: string;
}

export interface ChangePlan {
  cluster_type: ClusterType;
  /** The strongest effect of all changes; `none` when nothing changes. */
  effect: ChangeEffect;
  /** Whether the running workspace is interrupted now (restart or recreate while desired running). */
  interrupts: boolean;
  changes: PlannedChange[];
  /** One sentence for people. */
  summary: string;
  /** A dry run on an engine that checks changes itself (Kubernetes): what it said. */
  engine_check?: { status: 'accepted' | 'unavailable'; message: string };
}

export interface PlanInput {
  clusterType: ClusterType;
  before: WorkspaceSpec;
  after: WorkspaceSpec;
  /** The image a workspace without one of its own runs (cluster settings, else the server's). */
  defaultImage: string;
  /** Whether the workspace is desired running: a stopped one is changed without being interrupted. */
  running: boolean;
}

const DEFAULT_PORT = 6789;

/** How each runtime treats a change of one container_config key (the key's effective value changed). */
type Column = Record<ClusterType, ChangeEffect>;
const col = (local: ChangeEffect, docker: ChangeEffect, k8s: ChangeEffect): Column => ({ local, docker, k8s });

const CONTAINER_EFFECTS: Record<Exclude<keyof ContainerConfig, 'env' | 'image' | 'port' | 'host_port'>, Column> = {
  resources: col('none', 'recreate', 'recreate'),
  command: col('restart', 'recreate', 'recreate'),
  args: col('restart', 'recreate', 'recreate'),
  working_dir: col('restart', 'recreate', 'recreate'),
  restart_policy: col('live', 'live', 'live'),
  start_timeout_seconds: col('live', 'live', 'live'),
  image_pull_policy: col('none', 'deferred', 'recreate'),
  image_pull_secrets: col('none', 'none', 'recreate'),
  volumes: col('none', 'recreate', 'none'),
  public_url: col('none', 'live', 'none'),
  service_type: col('none', 'none', 'live'),
  nodeSelector: col('none', 'none', 'recreate'),
  tolerations: col('none', 'none', 'recreate'),
  affinity: col('none', 'none', 'recreate'),
  labels: col('none', 'recreate', 'recreate'),
  annotations: col('none', 'none', 'recreate'),
};

/** What each effect means on each runtime, for the messages. */
const WHAT: Record<ClusterType, Record<ChangeEffect, string>> = {
  local: {
    none: 'not used by the local runtime; only stored',
    live: 'applied without a restart',
    deferred: 'used from the next start; the process is not restarted for it',
    restart: 'restarts the process',
    recreate: 'restarts the process',
  },
  docker: {
    none: 'not used on Docker; only stored',
    live: 'applied without recreating the container',
    deferred: 'used from the next start or recreation; the container is not recreated for it',
    restart: 'recreates the container',
    recreate: 'recreates the container on the same volume',
  },
  k8s: {
    none: 'not used on Kubernetes; only stored',
    live: 'applied without rolling the pod',
    deferred: 'used from the next start of the pod; the pod does not roll for it',
    restart: 'rolls the pod',
    recreate: 'rolls the pod (the StatefulSet pod template changes)',
  },
};

export function planChange(input: PlanInput): ChangePlan {
  const { clusterType, before, after } = input;
  const changes: PlannedChange[] = [];
  const add = (field: string, effect: ChangeEffect, why?: string) =>
    changes.push({ field, effect, message: why ? `${WHAT[clusterType][effect]} (${why})` : WHAT[clusterType][effect] });
  const a = before.container;
  const b = after.container;

  const imageOf = (c: ContainerConfig) => c.image ?? input.defaultImage;
  if (imageOf(a) !== imageOf(b)) add('container_config.image', col('none', 'recreate', 'recreate')[clusterType]);

  planEnv(input, add);
  planPorts(clusterType, a, b, add);

  for (const key of Object.keys(CONTAINER_EFFECTS) as (keyof typeof CONTAINER_EFFECTS)[]) {
    if (!deepEqual(a[key], b[key])) add(`container_config.${key}`, CONTAINER_EFFECTS[key][clusterType]);
  }

  const la = before.lifecycle;
  const lb = after.lifecycle;
  if (!deepEqual(la.termination_policy, lb.termination_policy)) add('lifecycle_config.termination_policy', 'live', 'the idle culler reads it at its next look');
  if (la.pre_start_script_path !== lb.pre_start_script_path) {
    add('lifecycle_config.pre_start_script_path', col('restart', 'recreate', 'recreate')[clusterType], 'the script runs before the main process');
  }
  if (!deepEqual(la.post_start, lb.post_start)) {
    // On Kubernetes post-start is the container's postStart hook, part of the pod template, whenever there is one.
    const hookBefore = Boolean(la.post_start?.command?.length || la.post_start?.hook_path);
    const hookAfter = Boolean(lb.post_start?.command?.length || lb.post_start?.hook_path);
    const k8s: ChangeEffect = hookBefore || hookAfter ? 'recreate' : 'none';
    const why = clusterType !== 'k8s' ? 'post-start runs after each start' : k8s === 'recreate' ? 'the postStart hook of the container' : 'without a command or hook there is no postStart hook';
    add('lifecycle_config.post_start', col('deferred', 'deferred', k8s)[clusterType], why);
  }

  const effect = strongest(changes.map((c) => c.effect));
  const interrupts = input.running && (effect === 'restart' || effect === 'recreate');
  return { cluster_type: clusterType, effect, interrupts, changes, summary: summarize(clusterType, effect, interrupts, input.running, changes.length) };
}

type Add = (field: string, effect: ChangeEffect, why?: string) => void;

/**
 * The environment the workspace runs with is the inherited env with its own over it. On Docker and local
 * it is hashed as a set; the pod template keeps it as a list, so there its order counts too.
 */
function planEnv(input: PlanInput, add: Add): void {
  const { clusterType, before, after } = input;
  const envBefore = effectiveEnv(before.inherited_env, before.container.env ?? []);
  const envAfter = effectiveEnv(after.inherited_env, after.container.env ?? []);
  const same = clusterType === 'k8s' ? deepEqual(envBefore, envAfter) : deepEqual(sortedEnv(envBefore), sortedEnv(envAfter));
  const effect = same ? 'none' : col('restart', 'recreate', 'recreate')[clusterType];
  const why = same ? 'the environment the workspace runs with stays the same' : undefined;
  if (!deepEqual(before.container.env, after.container.env)) add('container_config.env', effect, why);
  if (!deepEqual(before.inherited_env, after.inherited_env)) add('inherited_env', effect, why ?? 'the cluster env copied by update_workspace_settings');
}

function sortedEnv(env: EnvVar[]): EnvVar[] {
  return [...env].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/**
 * local listens on host_port, else port (the port it asks for); Docker publishes port (6789 by default)
 * at host_port; Kubernetes uses port in the pod and as the Service's target, and has no host_port.
 */
function planPorts(clusterType: ClusterType, a: ContainerConfig, b: ContainerConfig, add: Add): void {
  const portChanged = a.port !== b.port;
  const hostChanged = a.host_port !== b.host_port;
  if (!portChanged && !hostChanged) return;
  if (clusterType === 'local') {
    const requested = (c: ContainerConfig) => c.host_port ?? c.port;
    const effect: ChangeEffect = requested(a) !== requested(b) ? 'restart' : 'none';
    const why = effect === 'none' ? 'the process listens on host_port when it is set' : 'the process gets its port in $PORT';
    if (portChanged) add('container_config.port', effect, why);
    if (hostChanged) add('container_config.host_port', effect, why);
    return;
  }
  if (portChanged) {
    const same = (a.port ?? DEFAULT_PORT) === (b.port ?? DEFAULT_PORT);
    add('container_config.port', same ? 'none' : 'recreate', same ? `${DEFAULT_PORT} is the default` : undefined);
  }
  if (hostChanged) add('container_config.host_port', clusterType === 'docker' ? 'recreate' : 'none');
}

export function strongest(effects: readonly ChangeEffect[]): ChangeEffect {
  let best: ChangeEffect = 'none';
  for (const e of effects) if (CHANGE_EFFECTS.indexOf(e) > CHANGE_EFFECTS.indexOf(best)) best = e;
  return best;
}

function summarize(clusterType: ClusterType, effect: ChangeEffect, interrupts: boolean, running: boolean, count: number): string {
  if (count === 0) return 'Nothing changes.';
  const fields = count === 1 ? '1 field changes' : `${count} fields change`;
  if (effect === 'restart' || effect === 'recreate') {
    const what = WHAT[clusterType][effect].replace(/ \(.*\)$/, '');
    return interrupts
      ? `${fields}; the workspace is interrupted: this ${what}.`
      : `${fields}; the workspace is stopped, so nothing is interrupted: the change takes effect when it is resumed${clusterType === 'docker' ? ' (the container is recreated now, stopped)' : ''}.`;
  }
  if (effect === 'none') return `${fields}; none of them is used on ${clusterType}, so nothing happens to the workspace.`;
  return running ? `${fields}; the workspace keeps running, nothing restarts.` : `${fields}; nothing restarts (the workspace is stopped).`;
}
