// Spawns bench/server-process.ts and talks to it over IPC. The server runs as plain JavaScript bundled
// by esbuild (dependencies left in node_modules), as the product runs from its build, not under tsx:
// tsx alone would add over 100 MB of resident memory and its own start-up time to every figure.
import { fork, type ChildProcess } from 'node:child_process';
import { build } from 'esbuild';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerCommand, ServerProcessConfig } from './server-process.js';

export interface ServerHandle {
  url: string;
  /** The workspace proxy's base URL, when the server runs one (WSM_PROXY_PORT). */
  proxyUrl?: string;
  adminToken: string;
  /** Milliseconds from startServer() called to listening, measured inside the server process. */
  readyMs: number;
  /** Milliseconds from spawning the process to its ready message (includes loading Node and the modules). */
  spawnToReadyMs: number;
  rssMb: number;
  pid: number;
  command(cmd: ServerCommand['cmd'], count?: number): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const SOURCE = fileURLToPath(new URL('./server-process.ts', import.meta.url));
// Under bench/results/ (not committed), so that node_modules resolves from the bundle as from the source.
const BUNDLE_DIR = fileURLToPath(new URL('./results/.build/', import.meta.url));
const BUNDLE = `${BUNDLE_DIR}server-process.mjs`;
let bundled: Promise<unknown> | undefined;

function bundle(): Promise<unknown> {
  bundled ??= build({
    entryPoints: [SOURCE],
    outdir: BUNDLE_DIR,
    outExtension: { '.js': '.mjs' },
    // A module the product imports only when needed (the Kubernetes runtime and its client) stays a
    // chunk of its own, loaded as in the product; in one file its package imports would be hoisted and
    // loaded at start, adding ~40 MB to every memory figure.
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  return bundled;
}

export async function newDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'wsm-bench-'));
}

export async function spawnServer(
  options: Omit<ServerProcessConfig, 'adminToken' | 'logLevel'> & { logLevel?: string; execArgv?: string[] },
): Promise<ServerHandle> {
  const adminToken = `bench-${Math.random().toString(36).slice(2)}`;
  const config: ServerProcessConfig = { logLevel: 'warn', ...options, adminToken };
  await bundle();
  const t0 = performance.now();
  const child: ChildProcess = fork(BUNDLE, [], {
    // No --enable-source-maps: the product runs without it, and it keeps every source map in memory.
    execArgv: options.execArgv ?? [],
    env: { ...process.env, BENCH_SERVER: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (m: Record<string, number>) => void>();
  let nextId = 1;
  const ready = new Promise<{ url: string; proxyUrl?: string; readyMs: number; rssMb: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code} before it was ready`)));
    child.on('message', (m: any) => {
      if (m.type === 'ready') resolve(m);
      else waiting.get(m.id)?.(m);
    });
  });
  const first = await ready;
  const spawnToReadyMs = performance.now() - t0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const command = (cmd: ServerCommand['cmd'], count?: number) =>
    new Promise<Record<string, number>>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, (m) => {
        waiting.delete(id);
        if ('error' in m) reject(new Error(String(m.error)));
        else resolve(m);
      });
      child.send({ id, cmd, count });
    });
  return {
    ...first,
    adminToken,
    spawnToReadyMs,
    pid: child.pid!,
    command,
    async close() {
      if (child.exitCode === null) {
        await command('close').catch(() => child.kill());
        await exited;
      }
    },
  };
}

export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
