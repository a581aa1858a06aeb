// The on-disk layout of one local workspace, <rootDir>/<name>/:
//   home/        the workspace's "volume": cwd and HOME of the process, kept across stop/resume/patch
//   state.json   what this runtime started (pid, start time, port, config hash, generation)
//   exit_code    written by the launch wrapper when the process exits on its own
//   output.log   stdout and stderr of every start, appended
//   hooks/       the pre-start script, when the lifecycle config names one
//   pre_start.log  that script's output at the last start (and pre_start.log.timedout if it ran too long)
// Everything a later control-plane process needs to adopt a running workspace is on disk, never only in memory.
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
  readonly preStartLogPath: string;

  constructor(rootDir: string, readonly name: string) {
    this.dir = join(rootDir, name);
    this.home = join(this.dir, 'home');
    this.statePath = join(this.dir, 'state.json');
    this.exitCodePath = join(this.dir, 'exit_code');
    this.logPath = join(this.dir, 'output.log');
    this.hooksDir = join(this.dir, 'hooks');
    this.preStartLogPath = join(this.dir, 'pre_start.log');
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
    await writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
    await rename(tmp, this.statePath);
  }

  async readExit(): Promise<ExitRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.exitCodePath, 'utf8');
    } catch {
      return undefined;
    }
    const [code, phase] = text.trim().split(/\s+/);
    const n = Number(code);
    if (code === undefined || code === '' || !Number.isInteger(n)) return undefined;
    return { code: n, phase: phase === 'pre_start' ? 'pre_start' : 'main' };
  }

  async clearExit(): Promise<void> {
    await rm(this.exitCodePath, { force: true });
  }

  /** The last lines of the pre-start script's output of the last start, and whether it timed out. */
  async preStartOutcome(): Promise<{ tail: string; timedOut: boolean }> {
    const text = await readFile(this.preStartLogPath, 'utf8').catch(() => '');
    const timedOut = await stat(`${this.preStartLogPath}.timedout`).then(() => true, () => false);
    const lines = text.replace(/\s+$/, '').split('\n').slice(-10).join('\n');
    return { tail: lines.length > 1000 ? `…${lines.slice(-1000)}` : lines, timedOut };
  }

  /** The last non-empty line of output.log (from its last 4 KiB), to say why a process ended. */
  async lastOutputLine(): Promise<string | undefined> {
    let handle;
    try {
      handle = await open(this.logPath, 'r');
    } catch {
      return undefined;
    }
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 4096);
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, size - length);
      const lines = buf.toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
      const last = lines.at(-1);
      return last && last.length > 300 ? last.slice(-300) : last;
    } finally {
      await handle.close();
    }
  }
}
