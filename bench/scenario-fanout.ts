// Scenario 3: fan-out. 50 stopped workspaces resumed at once through the API, against 50 raw
// containers of the same settings started at once with dockerode: the ratio of the wall times.
import { api, createWorkspace, deleteWorkspace, ENGINE_ENV, engineMissing, RawTwin, untilSettled } from './engine.js';
import { median, ms, notMeasured, type ScenarioReport } from './report.js';
import { newDataDir, removeDataDir, spawnServer, type ServerHandle } from './server-handle.js';

const COUNT = 50;
const ROUNDS = 3;
const TARGET = 1.15;

const names = (count: number) => Array.from({ length: count }, (_, i) => `bench-fan-${String(i).padStart(2, '0')}`);

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function wsmAll(server: ServerHandle, workspaces: string[], action: 'stop' | 'resume'): Promise<number> {
  const t0 = performance.now();
  await Promise.all(workspaces.map((n) => untilSettled(server, 'PUT', `/api/workspaces/${n}`, { workspace: { action } })));
  return performance.now() - t0;
}

async function rawAll(twins: RawTwin[], action: 'stop' | 'start'): Promise<number> {
  const t0 = performance.now();
  await Promise.all(twins.map((t) => (action === 'start' ? t.start() : t.stop())));
  return performance.now() - t0;
}

export async function fanoutScenario(count = COUNT, rounds = ROUNDS): Promise<ScenarioReport> {
  const title = `fan-out: ${count} workspaces resumed at once`;
  const missing = await engineMissing();
  if (missing) return notMeasured('fanout', title, missing, ['wall time ratio wsm / raw']);
  const dataDir = await newDataDir();
  const server = await spawnServer({ dataDir, runtime: 'engine', clusterType: 'docker', env: ENGINE_ENV });
  const workspaces = names(count);
  const twins: RawTwin[] = [];
  const wsm: number[] = [];
  const raw: number[] = [];
  try {
    // Setup, not measured: a few at a time, so it does not itself become a fan-out.
    await inBatches(workspaces, 5, (n) => createWorkspace(server, n));
    await inBatches(workspaces, 5, async (n) => twins.push(await RawTwin.of(n, n.replace('bench-fan', 'bench-rawfan'))));
    await wsmAll(server, workspaces, 'stop');
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        wsm.push(await wsmAll(server, workspaces, 'resume'));
        raw.push(await rawAll(twins, 'start'));
      } else {
        raw.push(await rawAll(twins, 'start'));
        wsm.push(await wsmAll(server, workspaces, 'resume'));
      }
      await wsmAll(server, workspaces, 'stop');
      await rawAll(twins, 'stop');
    }
    await api(server, 'GET', '/api/workspaces?limit=1');
  } finally {
    await inBatches(twins, 10, (t) => t.remove());
    await inBatches(workspaces, 10, (n) => deleteWorkspace(server, n));
    await server.command('drain').catch(() => undefined);
    await server.close();
    await removeDataDir(dataDir);
  }
  const w = median(wsm);
  const r = median(raw);
  return {
    name: 'fanout',
    title,
    setup: [
      `real Docker engine, image wsm-test/busybox:1; ${rounds} rounds, interleaved: ${count} PUT resume sent together, each until its operation settled,`,
      `against ${count} dockerode starts of twin containers issued together. The controller's default concurrency is used.`,
    ],
    rows: [
      { measure: `wsm: ${count} resumes, wall time (median)`, figure: ms(w) },
      { measure: `dockerode: ${count} starts, wall time (median)`, figure: ms(r) },
      { measure: 'ratio wsm / raw', figure: (w / r).toFixed(2), target: `<= ${TARGET.toFixed(2)}`, pass: w / r <= TARGET },
    ],
    figures: { count, rounds, wsmMs: wsm, rawMs: raw, wsmMedianMs: w, rawMedianMs: r, ratio: w / r },
  };
}
