// Scenario 4: how start-up, a full resync and an idle-culler pass grow with the number of workspaces.
import { ms, type Row, type ScenarioReport } from './report.js';
import { seedWorkspaces } from './seed.js';
import { newDataDir, removeDataDir, spawnServer } from './server-handle.js';

const SIZES = [1_000, 10_000, 100_000];

interface SizeFigures {
  workspaces: number;
  seedMs: number;
  readyMs: number;
  spawnToReadyMs: number;
  rssReadyMb: number;
  convergeMs: number;
  rssConvergedMb: number;
  resyncMs: number;
  resyncStallMs: number;
  rssResyncMb: number;
  cullNoneMs: number;
  cullNoneStallMs: number;
  cullNoneRunning: number;
  rssCullNoneMb: number;
  cullDueMs: number;
  cullDueStopped: number;
  rssCullDueMb: number;
}

async function measure(count: number): Promise<SizeFigures> {
  const dataDir = await newDataDir();
  try {
    const seedMs = await seedWorkspaces({ dataDir, count, maxIdleSeconds: 3600 });
    const server = await spawnServer({
      dataDir,
      runtime: 'noop',
      clusterType: 'local',
      // Passes run when the scenario asks, not on the timers.
      env: { WSM_RESYNC_SECONDS: '86400', WSM_CULLER_PERIOD_SECONDS: '86400' },
    });
    try {
      const converged = await server.command('drain');
      const resync = await server.command('resync');
      const none = await server.command('cull');
      await server.command('age', count / 100);
      const due = await server.command('cull');
      return {
        workspaces: count,
        seedMs,
        readyMs: server.readyMs,
        spawnToReadyMs: server.spawnToReadyMs,
        rssReadyMb: server.rssMb,
        convergeMs: converged.ms!,
        rssConvergedMb: converged.rssMb!,
        resyncMs: resync.ms!,
        resyncStallMs: resync.stallMs!,
        rssResyncMb: resync.rssMb!,
        cullNoneMs: none.ms!,
        cullNoneStallMs: none.stallMs!,
        cullNoneRunning: none.running!,
        rssCullNoneMb: none.rssMb!,
        cullDueMs: due.ms!,
        cullDueStopped: due.stopped!,
        rssCullDueMb: due.rssMb!,
      };
    } finally {
      await server.close();
    }
  } finally {
    await removeDataDir(dataDir);
  }
}

/** Growth from the middle size to the largest, relative to linear (1.0 = linear; allow 30% noise). */
function growth(figures: SizeFigures[], pick: (f: SizeFigures) => number): number {
  const mid = figures[1]!;
  const top = figures[2]!;
  return pick(top) / pick(mid) / (top.workspaces / mid.workspaces);
}

export async function scaleScenario(sizes = SIZES): Promise<ScenarioReport> {
  const figures: SizeFigures[] = [];
  for (const size of sizes) figures.push(await measure(size));
  const rows: Row[] = [];
  for (const f of figures) {
    const n = f.workspaces.toLocaleString('en');
    const at10k = f.workspaces === 10_000;
    rows.push({ measure: `${n}: ready (startServer to listening)`, figure: ms(f.readyMs), target: at10k ? '< 2000 ms' : undefined, pass: at10k ? f.readyMs < 2000 : undefined });
    rows.push({ measure: `${n}:   process spawn to ready`, figure: ms(f.spawnToReadyMs) });
    rows.push({ measure: `${n}:   RSS when ready`, figure: `${f.rssReadyMb} MB` });
    rows.push({ measure: `${n}: start-up reconcile of all, until idle`, figure: ms(f.convergeMs) });
    rows.push({ measure: `${n}: one full resync pass (all reconciled)`, figure: ms(f.resyncMs) });
    rows.push({ measure: `${n}:   longest event-loop stall in it`, figure: ms(f.resyncStallMs) });
    rows.push({ measure: `${n}:   RSS after resync`, figure: `${f.rssResyncMb} MB`, target: at10k ? '< 250 MB' : undefined, pass: at10k ? f.rssResyncMb < 250 : undefined });
    rows.push({ measure: `${n}: culler pass, none due`, figure: ms(f.cullNoneMs), target: at10k ? '< 100 ms' : undefined, pass: at10k ? f.cullNoneMs < 100 : undefined });
    rows.push({ measure: `${n}:   longest event-loop stall in it`, figure: ms(f.cullNoneStallMs) });
    rows.push({ measure: `${n}: culler pass, 1% due (${f.cullDueStopped} stopped)`, figure: ms(f.cullDueMs), target: at10k ? '< 100 ms' : undefined, pass: at10k ? f.cullDueMs < 100 : undefined });
    rows.push({ measure: `${n}:   RSS after culler passes`, figure: `${f.rssCullDueMb} MB`, target: at10k ? '< 250 MB' : undefined, pass: at10k ? f.rssCullDueMb < 250 : undefined });
  }
  if (figures.length === 3) {
    const linear = (label: string, pick: (f: SizeFigures) => number) => {
      const g = growth(figures, pick);
      rows.push({ measure: `growth 10k -> 100k, ${label} (1.00 = linear)`, figure: g.toFixed(2), target: '<= 1.30', pass: g <= 1.3 });
    };
    linear('ready', (f) => f.readyMs);
    linear('resync pass', (f) => f.resyncMs);
    linear('culler pass, none due', (f) => f.cullNoneMs);
    linear('culler pass, 1% due', (f) => f.cullDueMs);
  }
  return {
    name: 'scale',
    title: 'start-up, resync and idle culler against the number of workspaces',
    setup: [
      `${sizes.map((s) => s.toLocaleString('en')).join(' / ')} workspaces seeded into SQLite (desired running, observed RUNNING, auto-termination after 1 h),`,
      'no-op runtime (control plane only), server in its own process, log level warn; RSS is the server process\'s resident memory.',
      'A resync pass queues every workspace and waits until each has been reconciled; a culler pass includes the stops it decides.',
      'Event-loop stall: the longest time the server could not answer requests while the pass ran (perf_hooks monitorEventLoopDelay).',
    ],
    rows,
    figures: { sizes: figures },
  };
}
