// Running a command in a workspace container (post-start hooks, probes) with a deadline.
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

/**
 * Runs `command` and returns its combined stdout and stderr. On timeout the result says so and the
 * stream is dropped; the engine has no way to kill an exec'd process, so it may run on. An aborted
 * `signal` drops the stream the same way and rejects with its reason.
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
  const exec = await container.exec({ Cmd: command, Env: env, AttachStdout: true, AttachStderr: true, AttachStdin: false, ...abortable });
  const stream = await exec.start({ hijack: true, stdin: false, ...abortable });
  const output = new TailBuffer();
  docker.modem.demuxStream(stream, output, output);

  const timedOut = await new Promise<boolean>((resolve, reject) => {
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
