// How a workspace process is started: its environment, working directory, config hash, and the small
// shell wrapper that records the exit code on disk (the control plane that reads it may not be the
// parent that started the process, so waitpid alone cannot tell it).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve } from 'node:path';
import { PermanentRuntimeError, type RuntimeWorkspace } from '../../core/runtime.js';

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

// $1 exit-code file, $2 pre-start script or "", then the command. Runs the command as a child (not exec)
// so the shell survives it to write the code; a stop by us kills the shell too, and is recorded as a stop
// in state.json, never read from here. Only shell builtins: the user's PATH may not hold coreutils.
const WRAPPER = [
  'f=$1; p=$2; shift 2',
  'if [ -n "$p" ]; then "$p"; c=$?; if [ $c -ne 0 ]; then',
  '  echo "wsm: pre-start script failed with code $c" >&2; echo "$c pre_start" > "$f"; exit $c; fi; fi',
  '"$@"; c=$?',
  'echo "$c main" > "$f"',
  'exit $c',
].join('\n');

export interface LaunchSpec {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  exitCodePath: string;
  preStartPath?: string;
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
    ['-c', WRAPPER, 'wsm-launch', spec.exitCodePath, spec.preStartPath ?? '', ...spec.command],
    { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', spec.logFd, spec.logFd] },
  );
  child.unref();
  return child;
}
