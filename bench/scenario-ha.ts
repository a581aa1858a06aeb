// Several replicas (`ha`): on one PostgreSQL, the time another replica takes to lead after the leader
// is killed (SIGKILL; median and worst), and API throughput of three replicas against one for GET one,
// list 100 and PUT; and one replica on SQLite against one on PostgreSQL for the same cases. The no-op
// runtime; every process (replicas, load generators, PostgreSQL) shares this machine's cores, so three
// replicas cannot do three times the work of one where the cores are already busy.
// BENCH_SECONDS per case (default 10), BENCH_FAILOVERS (default 10), BENCH_LEASE_SECONDS (default 10).
import { hostname } from 'node:os';
import pg from 'pg';
import { runLoad } from './load.js';
import { freshSchema, postgresUrl } from './postgres.js';
import type { LoadKind, LoadResult } from './load-process.js';
import { median, ms, notMeasured, type Row, type ScenarioReport } from './report.js';
import { seedWorkspaces } from './seed.js';
import { newDataDir, removeDataDir, spawnServer, type ServerHandle } from './server-handle.js';

const WORKSPACES = 1_000;
const CONNECTIONS = 48;
const CASES: { kind: LoadKind; label: string }[] = [
  { kind: 'detail', label: 'GET /api/workspaces/{name}' },
  { kind: 'list', label: 'GET /api/workspaces?limit=100' },
  { kind: 'stop-resume', label: 'PUT stop/resume' },
];

interface Throughput {
  rps: number;
  failures: number;
}

/** The same load spread evenly over the servers, each with its own load generator; the figures summed. */
async function load(servers: ServerHandle[], kind: LoadKind, seconds: number): Promise<Throughput> {
  const runs = (durationSeconds: number) =>
    Promise.all(servers.map((s) => runLoad({ url: s.url, token: s.adminToken, kind, connections: CONNECTIONS / servers.length, durationSeconds, workspaces: WORKSPACES })));
  await runs(Math.min(3, seconds));
  const results: LoadResult[] = await runs(seconds);
  return { rps: results.reduce((n, r) => n + r.requestsPerSecond, 0), failures: results.reduce((n, r) => n + r.errors + r.non2xx + r.timeouts, 0) };
}

export async function haScenario(options: { seconds?: number; failovers?: number; leaseSeconds?: number } = {}): Promise<ScenarioReport> {
  const name = 'ha';
  const title = 'Several replicas: failover, and throughput of 3 replicas against 1';
  const seconds = options.seconds ?? 10;
  const failovers = options.failovers ?? 10;
  const leaseSeconds = options.leaseSeconds ?? 10;
  const found = await postgresUrl();
  if ('missing' in found) return notMeasured(name, title, found.missing, ['failover', ...CASES.map((c) => c.label)]);
  const schema = await freshSchema(found.url);
  const pgDir = await newDataDir();
  const sqliteDir = await newDataDir();
  const servers: ServerHandle[] = [];
  const db = new pg.Pool({ connectionString: schema.url, max: 1 });
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  try {
    await seedWorkspaces({ dataDir: pgDir, databaseUrl: schema.url, count: WORKSPACES });
    await seedWorkspaces({ dataDir: sqliteDir, count: WORKSPACES });
    const env = { WSM_RESYNC_SECONDS: '3600', WSM_ACTION_WAIT_MS: '30000', WSM_LEADER_LEASE_SECONDS: String(leaseSeconds) };
    const replica = async () => {
      const s = await spawnServer({ dataDir: pgDir, databaseUrl: schema.url, runtime: 'noop', clusterType: 'local', env });
      servers.push(s);
      return s;
    };

    // One replica on SQLite, then one on PostgreSQL, then three on PostgreSQL.
    const sqlite = await spawnServer({ dataDir: sqliteDir, runtime: 'noop', clusterType: 'local', env });
    const single: Record<string, Throughput> = {};
    try {
      await sqlite.command('drain');
      for (const c of CASES) single[`sqlite-${c.kind}`] = await load([sqlite], c.kind, seconds);
    } finally {
      await sqlite.close();
    }
    const first = await replica();
    await first.command('drain');
    for (const c of CASES) single[`pg1-${c.kind}`] = await load([first], c.kind, seconds);
    await replica();
    await replica();
    for (const c of CASES) single[`pg3-${c.kind}`] = await load(servers, c.kind, seconds);
    for (const c of CASES) {
      const [s, one, three] = [single[`sqlite-${c.kind}`]!, single[`pg1-${c.kind}`]!, single[`pg3-${c.kind}`]!];
      rows.push({ measure: `${c.label} req/s: SQLite, 1 replica`, figure: s.rps.toFixed(0) });
      rows.push({ measure: `  PostgreSQL, 1 replica`, figure: one.rps.toFixed(0) });
      rows.push({ measure: `  PostgreSQL, 3 replicas`, figure: `${three.rps.toFixed(0)} (x${(three.rps / one.rps).toFixed(2)})` });
      const failures = s.failures + one.failures + three.failures;
      rows.push({ measure: `  errors (incl. non-2xx, timeouts)`, figure: String(failures), target: '0', pass: failures === 0 });
    }
    figures.throughput = single;

    // Failover: kill the leader, time until another replica holds the lease; a new replica joins after each.
    const holderPid = async () => {
      const { rows: lease } = await db.query<{ holder: string }>('select holder from wsm_leader_lease where expires_at > now()');
      const m = new RegExp(`^${hostname()}-(\\d+)-`).exec(lease[0]?.holder ?? '');
      return m ? Number(m[1]) : undefined;
    };
    const times: number[] = [];
    for (let i = 0; i < failovers; i++) {
      let leaderPid: number | undefined;
      while ((leaderPid = await holderPid()) === undefined) await new Promise((r) => setTimeout(r, 50));
      const leader = servers.find((s) => s.pid === leaderPid)!;
      const t0 = performance.now();
      process.kill(leader.pid, 'SIGKILL');
      servers.splice(servers.indexOf(leader), 1);
      for (;;) {
        const now = await holderPid();
        if (now !== undefined && now !== leaderPid) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      times.push(performance.now() - t0);
      await replica();
    }
    // The documented bound: the lease, plus one renewal period (a third of it) before a follower tries again.
    const boundMs = (leaseSeconds * 4000) / 3;
    const target = `<= ${(boundMs / 1000).toFixed(1)} s`;
    rows.push({ measure: `failover after SIGKILL of the leader (lease ${leaseSeconds} s), median of ${failovers}`, figure: ms(median(times)), target, pass: median(times) <= boundMs });
    rows.push({ measure: '  worst', figure: ms(Math.max(...times)), target, pass: Math.max(...times) <= boundMs });
    figures.failoverMs = times;
  } finally {
    for (const s of servers) await s.close().catch(() => {});
    await db.end();
    await schema.drop();
    await removeDataDir(pgDir);
    await removeDataDir(sqliteDir);
  }
  return {
    name,
    title,
    setup: [
      `${WORKSPACES.toLocaleString('en')} workspaces, no-op runtime; ${CONNECTIONS} connections in all, spread evenly over the replicas, each replica with its own load generator;`,
      `3 s warm-up then ${seconds} s per case. Replicas, load generators and PostgreSQL share this machine's cores: on 2 cores the`,
      'replicas compete for the same CPU, so 3 replicas show what the coordination costs, not what 3 machines would give.',
    ],
    rows,
    figures: { workspaces: WORKSPACES, connections: CONNECTIONS, seconds, leaseSeconds, ...figures },
  };
}
