// Running a one-off command in a workspace (post-start hooks, probes): its own process group so a
// timeout kills everything it started, and only the tail of its output is kept.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { ExecResult } from '../../core/runtime.js';
import { signalGroup } from './procfs.js';
import type { Owner } from './users.js';

export const EXEC_OUTPUT_LIMIT = 64 * 1024;
/** The exit code reported for a command killed at its timeout, as timeout(1) reports it. */
export const TIMEOUT_EXIT_CODE = 124;
/** The exit code reported for a command that could not be started, as a shell reports it. */
export const NOT_STARTED_EXIT_CODE = 127;

/** Keeps the last `limit` bytes of a stream of chunks. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    // Cutting may split a multi-byte character at the start; the replacement char it leaves is dropped.
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8').replace(/^\uFFFD/, '');
  }
}

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** The user to run as; absent = the control plane's own user. */
  owner?: Owner;
  /** Aborted, the command's whole process group is killed and the run rejects with the signal's reason. */
  signal?: AbortSignal;
}

export function runCaptured(command: string[], options: RunOptions): Promise<ExecResult> {
  const started = Date.now();
  const tail = new Tail(EXEC_OUTPUT_LIMIT);
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    if (command.length === 0) {
      resolve({ exit_code: NOT_STARTED_EXIT_CODE, output: 'no command given', duration_ms: 0, timed_out: false });
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(command[0]!, command.slice(1), {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(options.owner ?? {}),
      });
    } catch (err) {
      // e.g. an argument holding a NUL byte: refused before anything runs
      resolve({ exit_code: NOT_STARTED_EXIT_CODE, output: String(err), duration_ms: 0, timed_out: false });
      return;
    }
    let timedOut = false;
    let settled = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', cancel);
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (options.signal?.aborted) {
        reject(options.signal.reason);
        return;
      }
      resolve({
        exit_code: timedOut ? TIMEOUT_EXIT_CODE : code,
        output: tail.text(),
        duration_ms: Date.now() - started,
        timed_out: timedOut,
      });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
    }, options.timeoutMs);
    const cancel = () => {
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
    };
    options.signal?.addEventListener('abort', cancel, { once: true });
    child.stdout?.on('data', (c: Buffer) => tail.push(c));
    child.stderr?.on('data', (c: Buffer) => tail.push(c));
    child.once('error', (err) => {
      tail.push(Buffer.from(`${err.message}\n`));
      finish(NOT_STARTED_EXIT_CODE);
    });
    const exitCode = (code: number | null, signal: NodeJS.Signals | null) =>
      code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
    child.once('close', (code, signal) => finish(exitCode(code, signal)));
    // A background process the command left behind may hold the pipes open; the command is done
    // when it exits, so its output is awaited only briefly after that.
    child.once('exit', (code, signal) => {
      drainTimer = setTimeout(() => finish(exitCode(code, signal)), 1000);
    });
  });
}
