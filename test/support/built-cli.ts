// The `wsm` command as users run it: bin/wsm.js over the compiled dist/, one plain `node` process per
// command (no TypeScript loader), so a CLI test costs what the command costs. `npm ci` builds dist/
// (prepare); when a source file is newer than the build, the build is run once first, under a lock
// that test files running at the same time share.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WSM_BIN = join(ROOT, 'bin', 'wsm.js');
const BUILT_MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const LOCK = join(ROOT, '.wsm-test-build.lock');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const builtAt = () => statSync(BUILT_MAIN, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const stale = () => builtAt() < newestMtime(join(ROOT, 'src'));

let checked = false;

/** Builds dist/ when it is missing or older than src/. */
export function ensureBuilt(): void {
  if (checked) return;
  const until = Date.now() + 300_000;
  while (stale()) {
    try {
      mkdirSync(LOCK);
    } catch {
      // Another test file is building: wait for it, then look again.
      if (Date.now() > until) throw new Error(`${LOCK} has been held for 5 minutes; remove it if no build runs`);
      spawnSync('sleep', ['0.5']);
      continue;
    }
    try {
      if (!stale()) break;
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
    } finally {
      rmdirSync(LOCK);
    }
  }
  checked = true;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Written to the command's standard input. */
  input?: string;
  cwd?: string;
}

/** The environment of a child: the test's, with `undefined` removing a variable. */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return merged as NodeJS.ProcessEnv;
}

/** Runs one `wsm` command to its end. */
export function runWsm(args: string[], options: RunOptions = {}): Promise<Run> {
  ensureBuilt();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [WSM_BIN, ...args], { env: childEnv(options.env ?? {}), cwd: options.cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}

/** A `wsm` command that runs on (watch, serve): its output so far, and a way to wait for some. */
export interface LongRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (from character `from` on) matches, or fails after `timeoutMs` with what it printed. */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  /** The same for stderr. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function startWsm(args: string[], options: RunOptions = {}): LongRun {
  ensureBuilt();
  const child = spawn(process.execPath, [WSM_BIN, ...args], { env: childEnv(options.env ?? {}), cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of [...waiters]) w();
  });
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 20_000, from = 0) {
      return waitIn(() => out.slice(from), pattern, timeoutMs);
    },
    waitForStderr(pattern, timeoutMs = 20_000) {
      return waitIn(() => err, pattern, timeoutMs);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };

  function waitIn(text: () => string, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = text().match(pattern);
        if (!m) return;
        cleanup();
        resolve(m);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${pattern} in the output of wsm ${args.join(' ')} within ${timeoutMs} ms:\n${out}\nstderr:\n${err}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }
}

export interface ServeProcess {
  url: string;
  dataDir: string;
  run: LongRun;
  /** The owner token's secret from <data-dir>/owner-token (first start), when one was written. */
  ownerToken(): string;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

/** `wsm serve` as its own process on a free port, ready when this resolves. */
export async function startServeProcess(dataDir: string, env: Record<string, string | undefined> = {}, port = 0): Promise<ServeProcess> {
  const run = startWsm(['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--cluster-type', 'local'], {
    env: { WSM_ADMIN_TOKEN: undefined, WSM_STOP_GRACE_SECONDS: '2', WSM_LOG_LEVEL: 'info', ...env },
  });
  const [, url] = await run.waitFor(/"msg":"wsm is ready".*?"url":"([^"]+)"|"url":"([^"]+)".*?"msg":"wsm is ready"/, 60_000).then((m) => [m[0], m[1] ?? m[2]]);
  return {
    url: url!,
    dataDir,
    run,
    ownerToken: () => readFileSync(join(dataDir, 'owner-token'), 'utf8').trim(),
    async stop() {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM');
      return run.exited;
    },
  };
}

/** Deletes every workspace (volumes too) and waits until none is left, so no process outlives a test. */
export async function deleteAllWorkspaces(url: string, token: string): Promise<void> {
  const headers = { 'OAUTH-TOKEN': token };
  const list = async () => ((await (await fetch(`${url}/api/workspaces?limit=1000`, { headers })).json()) as { workspaces: { name: string }[] }).workspaces;
  for (const ws of await list()) await fetch(`${url}/api/workspaces/${ws.name}?delete_volume=true`, { method: 'DELETE', headers });
  const until = Date.now() + 60_000;
  while ((await list()).length > 0) {
    if (Date.now() > until) throw new Error('workspaces were still there a minute after their delete');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A loopback port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
