// Who may change which container_config key, per cluster type, and which host paths may be bound at
// all. A key that reaches outside the workspace's own container and volume (the host's files, ports
// and network, other volumes, the scheduler's nodes, what other objects select by label) is the
// operator's: only an owner of every workspace may change it. docs/security.md shows this table;
// a test holds the two together.
import type { FieldError } from './errors.js';
import type { ClusterType, ContainerConfig } from './types.js';
import type { ContainerConfigPatch } from './container-config-check.js';
import { keyPath } from './checker.js';
import { deepEqual } from './spec.js';
import { isHostPath, isUnderRoots } from './host-paths.js';

/**
 * What a caller may change: `owner` is an owner on every workspace (a token scoped to one workspace
 * is never enough to reach outside it, whatever its role); `editor` is anyone who may patch.
 */
export type ConfigAccess = 'editor' | 'owner';

export interface KeyAccessRule {
  access: Record<ClusterType, ConfigAccess>;
  /**
   * Local, when wsm runs as root and so each local workspace as a user of its own: the process then
   * holds nothing of the server's, and what it runs is its editor's as in a container.
   */
  localIsolated?: ConfigAccess;
  /** Why, in a few words; shown in the docs and in the 403. */
  why: string;
}

const everywhere = (access: ConfigAccess): Record<ClusterType, ConfigAccess> => ({ local: access, docker: access, k8s: access });
/**
 * A local workspace that shares wsm's user (wsm not running as root) can read the store and the
 * server's environment: what it runs is the host's. Run as its own user, it is the editor's again.
 */
const ownerOnLocal: Record<ClusterType, ConfigAccess> = { local: 'owner', docker: 'editor', k8s: 'editor' };

export const KEY_ACCESS: Record<string, KeyAccessRule> = {
  image: { access: everywhere('editor'), why: 'what runs inside the container' },
  image_tag: { access: everywhere('editor'), why: 'what runs inside the container' },
  env: { access: ownerOnLocal, localIsolated: 'editor', why: 'inside the container; on local, the environment of a host process' },
  environment: { access: ownerOnLocal, localIsolated: 'editor', why: 'as env' },
  unset_env: { access: ownerOnLocal, localIsolated: 'editor', why: 'as env' },
  resources: { access: everywhere('editor'), why: "the container's own share, within the documented bounds" },
  command: { access: ownerOnLocal, localIsolated: 'editor', why: 'inside the container; on local, a command on the host' },
  args: { access: ownerOnLocal, localIsolated: 'editor', why: 'as command' },
  working_dir: { access: ownerOnLocal, localIsolated: 'editor', why: 'inside the container; on local, a directory on the host' },
  port: { access: ownerOnLocal, why: "the container's own port; on local, a port on the host" },
  host_port: { access: everywhere('owner'), why: "a port on the host's network" },
  restart_policy: { access: everywhere('editor'), why: 'the container itself' },
  start_timeout_seconds: { access: everywhere('editor'), why: 'how long wsm waits for a start' },
  image_pull_policy: { access: everywhere('editor'), why: 'the container itself' },
  image_pull_secrets: { access: everywhere('owner'), why: "the namespace's registry credentials" },
  volumes: { access: everywhere('owner'), why: 'host paths and other volumes' },
  public_url: { access: everywhere('editor'), why: "the workspace's own address" },
  service_type: { access: everywhere('owner'), why: 'NodePort and LoadBalancer open ports outside the cluster' },
  nodeSelector: { access: everywhere('owner'), why: 'which nodes the pod may run on' },
  tolerations: { access: everywhere('owner'), why: 'tainted (reserved) nodes' },
  affinity: { access: everywhere('owner'), why: 'which nodes, next to which pods' },
  labels: { access: everywhere('owner'), why: 'what Services, policies and proxies select' },
  annotations: { access: everywhere('owner'), why: 'instructions to controllers in the cluster' },
};

/** The key of ContainerConfig a patch key changes. */
const TARGET: Record<string, keyof ContainerConfig> = { image_tag: 'image', environment: 'env', unset_env: 'env' };

export function accessFor(key: string, clusterType: ClusterType, localIsolated = false): ConfigAccess {
  const rule = KEY_ACCESS[key];
  if (!rule) return 'owner';
  if (clusterType === 'local' && localIsolated && rule.localIsolated) return rule.localIsolated;
  return rule.access[clusterType];
}

/** The patch's keys, including those it sets to null. */
function keysOf(patch: ContainerConfigPatch): string[] {
  const keys = Object.keys(patch).filter((k) => k !== 'unset_keys' && (patch as Record<string, unknown>)[k] !== undefined);
  return [...keys, ...(patch.unset_keys ?? [])];
}

/**
 * The keys a caller changes without the access they need (a key sent with the value it already has
 * changes nothing, so an editor may send a whole config back). Empty when the change is allowed.
 */
export function configAccessErrors(
  clusterType: ClusterType,
  caller: ConfigAccess,
  current: ContainerConfig,
  next: ContainerConfig,
  patch: ContainerConfigPatch,
  localIsolated = false,
): FieldError[] {
  if (caller === 'owner') return [];
  const errors: FieldError[] = [];
  for (const key of new Set(keysOf(patch))) {
    if (accessFor(key, clusterType, localIsolated) !== 'owner') continue;
    const target = TARGET[key] ?? (key as keyof ContainerConfig);
    if (deepEqual(current[target], next[target])) continue;
    errors.push({
      field: keyPath('container_config', key),
      message: `only an owner of every workspace may change ${key} on a ${clusterType} workspace (${KEY_ACCESS[key]?.why ?? 'outside the workspace'}).`,
    });
  }
  return errors;
}

/** Host paths the operator has not allowed (--docker-allowed-bind-roots): refused for everyone. */
export function bindRootErrors(config: ContainerConfig, allowedRoots: readonly string[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const host of Object.keys(config.volumes ?? {})) {
    if (!isHostPath(host) || isUnderRoots(host, allowedRoots)) continue;
    const allowed = allowedRoots.length > 0 ? `only paths under ${allowedRoots.join(', ')} may be bound` : 'no host path may be bound on this server';
    errors.push({
      field: keyPath('container_config.volumes', host),
      message: `the operator has not allowed binding ${host}: ${allowed} (--docker-allowed-bind-roots / WSM_DOCKER_ALLOWED_BIND_ROOTS).`,
    });
  }
  return errors;
}
