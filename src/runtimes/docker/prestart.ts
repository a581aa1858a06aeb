// The pre-start hook on Docker: the script is copied into the container (not bind-mounted, so the
// engine may be remote) and a small sh wrapper becomes the entrypoint. The wrapper runs the hook on
// every start with a timeout, keeps its output and exit code under /wsm for observe() to report,
// and only then execs the workspace's real command.
import { Readable } from 'node:stream';
import tar from 'tar-stream';

export const HOOK_DIR = '/wsm/hooks';
export const PRE_START_PATH = `${HOOK_DIR}/pre-start`;
export const PRE_START_LOG = '/wsm/pre-start.log';
export const PRE_START_RC = '/wsm/pre-start.rc';
export const PRE_START_TIMED_OUT = '/wsm/pre-start.timedout';
/** Written once the hook has succeeded: until then the workspace is starting, not running. */
export const PRE_START_DONE = '/wsm/pre-start.done';
/** The exit code the wrapper uses when the hook ran past its timeout (as GNU timeout does). */
export const TIMEOUT_EXIT_CODE = 124;

/**
 * The wrapper. The hook writes to a file rather than a pipe: a hook that leaves a background child
 * behind would otherwise hold the pipe open and stall the start forever. The watchdog polls once a
 * second so it ends by itself soon after the hook does.
 */
export function wrapperScript(timeoutSeconds: number): string {
  const t = Math.max(1, Math.floor(timeoutSeconds));
  return [
    `mkdir -p /wsm && rm -f ${PRE_START_RC} ${PRE_START_TIMED_OUT} ${PRE_START_DONE}`,
    `${PRE_START_PATH} >${PRE_START_LOG} 2>&1 </dev/null &`,
    'hook=$!',
    `trap 'kill -TERM "$hook" 2>/dev/null; exit 143' TERM INT`,
    `( i=0; while [ "$i" -lt ${t} ] && kill -0 "$hook" 2>/dev/null; do sleep 1; i=$((i+1)); done;`,
    `  if kill -0 "$hook" 2>/dev/null; then : >${PRE_START_TIMED_OUT}; kill -TERM "$hook" 2>/dev/null;`,
    `    j=0; while [ "$j" -lt 5 ] && kill -0 "$hook" 2>/dev/null; do sleep 1; j=$((j+1)); done;`,
    `    kill -KILL "$hook" 2>/dev/null; fi ) &`,
    'watchdog=$!',
    'wait "$hook"; rc=$?',
    'wait "$watchdog"',
    'trap - TERM INT',
    `cat ${PRE_START_LOG}`,
    `if [ -e ${PRE_START_TIMED_OUT} ]; then rc=${TIMEOUT_EXIT_CODE}; fi`,
    'if [ "$rc" -ne 0 ]; then',
    `  echo "$rc" >${PRE_START_RC}`,
    '  echo "wsm: pre-start script failed with code $rc" >&2',
    '  exit "$rc"',
    'fi',
    `: >${PRE_START_DONE}`,
    'exec "$@"',
  ].join('\n');
}

/** The container's entrypoint: the wrapper, then the real command as its arguments. */
export function wrappedEntrypoint(timeoutSeconds: number, mainCommand: string[]): string[] {
  return ['/bin/sh', '-c', wrapperScript(timeoutSeconds), 'sh', ...mainCommand];
}

/** A tar (for putArchive at "/") holding the hook at PRE_START_PATH, executable. */
export async function hookArchive(content: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: 'wsm/', type: 'directory', mode: 0o755 });
  pack.entry({ name: 'wsm/hooks/', type: 'directory', mode: 0o755 });
  pack.entry({ name: PRE_START_PATH.slice(1), type: 'file', mode: 0o755 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The content of the first regular file in a tar stream (what getArchive returns for one file). */
export async function firstFileOfTar(stream: NodeJS.ReadableStream): Promise<Buffer | undefined> {
  const extract = tar.extract();
  Readable.from(stream as AsyncIterable<Buffer>).pipe(extract);
  let found: Buffer | undefined;
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (found === undefined && entry.header.type === 'file') found = Buffer.concat(chunks);
  }
  return found;
}

/** The last lines of the hook's output, short enough for a condition message. */
export function tailOfOutput(output: string, maxLines = 10, maxChars = 1000): string {
  const lines = output.replace(/\s+$/, '').split('\n').slice(-maxLines).join('\n');
  return lines.length > maxChars ? `…${lines.slice(-maxChars)}` : lines;
}

export function preStartFailureMessage(code: number, output: string, timeoutSeconds: number): string {
  const what =
    code === TIMEOUT_EXIT_CODE
      ? `pre-start script timed out after ${timeoutSeconds}s (exit code ${code})`
      : `pre-start script exited with code ${code}`;
  const tail = tailOfOutput(output);
  return tail ? `${what}: ${tail}` : what;
}
