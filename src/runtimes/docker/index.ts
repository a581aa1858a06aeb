// Workspaces as containers on a Docker engine: container wsm-<name>, volume wsm-<name>-data.
// A changed spec recreates the container on the same volume; stop keeps both.
import type Docker from 'dockerode';
import type { ClusterType } from '../../core/types.js';
import {
  PermanentRuntimeError,
  type ExecResult,
  type ObservedInstance,
  type RemoveOptions,
  type Runtime,
  type RuntimeWorkspace,
  type WatchRestartReason,
} from '../../core/runtime.js';
import { createDockerClient, remoteEngineHost, type DockerConnectionOptions } from './connection.js';
import { engineReason, isConnectionError, isNotFound, statusCodeOf } from './errors.js';
import { execInContainer } from './exec.js';
import { containerUsage } from './usage.js';
import type { UsageSample } from '../../core/usage.js';
import { watchEvents } from './events.js';
import { containerLogTail } from './logs.js';
import { ensureImage, imageDefaults, type PullPolicy } from './images.js';
import { missingInstance, toObserved, type PreStartFailure } from './observe.js';
import { driftOf, type ImageDefaults } from './drift.js';
import { PRE_START_DONE, PRE_START_LOG, PRE_START_PATH, PRE_START_RC, firstFileOfTar, hookArchive, preStartFailureMessage } from './prestart.js';
import { nameConflict, ownerOf } from './ownership.js';
import {
  HASH_LABEL,
  INSTALLATION_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  WORKSPACE_LABEL,
  baseLabels,
  configHash,
  containerName,
  createOptions,
  volumeName,
  type ContainerSettings,
} from './spec.js';

export { dockerOptionsFromEnv } from './connection.js';
export { containerName, volumeName } from './spec.js';

/** The subset of pino the runtime uses. */
export interface RuntimeLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export interface DockerRuntimeOptions extends DockerConnectionOptions {
  /** The address ports are published on. Default 127.0.0.1: workspaces are not exposed by accident. */
  hostAddress?: string;
  /** The address reported in ip/url; default hostAddress, or the engine's host when that is 0.0.0.0. */
  advertiseAddress?: string;
  stopGraceSeconds?: number;
  /** Docker restart policy for workspaces whose config names none: no, always, unless-stopped, on-failure. */
  restartPolicy?: string;
  preStartTimeoutSeconds?: number;
  pullTimeoutSeconds?: number;
  /** Extra labels on every container and volume; listInstances and watch only see containers with them. */
  labels?: Record<string, string>;
  /** Host path prefixes a workspace may bind; none when absent. */
  allowedBindRoots?: readonly string[];
  /**
   * This installation's id (DEFAULT_INSTALLATION when not given), labelled on everything the runtime
   * makes. A container or volume of a workspace's name labelled by another installation is never
   * touched: apply and observe report NameConflict, remove leaves it.
   */
  installation?: string;
  logger?: RuntimeLogger;
  /** An existing client, instead of one made from dockerHost. */
  docker?: Docker;
}

/** The installation of a runtime given none (tests, tools): serve always gives the store's. */
export const DEFAULT_INSTALLATION = 'default';

const NO_LOG: RuntimeLogger = { info() {}, warn() {} };
const RESTART_POLICIES = new Set(['no', 'always', 'unless-stopped', 'on-failure']);
/** How long a check for a file in a container may take before the engine counts as not answering. */
const FILE_CHECK_TIMEOUT_MS = 10_000;
/** Images whose defaults are kept for the drift check; the few a server runs fit many times over. */
const MAX_IMAGES_KEPT = 256;

export class DockerRuntime implements Runtime {
  readonly clusterType: ClusterType = 'docker';
  readonly supportsIngress = false;

  private readonly docker: Docker;
  private readonly settings: ContainerSettings;
  private readonly advertiseAddress: string;
  private readonly stopGraceSeconds: number;
  private readonly pullTimeoutMs: number;
  private readonly logger: RuntimeLogger;
  private readonly where: string;
  private readonly unsubscribers = new Set<() => void>();
  /** The last repair of each workspace's container, as reported in the `Repaired` condition. */
  private readonly repairs = new Map<string, string>();
  /** Containers this process made, and the differences the drift check saw on each when it was new. */
  private readonly made = new Set<string>();
  private readonly baselines = new Map<string, Set<string>>();
  private readonly images = new Map<string, ImageDefaults>();

  constructor(options: DockerRuntimeOptions = {}) {
    this.docker = options.docker ?? createDockerClient(options);
    this.where = options.dockerHost || 'unix:///var/run/docker.sock';
    const restartPolicy = options.restartPolicy ?? 'no';
    if (!RESTART_POLICIES.has(restartPolicy)) throw new Error(`restartPolicy must be one of ${[...RESTART_POLICIES].join(', ')}`);
    const hostAddress = options.hostAddress ?? '127.0.0.1';
    this.settings = {
      hostAddress,
      restartPolicy,
      preStartTimeoutSeconds: options.preStartTimeoutSeconds ?? 300,
      extraLabels: { ...options.labels },
      allowedBindRoots: options.allowedBindRoots ?? [],
      installation: options.installation ?? DEFAULT_INSTALLATION,
    };
    const wildcard = hostAddress === '0.0.0.0' || hostAddress === '::';
    this.advertiseAddress =
      options.advertiseAddress ?? (wildcard ? remoteEngineHost(options.dockerHost) ?? '127.0.0.1' : hostAddress);
    this.stopGraceSeconds = options.stopGraceSeconds ?? 10;
    this.pullTimeoutMs = (options.pullTimeoutSeconds ?? 60) * 1000;
    this.logger = options.logger ?? NO_LOG;
  }

  /** Every engine call is made with `signal`: aborted, the call in flight ends and apply rejects. */
  async apply(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<ObservedInstance> {
    return this.engine(async () => {
      const info = await this.inspectOwned(ws, signal);
      const hash = configHash(ws, this.settings);
      const drift = info ? await this.driftOf(ws, info, hash) : [];

      if (!info || info.Config.Labels?.[HASH_LABEL] !== hash || drift.length > 0) {
        await this.recreate(ws, info, hash, drift, signal);
        return this.observe(ws, signal);
      }

      const container = this.docker.getContainer(info.Id);
      const status = info.State.Status;
      if (ws.desired === 'running') {
        if (status === 'paused') await container.unpause(abortable(signal));
        else if (status === 'created' || status === 'exited' || status === 'dead') await this.startContainer(ws, container, signal);
      } else if (status === 'running' || status === 'restarting' || status === 'paused') {
        await this.stopContainer(info.Id, signal);
      }
      return this.observe(ws, signal);
    }, signal);
  }

  /**
   * What runs now. A container that carries the current config's labels but was recreated or
   * reconfigured behind wsm's back (drift.ts) is put back first, and the last repair is reported as
   * the condition `Repaired`, as the Kubernetes runtime does for its objects.
   */
  async observe(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<ObservedInstance> {
    return this.engine(async () => {
      const currentHash = configHash(ws, this.settings);
      let info = await this.inspectOwned(ws, signal);
      if (!info) return missingInstance(ws);
      const drift = await this.driftOf(ws, info, currentHash);
      if (drift.length > 0) {
        await this.recreate(ws, info, currentHash, drift, signal);
        info = await this.inspectOwned(ws, signal);
        if (!info) return missingInstance(ws);
      }
      const status = info.State.Status;
      const ended = status === 'exited' || status === 'dead' || status === 'restarting';
      const preStartFailure = ended && ws.desired === 'running' && hasWrapper(info) ? await this.readPreStartFailure(info.Id, signal) : undefined;
      const preStartRunning = status === 'running' && hasWrapper(info) && !(await this.fileExists(info.Id, PRE_START_DONE, signal));
      const logTail = ended && ws.desired === 'running' && !preStartFailure ? await containerLogTail(this.docker, info.Id, signal) : undefined;
      const observed = toObserved(info, ws, {
        advertiseAddress: this.advertiseAddress,
        currentHash,
        preStartFailure,
        preStartRunning,
        logTail,
      });
      const repair = this.repairs.get(ws.name);
      if (!repair) return observed;
      return { ...observed, conditions: [...(observed.conditions ?? []), { type: 'Repaired', status: 'True', reason: 'DriftRepaired', message: repair }] };
    }, signal);
  }

  /**
   * Makes the workspace's container anew: for a changed config, or (drift not empty) to put back one
   * changed outside wsm. The image is pulled and the options built before the old container goes, so
   * a change the engine refuses leaves it running.
   */
  private async recreate(ws: RuntimeWorkspace, info: Docker.ContainerInspectInfo | undefined, hash: string, drift: string[], signal?: AbortSignal): Promise<void> {
    // An existing container with the current config mounts the volume, and the engine keeps a
    // volume in use: only a new container needs the check (one engine call fewer on stop/resume).
    await this.ensureVolume(ws, signal);
    const image = await ensureImage(this.docker, ws.image, this.pullPolicy(ws), this.pullTimeoutMs, this.logger);
    signal?.throwIfAborted();
    const options = createOptions(ws, this.settings, hash, image);
    if (info) {
      if (drift.length > 0) this.logger.warn({ workspace: ws.name, drift }, 'putting back a container changed outside wsm');
      else this.logger.info({ workspace: ws.name, generation: ws.generation }, 'recreating container for a changed config');
      await this.stopContainer(info.Id, signal);
      await this.removeContainer(info.Id, signal);
    }
    const container = await this.createContainer(ws, options, signal);
    if (ws.desired === 'running') await this.startContainer(ws, container, signal);
    if (drift.length > 0) {
      this.repairs.set(ws.name, `${new Date().toISOString()}: recreated container ${containerName(ws.name)} (it had been changed outside wsm: ${drift.join('; ')})`);
    }
  }

  /**
   * How a container that claims the current config (its hash label) differs from what wsm would
   * make of it. A container wsm made in this process is compared with how it looked when new, so a
   * difference the engine itself introduces is never taken for drift (and never repaired in a loop).
   */
  private async driftOf(ws: RuntimeWorkspace, info: Docker.ContainerInspectInfo, hash: string): Promise<string[]> {
    if (info.Config.Labels?.[HASH_LABEL] !== hash) return [];
    const image = await this.imageDefaults(info.Image);
    if (!image) return [];
    let wanted: Docker.ContainerCreateOptions;
    try {
      wanted = createOptions(ws, this.settings, hash, image);
    } catch {
      return []; // a config this server refuses is apply's to report
    }
    const found = driftOf(info, wanted, image);
    if (!this.made.has(info.Id)) return found;
    const baseline = this.baselines.get(info.Id);
    if (baseline) return found.filter((d) => !baseline.has(d));
    this.baselines.set(info.Id, new Set(found));
    if (found.length > 0) this.logger.warn({ workspace: ws.name, found }, 'a container just made differs from its create options as read back; those differences are not drift');
    return [];
  }

  /** An image's defaults, by image id (immutable, so kept): the engine is asked once per image. */
  private async imageDefaults(imageId: string): Promise<ImageDefaults | undefined> {
    const known = this.images.get(imageId);
    if (known) return known;
    const defaults = await imageDefaults(this.docker, imageId);
    if (!defaults) return undefined;
    if (this.images.size >= MAX_IMAGES_KEPT) this.images.clear();
    this.images.set(imageId, defaults);
    return defaults;
  }

  async remove(ws: RuntimeWorkspace, options: RemoveOptions, signal?: AbortSignal): Promise<void> {
    return this.engine(async () => {
      const name = containerName(ws.name);
      const info = await this.inspect(name, signal);
      if (info && ownerOf(info.Config.Labels, this.settings.installation) !== 'ours') {
        this.logger.warn({ container: name, installation: info.Config.Labels?.[INSTALLATION_LABEL] }, 'not removing a container this installation did not make');
      } else if (info) {
        await this.stopContainer(info.Id, signal);
        await this.removeContainer(info.Id, signal);
      }
      if (options.deleteVolume) await this.removeVolume(volumeName(ws.name), signal);
      this.repairs.delete(ws.name);
    }, signal);
  }

  /** The engine's /_ping; the caller (readiness) bounds the wait. */
  async ping(): Promise<void> {
    await this.docker.ping();
  }

  async listInstances(signal?: AbortSignal): Promise<string[]> {
    return this.engine(async () => {
      const containers = await this.docker.listContainers({ all: true, filters: { label: this.labelFilters() }, ...abortable(signal) });
      const names = new Set<string>();
      for (const c of containers) {
        const name = c.Labels?.[WORKSPACE_LABEL];
        if (name) names.add(name);
      }
      return [...names].sort();
    }, signal);
  }

  watch(onChange: (name: string) => void, onRestart?: (reason: WatchRestartReason) => void): () => void {
    const extra = this.labelFilters().filter((l) => !l.startsWith(`${MANAGED_BY_LABEL}=`));
    const stop = watchEvents(this.docker, onChange, { labels: extra, logger: this.logger, onRestart });
    const unsubscribe = () => {
      this.unsubscribers.delete(unsubscribe);
      stop();
    };
    this.unsubscribers.add(unsubscribe);
    return unsubscribe;
  }

  async exec(ws: RuntimeWorkspace, command: string[], timeoutMs: number, signal?: AbortSignal): Promise<ExecResult> {
    return this.engine(async () => {
      const info = await this.inspectOwned(ws, signal);
      if (!info) throw new Error(`container ${containerName(ws.name)} not found`);
      if (info.State.Status !== 'running') throw new Error(`container ${containerName(ws.name)} is not running (${info.State.Status})`);
      const env = ws.env.map((e) => `${e.name}=${e.value}`);
      return execInContainer(this.docker, this.docker.getContainer(info.Id), command, env, timeoutMs, signal);
    }, signal);
  }

  /**
   * Whether a file exists in the container: a HEAD of the archive endpoint, no content moved. The
   * engine can leave this request unanswered (seen with a container that was being stopped), so it is
   * bounded; and dockerode hands the answer over as a stream, which holds its socket until destroyed.
   */
  private async fileExists(id: string, path: string, signal?: AbortSignal): Promise<boolean> {
    const bounded = AbortSignal.timeout(FILE_CHECK_TIMEOUT_MS);
    try {
      const answer = (await this.docker.getContainer(id).infoArchive({ path, abortSignal: signal ? AbortSignal.any([signal, bounded]) : bounded })) as unknown;
      (answer as { destroy?: () => void } | undefined)?.destroy?.();
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async usage(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<UsageSample | undefined> {
    return this.engine(() => containerUsage(this.docker, containerName(ws.name), signal), signal);
  }

  async close(): Promise<void> {
    for (const unsubscribe of [...this.unsubscribers]) unsubscribe();
  }

  // --- helpers -------------------------------------------------------------------------------

  /** Engine-unreachable errors get a sentence that says so; the controller shows it as UNAVAILABLE. */
  private async engine<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // A cancelled call says why it was cancelled, not the client's generic "aborted".
      if (signal?.aborted) throw signal.reason;
      if (isConnectionError(err)) {
        throw new Error(`docker engine unreachable at ${this.where}: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  }

  private pullPolicy(ws: RuntimeWorkspace): PullPolicy {
    return ws.container.image_pull_policy ?? 'IfNotPresent';
  }

  private labelFilters(): string[] {
    const extra = Object.entries(this.settings.extraLabels).map(([k, v]) => `${k}=${v}`);
    return [`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`, `${INSTALLATION_LABEL}=${this.settings.installation}`, ...extra];
  }

  private async inspect(name: string, signal?: AbortSignal): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(name).inspect(abortable(signal));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * The workspace's container, refusing one that has its name but is not this installation's: another
   * installation on the same engine, or a container made by hand. Every look at the container goes
   * through here, so one replaced behind wsm's back is noticed at the next event or resync.
   */
  private async inspectOwned(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<Docker.ContainerInspectInfo | undefined> {
    const name = containerName(ws.name);
    const info = await this.inspect(name, signal);
    if (info && ownerOf(info.Config.Labels, this.settings.installation) !== 'ours') {
      throw nameConflict('container', name, info.Config.Labels, this.settings.installation);
    }
    return info;
  }

  /**
   * An existing volume of the name is used as it is when wsm did not make it (an operator may
   * pre-create it with another driver), or when a wsm from before installation labels did; one of
   * another installation is that installation's data, and is refused. remove() deletes only volumes
   * this installation labelled.
   */
  private async ensureVolume(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<void> {
    const name = volumeName(ws.name);
    let labels: Record<string, string> | null | undefined;
    try {
      labels = (await this.docker.getVolume(name).inspect(abortable(signal))).Labels;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.docker.createVolume({ Name: name, Labels: baseLabels(ws, this.settings), ...abortable(signal) });
      return;
    }
    const other = labels?.[INSTALLATION_LABEL];
    if (ownerOf(labels, this.settings.installation) === 'other-installation' && other !== undefined) {
      throw nameConflict('volume', name, labels, this.settings.installation);
    }
  }

  private async removeVolume(name: string, signal?: AbortSignal): Promise<void> {
    let labels: Record<string, string> | undefined;
    try {
      labels = (await this.docker.getVolume(name).inspect(abortable(signal))).Labels ?? {};
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (ownerOf(labels, this.settings.installation) !== 'ours') {
      this.logger.warn({ volume: name, installation: labels[INSTALLATION_LABEL] }, 'not removing a volume this installation did not make');
      return;
    }
    try {
      await this.docker.getVolume(name).remove(abortable(signal));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async createContainer(ws: RuntimeWorkspace, options: Docker.ContainerCreateOptions, signal?: AbortSignal): Promise<Docker.Container> {
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({ ...options, ...abortable(signal) });
    } catch (err) {
      // 400 is the engine rejecting the config (a bad memory limit, a bad bind): retrying cannot help.
      if (statusCodeOf(err) === 400) throw new PermanentRuntimeError(`cannot create container ${options.name}: ${engineReason(err)}`, 'InvalidConfig');
      throw err;
    }
    this.made.add(container.id);
    const preStart = ws.hooks.pre_start;
    if (preStart) await container.putArchive(await hookArchive(preStart.content), { path: '/', ...abortable(signal) });
    return container;
  }

  private async startContainer(ws: RuntimeWorkspace, container: Docker.Container, signal?: AbortSignal): Promise<void> {
    try {
      await container.start(abortable(signal));
    } catch (err) {
      const code = statusCodeOf(err);
      if (code === 304) return;
      const reason = engineReason(err);
      if (/port is already allocated|address already in use/i.test(reason)) {
        throw new PermanentRuntimeError(`cannot start ${containerName(ws.name)}: host port in use: ${reason}`, 'PortConflict');
      }
      if (code === 400 || /executable file not found|no such file or directory|permission denied/i.test(reason)) {
        throw new PermanentRuntimeError(`cannot start ${containerName(ws.name)}: ${reason}`, 'StartFailed');
      }
      throw err;
    }
  }

  private async stopContainer(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: this.stopGraceSeconds, ...abortable(signal) });
    } catch (err) {
      const code = statusCodeOf(err);
      if (code !== 304 && code !== 404) throw err;
    }
  }

  private async removeContainer(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: false, ...abortable(signal) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.made.delete(id);
    this.baselines.delete(id);
  }

  private async readFile(id: string, path: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const stream = await this.docker.getContainer(id).getArchive({ path, ...abortable(signal) });
      return (await firstFileOfTar(stream))?.toString('utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async readPreStartFailure(id: string, signal?: AbortSignal): Promise<PreStartFailure | undefined> {
    const rc = await this.readFile(id, PRE_START_RC, signal);
    const exitCode = Number(rc?.trim());
    if (rc === undefined || !Number.isInteger(exitCode)) return undefined;
    const output = (await this.readFile(id, PRE_START_LOG, signal)) ?? '';
    return { exitCode, message: preStartFailureMessage(exitCode, output, this.settings.preStartTimeoutSeconds) };
  }
}

/** The option that makes a dockerode call cancellable; none without a signal (else it lands in the query string). */
function abortable(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal ? { abortSignal: signal } : {};
}

function hasWrapper(info: Docker.ContainerInspectInfo): boolean {
  const entrypoint = info.Config.Entrypoint ?? [];
  return (typeof entrypoint === 'string' ? [entrypoint] : entrypoint).some((part) => part.includes(PRE_START_PATH));
}
