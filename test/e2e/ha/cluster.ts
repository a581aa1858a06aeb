// Several `wsm serve` processes on one PostgreSQL, each cluster in a schema of its own, for the tests of
// replicas. Who leads is read from the lease row. Everything a cluster started is stopped and removed
// by `cleanupClusters` (call it from an `after`).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { eventually } from '../../support/server.js';
import { killLocalInstances } from '../../support/local-instances.js';

export const ADMIN = 'ha-admin-token';
export const METRICS_TOKEN = 'ha-metrics-token';

const cleanups: (() => Promise<void>)[] = [];

export async function cleanupClusters(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Replica {
  child: ChildProcess;
  base: string;
}

export interface Cluster {
  replicas: Replica[];
  /** Connections to the cluster's schema (a pool: it outlives a restart of the database). */
  db: pg.Pool;
  /** The URL the replicas use (the cluster's schema on the search path). */
  url: string;
  /** The data dir the replicas share. */
  dataDir: string;
  /** The replica the lease row names, once one does. */
  leader(timeoutMs?: number): Promise<Replica>;
  /** Starts one more replica and waits until it answers. */
  start(): Promise<Replica>;
  /** Starts a replica again on the port it had (it must have exited). */
  restart(replica: Replica): Promise<Replica>;
}

export interface ClusterOptions {
  /** A postgres:// URL; the cluster makes its own schema in that database. */
  databaseUrl: string;
  size: number;
  leaseSeconds?: number;
  /** The recording runtime (test/support/recording-runtime.ts) in this directory instead of the local one. */
  recordingDir?: string;
  env?: Record<string, string>;
  /** Where each replica's log (stdout) goes, as <pid>.log; default: nowhere. */
  logDir?: string;
}

/**
 * The last `lines` entries of each replica's log in `logDir` (pino JSON, shortened; a run of the same
 * message is one entry with its count and first time), to explain a failure.
 */
export async function logExcerpt(logDir: string, lines = 25): Promise<string> {
  const parts: string[] = [];
  for (const file of (await readdir(logDir).catch(() => [])).sort()) {
    const text = await readFile(join(logDir, file), 'utf8').catch(() => '');
    const entries: { when: string; what: string; count: number }[] = [];
    for (const line of text.split('\n').filter(Boolean)) {
      let when = '';
      let what = line;
      try {
        const entry = JSON.parse(line) as { time?: number; msg?: string; err?: { message?: string } };
        when = entry.time === undefined ? '' : new Date(entry.time).toISOString().slice(11, 23);
        what = `${entry.msg ?? ''}${entry.err?.message ? ` (${entry.err.message})` : ''}`;
      } catch {
        // not JSON: shown as it is
      }
      const last = entries[entries.length - 1];
      if (last?.what === what) last.count += 1;
      else entries.push({ when, what, count: 1 });
    }
    const shown = entries.slice(-lines).map((e) => `${e.when} ${e.what}${e.count > 1 ? ` (×${e.count})` : ''}`.slice(0, 240));
    parts.push(`replica ${file}:\n  ${shown.join('\n  ')}`);
  }
  return parts.join('\n');
}

export function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (alive(child) ? child.once('exit', () => resolve()) : resolve()));
}

async function answers(base: string): Promise<boolean> {
  try {
    return (await fetch(`${base}/api/status`)).ok;
  } catch {
    return false;
  }
}

export async function cluster(options: ClusterOptions): Promise<Cluster> {
  const schema = `wsm_ha_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: options.databaseUrl, max: 1 });
  admin.on('error', () => {});
  await admin.query(`create schema ${schema}`);
  const url = new URL(options.databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const db = new pg.Pool({ connectionString: url.toString(), max: 2 });
  db.on('error', () => {});
  // The local runtime keeps its state in the data dir: replicas on one machine share it.
  const dataDir = await mkdtemp(join(tmpdir(), 'wsm-ha-'));
  const replicas: Replica[] = [];
  cleanups.push(async () => {
    for (const r of replicas) if (alive(r.child)) r.child.kill('SIGKILL');
    for (const r of replicas) if (r.child.signalCode === 'SIGSTOP') r.child.kill('SIGCONT');
    await Promise.all(replicas.map((r) => exited(r.child)));
    // Replicas killed with SIGKILL leave their local workspaces running: nothing of the test may outlive it.
    await killLocalInstances(dataDir, await readdir(join(dataDir, 'workspaces')).catch(() => []));
    await db.end().catch(() => {});
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  });
  const spawnOn = async (port: number): Promise<Replica> => {
    const entry = options.recordingDir ? ['test/e2e/ha/recording-replica.ts'] : ['src/cli/main.ts', 'serve', '--cluster-type', 'local'];
    const child = spawn(process.execPath, ['--import', 'tsx', ...entry], {
      env: {
        ...process.env,
        WSM_DATA_DIR: dataDir,
        WSM_PORT: String(port),
        WSM_DATABASE_URL: url.toString(),
        WSM_ADMIN_TOKEN: ADMIN,
        WSM_METRICS_TOKEN: METRICS_TOKEN,
        WSM_LOG_LEVEL: 'warn',
        WSM_LEADER_LEASE_SECONDS: String(options.leaseSeconds ?? 2),
        // No resync in a test's time: a follower's write must wake the leader through the feed.
        WSM_RESYNC_SECONDS: '86400',
        WSM_STOP_GRACE_SECONDS: '2',
        WSM_ACTION_WAIT_MS: '20000',
        ...(options.recordingDir ? { RECORDING_DIR: options.recordingDir } : {}),
        ...options.env,
      },
      stdio: ['ignore', options.logDir ? 'pipe' : 'ignore', 'inherit'],
    });
    if (options.logDir) child.stdout!.pipe(createWriteStream(join(options.logDir, `${child.pid}.log`)));
    const replica = { child, base: `http://127.0.0.1:${port}` };
    replicas.push(replica);
    await eventually(async () => {
      if (!alive(child)) throw new Error(`a replica exited at start (${child.exitCode ?? child.signalCode})`);
      return answers(replica.base);
    }, 60_000, 'a replica to be ready');
    return replica;
  };
  const start = async (): Promise<Replica> => {
    // A port found free can be taken by another process of this shared machine before the replica binds it.
    for (let attempt = 1; ; attempt++) {
      try {
        return await spawnOn(await freePort());
      } catch (err) {
        if (attempt === 3 || !String(err).includes('exited at start')) throw err;
        replicas.pop();
      }
    }
  };
  const restart = async (replica: Replica) => {
    replicas.splice(replicas.indexOf(replica), 1);
    return spawnOn(Number(new URL(replica.base).port));
  };
  for (let i = 0; i < options.size; i++) await start();
  const leader = (timeoutMs = 15_000) =>
    eventually(async () => {
      const { rows } = await db.query<{ holder: string }>('select holder from wsm_leader_lease where expires_at > now()');
      const holder = rows[0]?.holder;
      return replicas.find((r) => alive(r.child) && holder?.startsWith(`${hostname()}-${r.child.pid}-`));
    }, timeoutMs, 'a replica to hold the lease');
  return { replicas, db, url: url.toString(), dataDir, leader, start, restart };
}

/** wsm_leader and wsm_leader_term as the replica's metrics say. */
export async function leaderGauges(replica: Replica): Promise<{ leading: number; term: number }> {
  const text = await (await fetch(`${replica.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  return { leading: value('wsm_leader'), term: value('wsm_leader_term') };
}
