// The `local` cluster type: each workspace is a process group on this machine, with a directory
// under rootDir as its volume. See README.md in this folder for the decisions behind it.
import { chmod, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  PermanentRuntimeError,
  type ExecResult,
  type ObservedInstance,
  type RemoveOptions,
  type Runtime,
  type RuntimeWorkspace,
} from '../../core/runtime.js';
import type { UsageSample } from '../../core/usage.js';
import { describeTermination, terminationOf } from '../../core/termination.js';
import { runCaptured } from './exec.js';
import { configHash, launch, processEnv, requestedPort, resolveWorkDir, workDirInHome } from './launch.js';
import { WorkspaceDir, type LocalState } from './layout.js';
import { canConnect } from '../../lib/tcp-connect.js';
import { isPortFree, pickFreePort } from './ports.js';
import { groupCpuSeconds, isSameProcessAlive, readProcStat, stopGroup } from './procfs.js';
import { launchersUnder } from './orphans.js';
import { removeTree, UidAllocator, type Owner, type UidRange } from './users.js';

export interface LocalRuntimeLogger {
  info(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
}

export interface LocalRuntimeOptions {
  rootDir: string;
  /** How long a stop waits after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
  /** The address workspaces are reached on (and ports are checked on). */
  hostAddress?: string;
  /** How long the pre-start script may run before the start fails (whole seconds, rounded up). */
  preStartTimeoutMs?: number;
  /**
   * Run each workspace as a user of its own from this range (needs root). Absent: workspaces run as
   * the control plane's user and can read everything it can (single-tenant).
   */
  uidRange?: UidRange;
  logger?: LocalRuntimeLogger;
}

const POLL_INTERVAL_MS = 2000;
/** output.log is set aside as output.log.1 at a start once it grows past this. */
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
const NAME_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const silent: LocalRuntimeLogger = { info() {}, warn() {}, error() {} };

export class LocalRuntime implements Runtime {
  readonly clusterType = 'local' as const;
  readonly supportsIngress = false;
  private readonly rootDir: string;
  private readonly stopGraceMs: number;
  private readonly preStartTimeoutMs: number;
  private readonly host: string;
  private readonly log: LocalRuntimeLogger;
  private readonly users: UidAllocator | undefined;
  private rootReady: Promise<void> | undefined;
  private readonly listeners = new Set<(name: string) => void>();
  /** `<name>:<pid>:<start>` of exits already reported, so a dead process is announced once. */
  private readonly reportedExits = new Set<string>();
  /** Ports handed out by starts still in flight here, so two concurrent starts never pick the same one. */
  private readonly reservedPorts = new Set<number>();
  /**
   * The processes known to run, as last seen: the only ones the poll looks at. A stopped workspace
   * costs the poll nothing; a process an earlier control plane started joins once observe() finds it.
   */
  private readonly runningNow = new Map<string, LocalState>();
  private pollTimer: NodeJS.Timeout | undefined;
  /** Groups an earlier control plane started but never recorded, ended before this runtime acts. */
  private orphansEnded: Promise<void> | undefined;

  constructor(options: LocalRuntimeOptions) {
    this.rootDir = options.rootDir;
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    this.preStartTimeoutMs = options.preStartTimeoutMs ?? 300_000;
    this.host = options.hostAddress ?? '127.0.0.1';
    this.log = options.logger ?? silent;
    this.users = options.uidRange ? new UidAllocator(this.rootDir, options.uidRange) : undefined;
  }

  /**
   * Ends the process groups of this runtime's workspaces that no state.json names (orphans.ts): left by
   * a control plane killed while starting them. Once, at this runtime's first apply, which every apply
   * waits for: so a group this runtime starts is never taken for one, and only a control plane that acts
   * (the leader, with several replicas) looks.
   */
  private async endOrphans(): Promise<void> {
    try {
      for (const launcher of launchersUnder(this.rootDir)) {
        const state = await this.dirFor(launcher.name).readState().catch(() => undefined);
        if (state?.pgid === launcher.pid) continue;
        this.log.warn({ workspace: launcher.name, pgid: launcher.pid }, 'ending a workspace process group that no state records (started by a control plane that died before recording it)');
        await stopGroup(launcher.pid, launcher.startTicks, this.stopGraceMs);
      }
    } catch (err) {
      this.log.warn({ err }, 'looking for unrecorded workspace processes failed');
    }
  }

  /**
   * Local steps are short file and process operations: a signal aborted before one begins ends the
   * call; a stop already under way finishes its grace period (a half-stopped group helps nobody).
   */
  async apply(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<ObservedInstance> {
    signal?.throwIfAborted();
    await (this.orphansEnded ??= this.endOrphans());
    const dir = this.dirFor(ws.name);
    return ws.desired === 'stopped' ? this.ensureStopped(ws, dir) : this.ensureRunning(ws, dir, signal);
  }

  async observe(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<ObservedInstance> {
    signal?.throwIfAborted();
    const dir = this.dirFor(ws.name);
    const state = await dir.readState();
    if (!state) return { status: 'UNAVAILABLE', message: 'not created', instance_name: ws.name };
    const alive = isSameProcessAlive(state.pid, state.start_ticks);
    if (state.status === 'stopped') {
      // A stop that was cut short (the control plane died mid-way) leaves the process up: still stopping.
      return alive
        ? { ...this.base(ws.name, state), status: 'STOPPING', message: 'the process is still shutting down' }
        : { ...this.base(ws.name, state), status: 'STOPPED' };
    }
    if (alive) return this.running(ws.name, state, dir);
    return this.failed(dir, state);
  }

  async remove(ws: RuntimeWorkspace, options: RemoveOptions, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const dir = this.dirFor(ws.name);
    const state = await dir.readState();
    if (state) await this.stopProcess(dir, state);
    signal?.throwIfAborted();
    if (options.deleteVolume) {
      // What the workspace could write goes first, deleted as the workspace's user; then the rest is ours.
      await removeTree(dir.home);
      await removeTree(dir.runDir);
      await rm(dir.dir, { recursive: true, force: true });
      this.users?.release(ws.name);
      this.log.info({ workspace: ws.name }, 'local workspace removed with its home directory');
      return;
    }
    // home/ stays, so a workspace created again under this name finds its files, as a retained volume would.
    await rm(dir.hooksDir, { recursive: true, force: true });
    await removeTree(dir.runDir);
    await rm(dir.logPath, { force: true });
    await rm(`${dir.logPath}.1`, { force: true });
    await dir.clearExit();
    await rm(dir.statePath, { force: true });
    this.log.info({ workspace: ws.name }, 'local workspace removed; home directory kept');
  }

  async usage(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<UsageSample | undefined> {
    signal?.throwIfAborted();
    const state = await this.dirFor(ws.name).readState();
    if (!state || state.status !== 'running' || !isSameProcessAlive(state.pid, state.start_ticks)) return undefined;
    // Per-process network counters do not exist on Linux; CPU is what a local workspace can tell.
    return { at: Date.now(), cpu_seconds: groupCpuSeconds(state.pgid ?? state.pid!) };
  }

  async listInstances(signal?: AbortSignal): Promise<string[]> {
    signal?.throwIfAborted();
    let entries: string[];
    try {
      entries = await readdir(this.rootDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const names: string[] = [];
    for (const entry of entries.sort()) {
      if (!NAME_RE.test(entry)) continue;
      try {
        await stat(join(this.rootDir, entry, 'state.json'));
        names.push(entry);
      } catch {
        // a directory without state.json is a kept home of a removed workspace, not an instance
      }
    }
    return names;
  }

  watch(onChange: (name: string) => void): () => void {
    this.listeners.add(onChange);
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => this.poll(), POLL_INTERVAL_MS);
      this.pollTimer.unref();
    }
    return () => {
      this.listeners.delete(onChange);
      if (this.listeners.size === 0) this.stopPolling();
    };
  }

  async exec(ws: RuntimeWorkspace, command: string[], timeoutMs: number, signal?: AbortSignal): Promise<ExecResult> {
    const dir = this.dirFor(ws.name);
    const state = await dir.readState();
    if (!state || state.status !== 'running' || !isSameProcessAlive(state.pid, state.start_ticks)) {
      throw new Error(`Workspace ${ws.name} is not running, so nothing can be run in it.`);
    }
    const env = processEnv(ws, dir.home, state.port!);
    if (state.uid === undefined) {
      return runCaptured(command, { cwd: resolveWorkDir(dir.home, ws.container.working_dir), env, timeoutMs, signal });
    }
    // As in the launch wrapper, the working dir is entered as the workspace's user, never by us.
    const workDir = workDirInHome(dir.home, ws.container.working_dir);
    const inWorkDir = workDir ? ['/bin/sh', '-c', 'cd -- "$1" && shift && exec "$@"', 'wsm-exec', workDir, ...command] : command;
    return runCaptured(command.length ? inWorkDir : [], { cwd: dir.home, env, timeoutMs, owner: { uid: state.uid, gid: state.uid }, signal });
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.stopPolling();
  }

  /** The user `name` runs as, or undefined when workspaces run as ours. */
  private ownerFor(name: string): Promise<Owner | undefined> {
    return this.users ? this.users.ownerFor(name) : Promise.resolve(undefined);
  }

  /** The workspace's directories, under a root that others may pass through but not list. */
  private async prepare(dir: WorkspaceDir, owner: Owner | undefined): Promise<void> {
    this.rootReady ??= (async () => {
      await mkdir(this.rootDir, { recursive: true });
      if (this.users) await chmod(this.rootDir, 0o711);
    })().catch((err) => {
      this.rootReady = undefined; // tried again at the next start
      throw err;
    });
    await this.rootReady;
    await dir.prepare(owner);
  }

  private dirFor(name: string): WorkspaceDir {
    // The name becomes a path: anything but a DNS label could point outside rootDir.
    if (!NAME_RE.test(name)) {
      throw new PermanentRuntimeError(`Workspace name ${JSON.stringify(name)} is not a valid name.`, 'InvalidName');
    }
    return new WorkspaceDir(this.rootDir, name);
  }

  private async ensureRunning(ws: RuntimeWorkspace, dir: WorkspaceDir, signal: AbortSignal | undefined): Promise<ObservedInstance> {
    const command = [...(ws.container.command ?? []), ...(ws.container.args ?? [])];
    if (!ws.container.command?.length) {
      throw new PermanentRuntimeError(
        'The local runtime needs `command` in container_config: it runs that command as the workspace process.',
        'MissingCommand',
      );
    }
    const workDir = workDirInHome(dir.home, ws.container.working_dir);
    const hash = configHash(ws);
    const owner = await this.ownerFor(ws.name);
    const state = await dir.readState();
    if (
      state?.status === 'running' &&
      isSameProcessAlive(state.pid, state.start_ticks) &&
      state.config_hash === hash &&
      state.uid === owner?.uid // a process started as another user (or as ours, before users were separated) is replaced
    ) {
      // Nothing the process depends on changed (e.g. only lifecycle settings): it already is this generation.
      if (state.generation !== ws.generation) await dir.writeState({ ...state, generation: ws.generation });
      return this.running(ws.name, { ...state, generation: ws.generation }, dir);
    }
    if (state) await this.stopProcess(dir, state);
    await this.prepare(dir, owner);
    // The last point before a process is started: abandoned here, nothing is left half-made.
    signal?.throwIfAborted();
    const port = await this.choosePort(ws, state);
    try {
      return await this.start(ws, dir, { command, workDir, hash, port, owner });
    } finally {
      this.reservedPorts.delete(port);
    }
  }

  private async start(
    ws: RuntimeWorkspace,
    dir: WorkspaceDir,
    p: { command: string[]; workDir: string; hash: string; port: number; owner: Owner | undefined },
  ): Promise<ObservedInstance> {
    let preStartPath: string | undefined;
    const preStart = ws.hooks?.pre_start;
    if (preStart) {
      // Ours, not the workspace's (it must not swap the script we write); it may read and run it.
      await mkdir(dir.hooksDir, { recursive: true });
      preStartPath = join(dir.hooksDir, 'pre_start');
      await writeFile(preStartPath, preStart.content);
      await chmod(preStartPath, 0o755);
    } else {
      await rm(dir.hooksDir, { recursive: true, force: true });
    }
    await dir.clearExit();
    await rotateLog(dir.logPath);
    const startedAt = new Date().toISOString();
    const logFile = await open(dir.logPath, 'a', 0o600);
    let state: LocalState;
    let written: Promise<void>;
    try {
      await logFile.write(`--- wsm: ${startedAt} start of generation ${ws.generation} on port ${p.port}: ${JSON.stringify(p.command)}\n`);
      const child = launch({
        command: p.command,
        home: dir.home,
        workDir: p.workDir,
        owner: p.owner,
        env: processEnv(ws, dir.home, p.port),
        exitCodePath: dir.exitCodePath,
        preStartPath,
        preStartTimeoutSeconds: this.preStartTimeoutMs / 1000,
        preStartLogPath: dir.preStartLogPath,
        logFd: logFile.fd,
      });
      child.once('error', (err) => this.log.error({ workspace: ws.name, err }, 'local workspace process failed to spawn'));
      // Read now, synchronously: until the event loop turns, the child is not reaped, so /proc has it.
      const stat = child.pid ? readProcStat(child.pid) : undefined;
      if (!child.pid || !stat) throw new Error(`Could not start the process of workspace ${ws.name}.`);
      state = {
        version: 1,
        status: 'running',
        pid: child.pid,
        pgid: child.pid,
        start_ticks: stat.startTicks,
        started_at: startedAt,
        port: p.port,
        requested_port: requestedPort(ws),
        generation: ws.generation,
        config_hash: p.hash,
        ...(p.owner ? { uid: p.owner.uid } : {}),
      };
      written = dir.writeState(state);
      // The exit is announced only once state.json says the process ran, or a listener would read the old state.
      const announce = () => this.notifyExit(ws.name, state);
      child.once('exit', () => void written.then(announce, announce));
    } finally {
      await logFile.close();
    }
    await written;
    this.log.info({ workspace: ws.name, pid: state.pid, port: p.port, generation: ws.generation }, 'local workspace started');
    return this.running(ws.name, state, dir);
  }

  private async ensureStopped(ws: RuntimeWorkspace, dir: WorkspaceDir): Promise<ObservedInstance> {
    await this.prepare(dir, await this.ownerFor(ws.name));
    const state: LocalState = (await dir.readState()) ?? { version: 1, status: 'stopped', generation: ws.generation };
    await this.stopProcess(dir, state);
    const next: LocalState = { ...state, status: 'stopped', generation: ws.generation };
    await dir.writeState(next);
    return { ...this.base(ws.name, next), status: 'STOPPED' };
  }

  /** Records the stop first (so the exit is not read as a failure), then ends the whole process group. */
  private async stopProcess(dir: WorkspaceDir, state: LocalState): Promise<void> {
    this.runningNow.delete(dir.name);
    if (state.status === 'running') {
      state.status = 'stopped';
      state.stopped_at = new Date().toISOString();
      await dir.writeState(state);
    }
    if (!state.pgid) return;
    const wasAlive = isSameProcessAlive(state.pid, state.start_ticks);
    await stopGroup(state.pgid, state.start_ticks, this.stopGraceMs);
    if (wasAlive) this.log.info({ workspace: dir.name, pid: state.pid }, 'local workspace stopped');
  }

  /**
   * host_port is taken as given (the user chose the address). Otherwise the port kept in state.json is
   * preferred while the request is unchanged (a stable URL), then the requested port, then any free port;
   * ports other workspaces keep are left to them.
   */
  private async choosePort(ws: RuntimeWorkspace, state: LocalState | undefined): Promise<number> {
    // Checked and reserved in one synchronous step, so concurrent starts here never share a port.
    const claim = (port: number): boolean => {
      if (this.reservedPorts.has(port)) return false;
      this.reservedPorts.add(port);
      return true;
    };
    const hostPort = ws.container.host_port;
    if (hostPort !== undefined) {
      if ((await isPortFree(this.host, hostPort)) && claim(hostPort)) return hostPort;
      throw new Error(`Port ${hostPort} on ${this.host} is in use; workspace ${ws.name} cannot start until it is free.`);
    }
    const requested = requestedPort(ws);
    const taken = await this.portsKeptByOthers(ws.name);
    const candidates: number[] = [];
    if (state?.port && state.requested_port === requested) candidates.push(state.port);
    if (requested !== undefined && !taken.has(requested)) candidates.push(requested);
    for (const port of candidates) {
      if ((await isPortFree(this.host, port)) && claim(port)) return port;
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = await pickFreePort(this.host, taken);
      if (claim(port)) return port;
    }
    throw new Error(`No free port found on ${this.host} for workspace ${ws.name}.`);
  }

  private async portsKeptByOthers(name: string): Promise<Set<number>> {
    const ports = new Set<number>(this.reservedPorts);
    for (const other of await this.listInstances()) {
      if (other === name) continue;
      const port = (await new WorkspaceDir(this.rootDir, other).readState().catch(() => undefined))?.port;
      if (port) ports.add(port);
    }
    return ports;
  }

  private base(name: string, state: LocalState): ObservedInstance {
    return { status: 'UNKNOWN', generation: state.generation, instance_name: name, instance_type: 'process' };
  }

  private async running(name: string, state: LocalState, dir: WorkspaceDir): Promise<ObservedInstance> {
    this.runningNow.set(name, state);
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    // Until its pre-start script has finished, the workspace is starting, not running: an operation
    // must not succeed before the script had its say.
    const exists = (path: string) => stat(path).then(() => true, () => false);
    if ((await exists(join(dir.hooksDir, 'pre_start'))) && !(await exists(`${dir.preStartLogPath}.done`))) {
      return {
        ...this.base(name, state),
        status: 'PENDING',
        message: 'the pre-start script is running',
        conditions: [{ type: 'PreStart', status: 'Unknown', reason: 'Running', message: 'the pre-start script is running' }],
      };
    }
    const listening = await canConnect(this.host, state.port!, 500);
    return {
      ...this.base(name, state),
      status: 'RUNNING',
      ip: `${host}:${state.port}`,
      url: `http://${host}:${state.port}`,
      conditions: [
        listening
          ? { type: 'Listening', status: 'True', reason: 'PortOpen', message: `pid ${state.pid} accepts connections` }
          : { type: 'Listening', status: 'False', reason: 'PortClosed', message: `nothing accepts connections on port ${state.port} yet` },
      ],
    };
  }

  private async failed(dir: WorkspaceDir, state: LocalState): Promise<ObservedInstance> {
    const exit = await dir.readExit(state.uid);
    if (exit?.phase === 'pre_start') {
      const { tail, timedOut } = await dir.preStartOutcome(state.uid);
      const what = timedOut
        ? `pre-start script timed out after ${Math.ceil(this.preStartTimeoutMs / 1000)} s (exit code ${exit.code})`
        : `pre-start script failed with code ${exit.code}`;
      const message = tail ? `${what}: ${tail}` : what;
      return {
        ...this.base(dir.name, state),
        status: 'FAILED',
        exit_code: exit.code,
        message,
        conditions: [{ type: 'PreStartFailed', status: 'True', reason: timedOut ? 'PreStartTimedOut' : 'PreStartFailed', message }],
        termination: terminationOf({ exit_code: exit.code, finished_at: ((await dir.exitTime()) ?? new Date()).toISOString(), log_tail: tail || undefined, reason: timedOut ? 'PreStartTimedOut' : 'PreStartFailed' }),
      };
    }
    const lines = await dir.lastOutputLines();
    const last = lines.at(-1)?.trim();
    // Without an exit code the launch wrapper itself was killed (from outside, or with the host).
    const finished = (exit ? await dir.exitTime() : undefined) ?? new Date();
    const termination = terminationOf({
      exit_code: exit?.code,
      finished_at: finished.toISOString(),
      log_tail: lines.join('\n') || undefined,
      ...(exit ? {} : { reason: 'Killed' }),
    });
    const message = !exit ? 'exited (exit code unknown: the process was killed from outside)' : describeTermination(termination);
    return {
      ...this.base(dir.name, state),
      status: 'FAILED',
      ...(exit ? { exit_code: exit.code } : {}),
      message,
      conditions: [{ type: 'Running', status: 'False', reason: 'ProcessExited', message: last ? `last output: ${last.length > 300 ? last.slice(-300) : last}` : 'no output' }],
      termination,
    };
  }

  private notifyExit(name: string, state: LocalState): void {
    const key = `${name}:${state.pid}:${state.start_ticks}`;
    if (this.reportedExits.has(key)) return;
    this.reportedExits.add(key);
    if (this.runningNow.get(name) === state) this.runningNow.delete(name);
    for (const listener of this.listeners) listener(name);
  }

  /**
   * Processes started by an earlier control plane are not our children: their exits are found by
   * looking, at the processes known to run only (one /proc read each, no file of any workspace).
   */
  private poll(): void {
    for (const [name, state] of this.runningNow) {
      if (!isSameProcessAlive(state.pid, state.start_ticks)) {
        this.runningNow.delete(name);
        this.notifyExit(name, state);
      }
    }
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}

async function rotateLog(path: string): Promise<void> {
  const size = await stat(path).then((s) => s.size, () => 0);
  if (size > LOG_ROTATE_BYTES) await rename(path, `${path}.1`);
}
