// Scenario 1: the HTTP API under load, 10,000 workspaces in SQLite (`api`) or in PostgreSQL (`api-pg`,
// a fresh schema on the server of BENCH_DATABASE_URL or /tmp/wsm-pg-url), the no-op runtime.
import { runLoad } from './load.js';
import { freshSchema, postgresUrl, type BenchSchema } from './postgres.js';
import type { LoadKind, LoadResult } from './load-process.js';
import { ms, notMeasured, type Row, type ScenarioReport } from './report.js';
import { seedWorkspaces } from './seed.js';
import { newDataDir, removeDataDir, spawnServer } from './server-handle.js';

const WORKSPACES = 10_000;
const CONNECTIONS = 50;

interface Case {
  kind: LoadKind;
  label: string;
  minRps?: number;
  maxP99?: number;
}

// The GET targets: ten times JupyterHub 3.0's hub API on the same kind of machine (940 req/s for one
// user, 210 for a list of 100), three times on PostgreSQL, whose server shares the two cores.
const CASES: Record<Database, Case[]> = {
  sqlite: [
    { kind: 'detail', label: 'GET /api/workspaces/{name}', minRps: 9400, maxP99: 15 },
    { kind: 'list', label: 'GET /api/workspaces?limit=100', minRps: 2100, maxP99: 30 },
    { kind: 'stop-resume', label: 'PUT stop/resume (1,000 ws)', minRps: 1500, maxP99: 50 },
    { kind: 'patch-env', label: 'PUT patch env (1,000 ws)', minRps: 1500, maxP99: 50 },
  ],
  postgres: [
    { kind: 'detail', label: 'GET /api/workspaces/{name}', minRps: 2820 },
    { kind: 'list', label: 'GET /api/workspaces?limit=100', minRps: 630 },
    { kind: 'stop-resume', label: 'PUT stop/resume (1,000 ws)' },
    { kind: 'patch-env', label: 'PUT patch env (1,000 ws)' },
  ],
};

export type Database = 'sqlite' | 'postgres';

export async function apiScenario(
  options: { database?: Database; seconds?: number; warmupSeconds?: number; cpuProf?: string; cases?: string[] } = {},
): Promise<ScenarioReport> {
  const database = options.database ?? 'sqlite';
  const name = database === 'sqlite' ? 'api' : 'api-pg';
  const title = `HTTP API under load (${database === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`;
  const seconds = options.seconds ?? 10;
  const warmup = options.warmupSeconds ?? 3;
  let schema: BenchSchema | undefined;
  if (database === 'postgres') {
    const found = await postgresUrl();
    if ('missing' in found) return notMeasured(name, title, found.missing, CASES.postgres.map((c) => c.label));
    schema = await freshSchema(found.url);
  }
  const dataDir = await newDataDir();
  try {
    return await measure({ ...options, database, name, title, seconds, warmup, dataDir, databaseUrl: schema?.url });
  } finally {
    await removeDataDir(dataDir);
    await schema?.drop();
  }
}

async function measure(options: {
  database: Database;
  name: string;
  title: string;
  seconds: number;
  warmup: number;
  dataDir: string;
  databaseUrl: string | undefined;
  cpuProf?: string;
  cases?: string[];
}): Promise<ScenarioReport> {
  const { seconds, warmup, dataDir, databaseUrl } = options;
  const seedMs = await seedWorkspaces({ dataDir, databaseUrl, count: WORKSPACES });
  const server = await spawnServer({
    dataDir,
    databaseUrl,
    runtime: 'noop',
    clusterType: 'local',
    // The periodic resync is measured in the scale scenario; here it would land inside a run.
    env: { WSM_RESYNC_SECONDS: '3600', WSM_ACTION_WAIT_MS: '30000' },
    // --expose-gc lets the rss command say how much of the memory a full collection gives back.
    execArgv: ['--expose-gc', ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...(options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProf}`] : [])],
  });
  const rows: Row[] = [];
  const figures: Record<string, LoadResult & { cpuPerRequestUs: number }> = {};
  let rssMb: number | undefined;
  try {
    await server.command('drain');
    for (const c of CASES[options.database].filter((x) => !options.cases || options.cases.includes(x.kind))) {
      const spec = { url: server.url, token: server.adminToken, kind: c.kind, connections: CONNECTIONS, workspaces: WORKSPACES };
      await runLoad({ ...spec, durationSeconds: warmup });
      const before = await server.command('drain');
      const r = await runLoad({ ...spec, durationSeconds: seconds });
      const after = await server.command('drain');
      // Less noisy than throughput on a shared machine: what each request cost the server in CPU time.
      const cpuPerRequestUs = ((after.cpuMs - before.cpuMs) * 1000) / Math.max(1, r.total);
      figures[c.kind] = { ...r, cpuPerRequestUs };
      const failures = r.errors + r.non2xx + r.timeouts;
      rows.push({ measure: `${c.label} req/s`, figure: r.requestsPerSecond.toFixed(0), target: c.minRps ? `>= ${c.minRps}` : undefined, pass: c.minRps ? r.requestsPerSecond >= c.minRps : undefined });
      rows.push({ measure: `  ${c.kind} latency p50`, figure: ms(r.p50) });
      rows.push({ measure: `  ${c.kind} latency p99`, figure: ms(r.p99), target: c.maxP99 ? `< ${c.maxP99} ms` : undefined, pass: c.maxP99 ? r.p99 < c.maxP99 : undefined });
      rows.push({ measure: `  ${c.kind} latency max`, figure: ms(r.max) });
      rows.push({ measure: `  ${c.kind} server CPU per request (all threads)`, figure: `${cpuPerRequestUs.toFixed(0)} µs` });
      rows.push({ measure: `  ${c.kind} errors (incl. non-2xx, timeouts)`, figure: String(failures), target: '0', pass: failures === 0 });
      rows.push({ measure: `  ${c.kind} server resident memory after it`, figure: `${after.rssMb} MB` });
    }
    // Every case read or wrote its workspaces: what the server holds with 10,000 of them in use.
    const memory = await server.command('rss');
    rssMb = memory.rssMb;
    rows.push({ measure: 'server resident memory after the runs', figure: `${rssMb} MB`, target: '< 250 MB', pass: rssMb !== undefined && rssMb < 250 });
    rows.push({ measure: '  of it V8 heap in use / reserved', figure: `${memory.heapUsedMb} / ${memory.heapTotalMb} MB` });
    rows.push({ measure: '  after a full collection: resident / heap in use', figure: `${memory.rssAfterGcMb} / ${memory.heapUsedAfterGcMb} MB` });
  } finally {
    await server.close();
  }
  const store = options.database === 'sqlite' ? 'SQLite' : 'PostgreSQL (a fresh schema, dropped afterwards; its server shares the cores)';
  return {
    name: options.name,
    title: options.title,
    setup: [
      `${WORKSPACES.toLocaleString('en')} workspaces seeded into ${store} in one transaction (${(seedMs / 1000).toFixed(1)} s), no-op runtime (control plane only),`,
      `server and autocannon each in their own process; ${CONNECTIONS} connections, ${warmup} s warm-up then ${seconds} s per case;`,
      'server log level warn, periodic resync off during runs (measured in "scale"); PUTs answer once the controller accepted the change.',
    ],
    rows,
    figures: { workspaces: WORKSPACES, connections: CONNECTIONS, seconds, seedMs, rssMb, ...figures },
  };
}
