// What a workspace becomes on Docker: names, labels, the container's create options, and the
// hash of everything that shapes the container (a changed hash means the container is recreated).
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { PermanentRuntimeError, type RuntimeWorkspace } from '../../core/runtime.js';
import { isHostPath, isUnderRoots } from '../../core/host-paths.js';
import { cpuShares, memoryBytes, parseQuantity } from './quantity.js';
import { LABEL_INSTALLATION } from '../../core/defaults.js';
import { wrappedEntrypoint } from './prestart.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'wsm';
export const WORKSPACE_LABEL = 'wsm.workspace';
export const HASH_LABEL = 'wsm.config-hash';
export const GENERATION_LABEL = 'wsm.generation';
export const INSTALLATION_LABEL = LABEL_INSTALLATION;
export const DEFAULT_PORT = 6789;
export const DEFAULT_MOUNT_PATH = '/home/src';

export const containerName = (name: string): string => `wsm-${name}`;
export const volumeName = (name: string): string => `wsm-${name}-data`;

/** Runtime-wide settings that shape every container. */
export interface ContainerSettings {
  hostAddress: string;
  restartPolicy: string;
  preStartTimeoutSeconds: number;
  /** Extra labels on every container and volume. */
  extraLabels: Record<string, string>;
  /** Host path prefixes a bind may use (the operator's --docker-allowed-bind-roots); none when absent. */
  allowedBindRoots?: readonly string[];
  /** This installation's id, on every container and volume it makes. */
  installation: string;
}

/** The CFS period CPU limits are expressed in; Docker's default. */
const CPU_PERIOD_US = 100_000;

export const workspacePort = (ws: RuntimeWorkspace): number => ws.container.port ?? DEFAULT_PORT;

export function baseLabels(ws: RuntimeWorkspace, settings: ContainerSettings): Record<string, string> {
  return {
    ...settings.extraLabels,
    app: ws.name,
    'dev-instance': '1',
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [INSTALLATION_LABEL]: settings.installation,
    [WORKSPACE_LABEL]: ws.name,
  };
}

/**
 * The engine's own restart policy: `no` unless a tool built the runtime with another. The workspace's
 * restart_policy is carried out by wsm's controller (backoff, counts and conditions as on every
 * runtime), so the engine must not restart behind it.
 */
export function restartPolicyOf(_ws: RuntimeWorkspace, settings: ContainerSettings): string {
  return settings.restartPolicy;
}

/** Sorted keys so that equal configs hash equally whatever order their fields came in. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/**
 * Hashes the inputs rather than the create body, so deciding whether to recreate never needs the
 * image (which may be gone locally while its container runs fine). Bump the version when the way
 * inputs become a container changes, so existing containers are rebuilt the new way.
 */
export function configHash(ws: RuntimeWorkspace, settings: ContainerSettings): string {
  const c = ws.container;
  const preStart = ws.hooks.pre_start;
  const input = {
    v: 1,
    image: ws.image,
    env: [...ws.env].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    command: c.command,
    args: c.args,
    working_dir: c.working_dir,
    resources: c.resources,
    port: workspacePort(ws),
    host_port: c.host_port,
    host_address: settings.hostAddress,
    restart_policy: restartPolicyOf(ws, settings),
    volumes: c.volumes,
    labels: { ...settings.extraLabels, ...c.labels },
    mount_path: ws.storage.mount_path || DEFAULT_MOUNT_PATH,
    pre_start: preStart
      ? {
          sha256: createHash('sha256').update(preStart.content).digest('hex'),
          timeout: settings.preStartTimeoutSeconds,
        }
      : undefined,
  };
  return createHash('sha256').update(JSON.stringify(canonical(input))).digest('hex').slice(0, 32);
}

function hostConfigResources(ws: RuntimeWorkspace): Partial<Docker.HostConfig> {
  const limits = ws.container.resources?.limits ?? {};
  const requests = ws.container.resources?.requests ?? {};
  const out: Partial<Docker.HostConfig> = {};
  if (limits.memory !== undefined) {
    out.Memory = memoryBytes(limits.memory, 'resources.limits.memory');
    // No swap beyond the limit, as on Kubernetes: a limit means the workspace gets OOM-killed there.
    out.MemorySwap = out.Memory;
  }
  if (limits.cpu !== undefined) {
    // A quota per period rather than NanoCpus: the engine refuses NanoCpus above its own CPU count
    // (after wsm removed the old container), while a quota above it simply never binds.
    out.CpuPeriod = CPU_PERIOD_US;
    out.CpuQuota = Math.max(1_000, Math.round(parseQuantity(limits.cpu, 'resources.limits.cpu') * CPU_PERIOD_US));
  }
  if (requests.memory !== undefined) out.MemoryReservation = memoryBytes(requests.memory, 'resources.requests.memory');
  if (requests.cpu !== undefined) out.CpuShares = cpuShares(requests.cpu, 'resources.requests.cpu');
  return out;
}

/** The image's own ENTRYPOINT and CMD, needed only when a wrapper must exec them. */
export interface ImageCommand {
  entrypoint: string[];
  cmd: string[];
}

/**
 * The main process with Kubernetes semantics: `command` replaces the image's ENTRYPOINT and drops
 * its CMD; `args` replaces CMD.
 */
export function mainCommand(ws: RuntimeWorkspace, image: ImageCommand): string[] {
  const { command, args } = ws.container;
  const entrypoint = command ?? image.entrypoint;
  const cmd = args ?? (command ? [] : image.cmd);
  return [...entrypoint, ...cmd];
}

export function createOptions(
  ws: RuntimeWorkspace,
  settings: ContainerSettings,
  hash: string,
  image?: ImageCommand,
): Docker.ContainerCreateOptions {
  const c = ws.container;
  const port = `${workspacePort(ws)}/tcp`;
  const restart = restartPolicyOf(ws, settings);
  const binds = [`${volumeName(ws.name)}:${ws.storage.mount_path || DEFAULT_MOUNT_PATH}`];
  for (const [hostPath, bind] of Object.entries(c.volumes ?? {})) {
    // The API refuses these already; a spec stored before the operator narrowed the roots is not run.
    if (isHostPath(hostPath) && !isUnderRoots(hostPath, settings.allowedBindRoots ?? [])) {
      throw new PermanentRuntimeError(`volumes: binding the host path ${hostPath} is not allowed on this server (--docker-allowed-bind-roots)`, 'InvalidConfig');
    }
    binds.push(`${hostPath}:${bind.bind}:${bind.mode}`);
  }

  const options: Docker.ContainerCreateOptions = {
    name: containerName(ws.name),
    Image: ws.image,
    Hostname: ws.name,
    Env: ws.env.map((e) => `${e.name}=${e.value}`),
    Labels: {
      ...c.labels,
      ...baseLabels(ws, settings),
      [HASH_LABEL]: hash,
      [GENERATION_LABEL]: String(ws.generation),
    },
    ExposedPorts: { [port]: {} },
    HostConfig: {
      Binds: binds,
      PortBindings: { [port]: [{ HostIp: settings.hostAddress, HostPort: c.host_port ? String(c.host_port) : '' }] },
      RestartPolicy: { Name: restart === 'no' ? '' : restart },
      ...hostConfigResources(ws),
    },
  };
  if (c.working_dir) options.WorkingDir = c.working_dir;
  if (ws.hooks.pre_start) {
    // The wrapper takes the entrypoint; the real command follows it as "$@", so CMD must be empty.
    options.Entrypoint = wrappedEntrypoint(settings.preStartTimeoutSeconds, mainCommand(ws, image ?? { entrypoint: [], cmd: [] }));
    options.Cmd = [];
  } else {
    if (c.command) options.Entrypoint = c.command;
    if (c.args) options.Cmd = c.args;
  }
  return options;
}
