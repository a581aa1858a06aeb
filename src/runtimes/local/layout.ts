// The on-disk layout of one local workspace, <rootDir>/<name>/:
//   home/        the workspace's "volume": cwd and HOME of the process, kept across stop/resume/patch
//   state.json   what this runtime started (pid, start time, port, config hash, generation, uid)
//   output.log   stdout and stderr of every start, appended
//   hooks/       the pre-start script, when the lifecycle config names one
//   run/         written by the workspace's own processes (the launch wrapper):
//     exit_code      when the process exits on its own
//     pre_start.log  the pre-start script's output at the last start (.done when it finished, .timedout)
// Everything a later control-plane process needs to adopt a running workspace is on disk, never only in memory.
// When workspaces run as their own users, home/ and run/ are the workspace's; the rest stays the control
// plane's, so a workspace can never rewrite the state (a pid in state.json is a process we would signal).
import { constants } from 'node:fs';
import { chmod, chown, lstat, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chownTree, removeTree, type Owner } from './users.js';

export interface LocalState {
  version: 1;
  /** What we last made of it: 'stopped' is written before a stop begins, so an exit we cause is never a failure. */
  status: 'running' | 'stopped';
  pid?: number;
  /** The process group: the wrapper is its leader, so it equals pid. */
  pgid?: number;
  /** /proc start time of pid, to tell our process from a later one that reuses the pid. */
  start_ticks?: string;
  started_at?: string;
  stopped_at?: string;
  /** The port the process was given in PORT; kept so the URL stays the same across restarts. */
  port?: number;
  /** The port the config asked for when `port` was chosen (a changed request picks again). */
  requested_port?: number;
  generation: number;
  config_hash?: string;
  /** The user the process runs as; absent when workspaces run as the control plane's user. */
  uid?: number;
}

export interface ExitRecord {
  code: number;
  /** Which step ended the run: the pre-start script or the main command. */
  phase: 'pre_start' | 'main';
}

export class WorkspaceDir {
  readonly dir: string;
  readonly home: string;
  readonly statePath: string;
  readonly exitCodePath: string;
  readonly logPath: string;
  readonly hooksDir: string;
  readonly runDir: string;
  readonly preStartLogPath: string;

  constructor(rootDir: string, readonly name: string) {
    this.dir = join(rootDir, name);
    this.home = join(this.dir, 'home');
    this.statePath = join(this.dir, 'state.json');
    this.logPath = join(this.dir, 'output.log');
    this.hooksDir = join(this.dir, 'hooks');
    this.runDir = join(this.dir, 'run');
    this.exitCodePath = join(this.runDir, 'exit_code');
    this.preStartLogPath = join(this.runDir, 'pre_start.log');
  }

  /**
   * Creates the directories. With an owner: the workspace directory stays ours and only the owner's
   * group may enter it (mode 0710), home/ and run/ become the owner's (0700). A home that belonged to
   * someone else (an earlier uid, or a control plane that did not switch users) is handed over whole;
   * run/ holds nothing worth keeping, so it is made afresh.
   */
  async prepare(owner: Owner | undefined): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if (!owner) {
      await mkdir(this.home, { recursive: true });
      await mkdir(this.runDir, { recursive: true });
      return;
    }
    await chown(this.dir, process.getuid!(), owner.gid);
    await chmod(this.dir, 0o710);
    await ownedDir(this.home, owner, async () => chownTree(this.home, owner));
    await ownedDir(this.runDir, owner, async () => {
      await removeTree(this.runDir);
      await mkdir(this.runDir, { mode: 0o700 });
      await chown(this.runDir, owner.uid, owner.gid);
    });
  }

  async readState(): Promise<LocalState | undefined> {
    let text: string;
    try {
      text = await readFile(this.statePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return JSON.parse(text) as LocalState;
  }

  /** Written through a rename so a reader (or a crash) never sees half a file. */
  async writeState(state: LocalState): Promise<void> {
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, this.statePath);
  }

  /** `uid`: the workspace's user, who alone may have written the file (see readWorkspaceFile). */
  async readExit(uid?: number): Promise<ExitRecord | undefined> {
    const text = await readWorkspaceFile(this.exitCodePath, 64, uid);
    if (text === undefined) return undefined;
    const [code, phase] = text.trim().split(/\s+/);
    const n = Number(code);
    if (code === undefined || code === '' || !Number.isInteger(n)) return undefined;
    return { code: n, phase: phase === 'pre_start' ? 'pre_start' : 'main' };
  }

  async clearExit(): Promise<void> {
    await rm(this.exitCodePath, { force: true });
  }

  /** The last lines of the pre-start script's output of the last start, and whether it timed out. */
  async preStartOutcome(uid?: number): Promise<{ tail: string; timedOut: boolean }> {
    const text = (await readWorkspaceFile(this.preStartLogPath, 16 * 1024, uid)) ?? '';
    const timedOut = await lstat(`${this.preStartLogPath}.timedout`).then(() => true, () => false);
    const lines = text.replace(/\s+$/, '').split('\n').slice(-10).join('\n');
    return { tail: lines.length > 1000 ? `…${lines.slice(-1000)}` : lines, timedOut };
  }

  /** When the exit code was written (the process's end), if it was. */
  async exitTime(): Promise<Date | undefined> {
    return lstat(this.exitCodePath).then((s) => s.mtime, () => undefined);
  }

  /** The last non-empty lines of output.log (from its last 4 KiB): the tail a termination shows. */
  async lastOutputLines(count = 20): Promise<string[]> {
    let handle;
    try {
      handle = await open(this.logPath, 'r');
    } catch {
      return [];
    }
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 4096);
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, size - length);
      return buf.toString('utf8').split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '').slice(-count);
    } finally {
      await handle.close();
    }
  }
}

/** Makes `path` a directory of `owner` with mode 0700, calling `handOver` when it belongs to someone else. */
async function ownedDir(path: string, owner: Owner, handOver: () => Promise<void>): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) {
    await mkdir(path, { mode: 0o700 });
    await chown(path, owner.uid, owner.gid);
    return;
  }
  if (!info.isDirectory()) throw new Error(`${path} is not a directory; move it away so the workspace can start.`);
  if (info.uid !== owner.uid || info.gid !== owner.gid) await handOver();
  await chmod(path, 0o700);
}

/**
 * Reads at most the last `maxBytes` of a file the workspace's own processes write. The workspace could
 * have put a link there to a file only we may read, or a FIFO that blocks forever: links are not
 * followed, opening never blocks, and only a regular file owned by `uid` (when given) is read.
 */
async function readWorkspaceFile(path: string, maxBytes: number, uid: number | undefined): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || (uid !== undefined && info.uid !== uid)) return undefined;
    const length = Math.min(info.size, maxBytes);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, info.size - length);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
