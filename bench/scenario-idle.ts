// What an idle server costs: N local workspaces desired stopped whose directories do not exist (the
// local runtime reports them "not created", so they never settle) on the real local runtime. After
// the start-up pass, nothing is asked for a while; the server's CPU time over that while, as a share
// of one core, is the figure. Target: under 5 % of a core, flat in the number of workspaces.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Row, ScenarioReport } from './report.js';
import { seedWorkspaces } from './seed.js';
import { newDataDir, removeDataDir, spawnServer } from './server-handle.js';

const SIZES = [1_000, 10_000];
const IDLE_SECONDS = 30;
// Past the time the unsettled backoff takes to reach its cap (60 s): what is measured is the steady state.
const SETTLE_MS = 130_000;

interface IdleFigures {
  workspaces: number;
  startupPassMs: number;
  idleSeconds: number;
  /** CPU time over the idle window / wall time, in % of one core. */
  idleCpuPercent: number;
}

async function measure(count: number, seconds: number): Promise<IdleFigures> {
  const dataDir = await newDataDir();
  try {
    await seedWorkspaces({ dataDir, count, stopped: true });
    const server = await spawnServer({ dataDir, runtime: 'engine', clusterType: 'local', env: { WSM_RESYNC_SECONDS: '86400', WSM_CULLER_PERIOD_SECONDS: '86400' } });
    try {
      const pass = await server.command('drain');
      // The first retries of the unsettled workspaces are part of settling in, not of idling.
      await sleep(SETTLE_MS);
      const before = await server.command('rss');
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const after = await server.command('rss');
      const wallMs = performance.now() - t0;
      return { workspaces: count, startupPassMs: pass.ms!, idleSeconds: wallMs / 1000, idleCpuPercent: ((after.cpuMs! - before.cpuMs!) / wallMs) * 100 };
    } finally {
      await server.close();
    }
  } finally {
    await removeDataDir(dataDir);
  }
}

export async function idleScenario(sizes = SIZES, seconds = IDLE_SECONDS): Promise<ScenarioReport> {
  const figures: IdleFigures[] = [];
  for (const size of sizes) figures.push(await measure(size, seconds));
  const rows: Row[] = figures.map((f) => ({
    measure: `${f.workspaces.toLocaleString('en')} stopped, never settling: idle CPU over ${f.idleSeconds.toFixed(0)} s`,
    figure: `${f.idleCpuPercent.toFixed(2)} % of a core`,
    target: '< 5 %',
    pass: f.idleCpuPercent < 5,
  }));
  return {
    name: 'idle',
    title: 'what an idle server costs with many workspaces that cannot settle',
    setup: [
      `${sizes.map((s) => s.toLocaleString('en')).join(' / ')} local workspaces seeded into SQLite, desired stopped, their directories absent (each reconcile finds them "not created"),`,
      'the real local runtime, server in its own process; resync and culler timers an hour off. CPU is the server process\'s (user + system) over the idle window, after 130 s of settling in (the unsettled backoff reaches its cap).',
    ],
    rows,
    figures: { sizes: figures },
  };
}
