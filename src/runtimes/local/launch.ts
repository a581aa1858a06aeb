// How a workspace process is started: its environment, working directory, config hash, and the small
// shell wrapper that records the exit code on disk (the control plane that reads it may not be the
// parent that started the process, so waitpid alone cannot tell it).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve } from 'node:path';
import { PermanentRuntimeError, type RuntimeWorkspace } from '../../core/runtime.js';
import type { Owner } from './users.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The process environment is built from scratch, as a container's would be: nothing of the control
 * plane's environment (its tokens, database URL) leaks in. PATH comes from the control plane (so the
 * host's tools are found) and HOME is the workspace's home dir (so ~ lands on its volume); the workspace
 * env may override both. WSM_HOME, WSM_WORKSPACE and PORT are ours and always win, since they state facts.
 */
export function processEnv(ws: RuntimeWorkspace, home: string, port: number): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH || DEFAULT_PATH, HOME: home };
  for (const { name, value } of ws.env) env[name] = value;
  env.WSM_HOME = home;
  env.WSM_WORKSPACE = ws.name;
  env.PORT = String(port);
  return env;
}

/**
 * working_dir is read inside home, which plays the container's filesystem root: "/app" and "app" both
 * mean <home>/app. A path that climbs out of home is refused.
 */
export function resolveWorkDir(home: string, workingDir: string | undefined): string {
  if (!workingDir) return home;
  const full = resolve(home, workingDir.replace(/^\/+/, ''));
  const rel = relative(home, full);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new PermanentRuntimeError(
      `container_config.working_dir ${JSON.stringify(workingDir)} leaves the workspace home directory.`,
      'InvalidWorkingDir',
    );
  }
  return full;
}

/** working_dir as a path relative to home ("" for home itself), checked as resolveWorkDir checks it. */
export function workDirInHome(home: string, workingDir: string | undefined): string {
  return relative(home, resolveWorkDir(home, workingDir));
}

/** The port the config asks for: host_port (what users reach) before port (what the process listens on). */
export function requestedPort(ws: RuntimeWorkspace): number | undefined {
  return ws.container.host_port ?? ws.container.port;
}

/** A digest of exactly what the running process depends on; a change means a restart. */
export function configHash(ws: RuntimeWorkspace): string {
  const env = new Map<string, string>();
  for (const { name, value } of ws.env) env.set(name, value);
  const preStart = ws.hooks?.pre_start;
  const material = {
    command: ws.container.command ?? [],
    args: ws.container.args ?? [],
    env: [...env.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    working_dir: ws.container.working_dir ?? '',
    port: requestedPort(ws) ?? null,
    pre_start: preStart ? createHash('sha256').update(preStart.content).digest('hex') : null,
  };
  return createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 32);
}

/** The exit code recorded for a pre-start script killed at its timeout, as timeout(1) reports it. */
export const PRE_START_TIMEOUT_CODE = 124;

// $1 exit-code file, $2 pre-start script or "", $3 its timeout in seconds, $4 its log file, $5 the working
// directory relative to home (the wrapper starts in home; "" = stay there), then the command.
// The working directory is created and entered here, as the workspace's user: done by the control plane,
// a link the workspace put in its home would take it (as root) wherever the link points. Runs the command as a child (not exec) so the shell survives it to write the code; a stop by
// us kills the shell too, and is recorded as a stop in state.json, never read from here.
// The pre-start script's output goes to its own file (kept for the failure message, then copied to the
// main log); a watchdog ends it at the timeout. Builtins only, except `sleep` for the watchdog: the
// user's PATH may not hold coreutils, and without sleep there is no timeout rather than no start.
// A failed script's leftovers (children it started) are ended with the group; the wrapper ignores that signal.
const WRAPPER = [
  'f=$1; p=$2; t=$3; l=$4; w=$5; shift 5',
  'if [ -n "$w" ]; then',
  '  { [ -d "$w" ] || mkdir -p -- "$w"; } && cd -- "$w" || { echo "wsm: cannot enter working_dir $w" >&2; echo "126 main" > "$f"; exit 126; }',
  'fi',
  'if [ -n "$p" ]; then',
  '  rm -f "$l.timedout" "$l.done"',
  '  "$p" >"$l" 2>&1 </dev/null &',
  '  h=$!',
  '  ( i=0; while [ $i -lt $t ] && kill -0 $h 2>/dev/null; do sleep 1 || exit 0; i=$((i+1)); done',
  '    if kill -0 $h 2>/dev/null; then : >"$l.timedout"; kill -TERM $h 2>/dev/null; sleep 2; kill -KILL $h 2>/dev/null; fi ) &',
  '  w=$!',
  '  wait $h; c=$?',
  '  kill $w 2>/dev/null',
  '  while IFS= read -r line || [ -n "$line" ]; do printf "%s\\n" "$line"; done <"$l"',
  `  if [ -e "$l.timedout" ]; then c=${PRE_START_TIMEOUT_CODE}; fi`,
  '  if [ $c -ne 0 ]; then',
  '    echo "wsm: pre-start script failed with code $c" >&2; echo "$c pre_start" > "$f"',
  "    trap '' TERM; kill -TERM 0 2>/dev/null; exit $c",
  '  fi',
  '  : >"$l.done"',
  'fi',
  '"$@"; c=$?',
  'echo "$c main" > "$f"',
  'exit $c',
].join('\n');

export interface LaunchSpec {
  command: string[];
  /** The workspace's home: where the wrapper starts. */
  home: string;
  /** The working directory relative to home ("" for home itself). */
  workDir: string;
  /** The user to run as; absent = the control plane's own user. */
  owner?: Owner;
  env: Record<string, string>;
  exitCodePath: string;
  preStartPath?: string;
  /** Whole seconds the pre-start script may run. */
  preStartTimeoutSeconds: number;
  /** Where the pre-start script's output is kept. */
  preStartLogPath: string;
  /** An open file descriptor that receives stdout and stderr. */
  logFd: number;
}

/**
 * Spawns the wrapper as the leader of a new process group (so a stop reaches every process of the
 * workspace), with output going straight to the log file: nothing ties the process to the control
 * plane, which may exit or be killed while the workspace keeps running.
 */
export function launch(spec: LaunchSpec): ChildProcess {
  const child = spawn(
    '/bin/sh',
    ['-c', WRAPPER, 'wsm-launch', spec.exitCodePath, spec.preStartPath ?? '', String(Math.max(1, Math.ceil(spec.preStartTimeoutSeconds))), spec.preStartLogPath, spec.workDir, ...spec.command],
    // With uid and gid, libuv also drops every supplementary group before switching user.
    { cwd: spec.home, env: spec.env, detached: true, stdio: ['ignore', spec.logFd, spec.logFd], ...(spec.owner ?? {}) },
  );
  child.unref();
  return child;
}
