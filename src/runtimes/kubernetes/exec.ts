// Runs a command in the workspace container over the API server's exec websocket.
import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import type { ExecResult } from '../../core/runtime.js';

const MAX_OUTPUT = 64 * 1024;

function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

/** Ends at `timeoutMs` (timed_out) or, with the signal's reason, once `signal` aborts; the socket is closed either way. */
export async function execInPod(kc: KubeConfig, namespace: string, pod: string, container: string, command: string[], timeoutMs: number, signal?: AbortSignal): Promise<ExecResult> {
  signal?.throwIfAborted();
  const started = Date.now();
  let output = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (output.length < MAX_OUTPUT) output += chunk.toString('utf8').slice(0, MAX_OUTPUT - output.length);
      done();
    },
  });
  return new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    const finish = (result: Omit<ExecResult, 'output' | 'duration_ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      resolve({ ...result, output, duration_ms: Date.now() - started });
    };
    const aborted = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.close();
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', aborted, { once: true });
    let socket: { close(): void } | undefined;
    const timer = setTimeout(() => {
      socket?.close();
      finish({ exit_code: -1, timed_out: true });
    }, timeoutMs);
    new Exec(kc)
      .exec(namespace, pod, container, command, sink, sink, null, false, (status) => finish({ exit_code: exitCodeOf(status), timed_out: false }))
      .then((ws) => {
        socket = ws;
        if (settled) return ws.close();
        // A socket that closes without a status never told us how the command ended.
        ws.on('close', () => finish({ exit_code: -1, timed_out: false }));
      })
      .catch((err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        reject(new Error(`exec in pod ${namespace}/${pod} failed: ${(err as Error).message}`));
      });
  });
}
