// Running a command in a workspace container (post-start hooks, probes) with a deadline that ends
// the command inside the container, not only wsm's wait for it.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import type { ExecResult } from '../../core/runtime.js';

/** Output beyond this is dropped from the front: the end of a log says why something failed. */
const MAX_OUTPUT_BYTES = 256 * 1024;

class TailBuffer extends Writable {
  private chunks: Buffer[] = [];
  private size = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > MAX_OUTPUT_BYTES && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
    done();
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - MAX_OUTPUT_BYTES)).toString('utf8');
  }
}

/** The variable that marks every process of one exec, children included (the environment is inherited). */
export const EXEC_MARK = 'WSM_EXEC_ID';
/** How long the processes of an exec that ran out of time get to end on SIGTERM before SIGKILL. */
const TERM_GRACE_TENTHS = 20;
/** A bound on ending an exec's processes (the engine may be slow to answer). */
const END_TIMEOUT_MS = 15_000;

/**
 * Ends, inside the container, every process whose environment carries the exec's mark: the command
 * and whatever it started, even children that left its process group or were reparented. Only sh,
 * grep and kill are needed, which every image that runs hooks has. SIGTERM first, then SIGKILL.
 */
const END_SCRIPT = [
  'mark="$0=$1"',
  'marked() { for e in /proc/[0-9]*/environ; do grep -qF "$mark" "$e" 2>/dev/null && { p=${e#/proc/}; echo "${p%/environ}"; }; done; }',
  'list=$(marked); [ -z "$list" ] && exit 0',
  'kill -TERM $list 2>/dev/null',
  'i=0',
  `while [ "$i" -lt ${TERM_GRACE_TENTHS} ]; do list=$(marked); [ -z "$list" ] && exit 0; sleep 0.1; i=$((i+1)); done`,
  'kill -KILL $list 2>/dev/null',
  'exit 0',
].join('\n');

/** Runs a command to its end, output dropped. */
async function runToEnd(container: Docker.Container, command: string[], signal: AbortSignal): Promise<void> {
  const exec = await container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true, AttachStdin: false, abortSignal: signal });
  const stream = await exec.start({ hijack: true, stdin: false, abortSignal: signal });
  stream.resume();
  await new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      stream.destroy();
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/** Ends an exec's processes; a failure (the container stopped meanwhile, say) leaves nothing to end, or nothing more to do. */
async function endInContainer(container: Docker.Container, mark: string): Promise<void> {
  await runToEnd(container, ['/bin/sh', '-c', END_SCRIPT, EXEC_MARK, mark], AbortSignal.timeout(END_TIMEOUT_MS)).catch(() => undefined);
}

/**
 * Runs `command` and returns its combined stdout and stderr. The engine cannot kill an exec'd
 * process, so every exec is marked (EXEC_MARK in its environment), and on timeout or when `signal`
 * is aborted its processes are ended inside the container before this returns or rejects: a hook
 * that hangs does not run on beside the workspace.
 */
export async function execInContainer(
  docker: Docker,
  container: Docker.Container,
  command: string[],
  env: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ExecResult> {
  const started = Date.now();
  const abortable = signal ? { abortSignal: signal } : {};
  const mark = randomUUID();
  const exec = await container.exec({ Cmd: command, Env: [...env, `${EXEC_MARK}=${mark}`], AttachStdout: true, AttachStderr: true, AttachStdin: false, ...abortable });
  const stream = await exec.start({ hijack: true, stdin: false, ...abortable });
  const output = new TailBuffer();
  docker.modem.demuxStream(stream, output, output);

  let timedOut: boolean;
  try {
    timedOut = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.destroy();
        resolve(true);
      }, timeoutMs);
      const aborted = () => {
        clearTimeout(timer);
        stream.destroy();
        reject(signal!.reason);
      };
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        resolve(false);
      };
      if (signal?.aborted) return aborted();
      signal?.addEventListener('abort', aborted, { once: true });
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    });
  } catch (err) {
    await endInContainer(container, mark);
    throw err;
  }
  if (timedOut) await endInContainer(container, mark);
  let exitCode = -1;
  if (!timedOut) {
    // The stream can end a moment before the engine records the exit code.
    for (let i = 0; i < 50; i++) {
      const info = await exec.inspect(abortable);
      if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) {
        exitCode = info.ExitCode;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { exit_code: exitCode, output: output.text(), duration_ms: Date.now() - started, timed_out: timedOut };
}
