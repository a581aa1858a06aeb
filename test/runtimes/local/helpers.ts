// Shared pieces of the local runtime tests: workspaces, a tiny HTTP server to run, waiting, cleanup.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeWorkspace } from '../../../src/core/runtime.js';
import type { ContainerConfig, EnvVar } from '../../../src/core/types.js';
import { groupIsOurs } from '../../../src/runtimes/local/procfs.js';

/** Serves GET / with a greeting and GET /<file> with that file from its cwd; records each start. */
const SERVER = `
import http from 'node:http';
import fs from 'node:fs';
fs.appendFileSync('starts.log', process.pid + '\\n');
fs.writeFileSync('env.json', JSON.stringify({ env: process.env, cwd: process.cwd(), pid: process.pid }));
http.createServer((req, res) => {
  const file = req.url.slice(1);
  if (!file) return res.end('hello from ' + process.env.WSM_WORKSPACE);
  try { res.end(fs.readFileSync(file)); } catch { res.statusCode = 404; res.end('missing'); }
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

export interface Sandbox {
  root: string;
  serverScript: string;
  cleanup(): void;
}

export function sandbox(): Sandbox {
  const base = mkdtempSync(join(tmpdir(), 'wsm-local-'));
  const root = join(base, 'workspaces');
  const serverScript = join(base, 'server.mjs');
  writeFileSync(serverScript, SERVER);
  return {
    root,
    serverScript,
    cleanup() {
      killEverything(root);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export function workspace(
  name: string,
  container: ContainerConfig,
  extra: Partial<Omit<RuntimeWorkspace, 'container'>> = {},
): RuntimeWorkspace {
  return {
    name,
    generation: 1,
    desired: 'running',
    container,
    image: 'none',
    env: [] as EnvVar[],
    lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 } },
    storage: {
      access_mode: 'ReadWriteOnce',
      request_size: '1Gi',
      retention_policy: 'Retain',
      mount_path: '/home/src',
    },
    ingress: { enabled: false },
    hooks: {},
    ...extra,
  };
}

export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.text() };
}

/** Whether a pid is a live process (a zombie counts as gone). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function readJson<T = any>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** SIGKILLs every process group a state.json under root names, so no test leaves processes behind. */
export function killEverything(root: string): void {
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const state = readJson<{ pgid?: number; start_ticks?: string }>(join(root, name, 'state.json'));
    if (!state?.pgid || !groupIsOurs(state.pgid, state.start_ticks)) continue;
    try {
      process.kill(-state.pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
