// `npm run bench` runs every scenario; `npm run bench -- <scenario> ...` runs the named ones.
// BENCH_CPU_PROF=<dir> profiles the API scenarios' server (--cpu-prof); BENCH_CASES=detail,list picks their cases;
// BENCH_NODE_FLAGS="--flag ..." passes V8/Node flags to their server (A/B of a setting, side by side);
// BENCH_SIZES=1000,10000 the scale and idle scenarios' sizes (growth is reported only for three);
// BENCH_ROUNDS / BENCH_SECONDS the metrics scenario's A/B rounds (at least 5) and seconds per run.
// `api-pg` is the API scenario on PostgreSQL (BENCH_DATABASE_URL, else /tmp/wsm-pg-url; a fresh schema, dropped after);
// `ha`: replicas on PostgreSQL (failover, 3 replicas against 1); BENCH_FAILOVERS and BENCH_LEASE_SECONDS set its failovers and lease.
// BENCH_ENGINE_PAIRS sets the engine scenario's pairs per round (three rounds).
// The proxy scenario: BENCH_PROXY_SAMPLES interleaved requests, BENCH_SECONDS of load, BENCH_ROUNDS rounds, BENCH_PROXY_STARTS concurrent starts.
// Scenarios load lazily, so one can run while another's dependencies (Docker) are absent.
// Prints the machine, then a table per scenario, and writes the figures to bench/results/.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { formatReport, header, machine, type ScenarioReport } from './report.js';

const SCENARIOS: Record<string, () => Promise<ScenarioReport>> = {
  api: async () => (await import('./scenario-api.js')).apiScenario({ cpuProf: process.env.BENCH_CPU_PROF, cases: process.env.BENCH_CASES?.split(',') }),
  'api-pg': async () =>
    (await import('./scenario-api.js')).apiScenario({ database: 'postgres', cpuProf: process.env.BENCH_CPU_PROF, cases: process.env.BENCH_CASES?.split(',') }),
  engine: async () => (await import('./scenario-engine.js')).engineScenario(),
  fanout: async () => (await import('./scenario-fanout.js')).fanoutScenario(),
  scale: async () => (await import('./scenario-scale.js')).scaleScenario(process.env.BENCH_SIZES?.split(',').map(Number)),
  idle: async () => (await import('./scenario-idle.js')).idleScenario(process.env.BENCH_SIZES?.split(',').map(Number), Number(process.env.BENCH_SECONDS) || undefined),
  proxy: async () =>
    (await import('./scenario-proxy.js')).proxyScenario({
      samples: Number(process.env.BENCH_PROXY_SAMPLES) || undefined,
      seconds: Number(process.env.BENCH_SECONDS) || undefined,
      rounds: Number(process.env.BENCH_ROUNDS) || undefined,
      starts: Number(process.env.BENCH_PROXY_STARTS) || undefined,
    }),
  restart: async () => (await import('./scenario-restart.js')).restartScenario(),
  ha: async () =>
    (await import('./scenario-ha.js')).haScenario({
      seconds: Number(process.env.BENCH_SECONDS) || undefined,
      failovers: Number(process.env.BENCH_FAILOVERS) || undefined,
      leaseSeconds: Number(process.env.BENCH_LEASE_SECONDS) || undefined,
    }),
  metrics: async () => (await import('./scenario-metrics.js')).metricsScenario({ rounds: Number(process.env.BENCH_ROUNDS) || undefined, seconds: Number(process.env.BENCH_SECONDS) || undefined }),
};

const asked = process.argv.slice(2).filter((a) => a !== '--');
const unknown = asked.filter((a) => !(a in SCENARIOS));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}; choose from ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
const names = asked.length > 0 ? asked : Object.keys(SCENARIOS);
process.stdout.write(`${header()}\n`);
const reports: ScenarioReport[] = [];
for (const name of names) {
  const report = await SCENARIOS[name]!();
  reports.push(report);
  process.stdout.write(`${formatReport(report)}\n`);
}
const dir = fileURLToPath(new URL('./results/', import.meta.url));
await mkdir(dir, { recursive: true });
const file = `${dir}${new Date().toISOString().replace(/[:.]/g, '-')}-${names.join('-')}.json`;
await writeFile(file, `${JSON.stringify({ machine: machine(), scenarios: reports }, null, 2)}\n`);
process.stdout.write(`figures written to ${file}\n`);
const missed = reports.flatMap((r) => r.rows.filter((row) => row.pass === false).map((row) => `${r.name}: ${row.measure.trim()}`));
if (missed.length > 0) process.stdout.write(`${missed.length} target(s) missed:\n  ${missed.join('\n  ')}\n`);
