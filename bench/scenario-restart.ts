// How long until every desired-running workspace runs again after wsm restarts on a host that just
// rebooted (nothing of the workspaces runs any more): 10,000 workspaces on the no-op runtime (wsm's
// own cost: store, controller, restart policy, start limit) and 200 on the real Docker engine
// (containers stopped with the engine's stop while wsm was down). The clock runs from spawning the
// new server to the last workspace shown RUNNING with its restart counted; starts/s is the workspaces
// over that time; the peak is the most starts at once, bounded by WSM_MAX_CONCURRENT_STARTS.
import { setTimeout as sleep } from 'node:timers/promises';
import { notMeasured, type Row, type ScenarioReport } from './report.js';
import { seedWorkspaces } from './seed.js';
import { newDataDir, removeDataDir, spawnServer, type ServerHandle } from './server-handle.js';

const NOOP_COUNT = 10_000;
const DOCKER_COUNT = 200;
const LIMIT = 10;
const ENV = { WSM_RESYNC_SECONDS: '86400', WSM_CULLER_PERIOD_SECONDS: '86400', WSM_MAX_CONCURRENT_STARTS: String(LIMIT), WSM_ACTION_WAIT_MS: '0' };
const DEADLINE_MS = 15 * 60_000;

interface RestartFigures {
  runtime: string;
  workspaces: number;
  /** Spawn of the new server to every workspace running again. */
  seconds: number;
  startsPerSecond: number;
  peak: number;
  limit: number;
}

/** Waits until `count` workspaces run again with a restart counted; returns the server's start figures. */
async function untilRestarted(server: ServerHandle, count: number): Promise<Record<string, number>> {
  const until = Date.now() + DEADLINE_MS;
  for (;;) {
    await server.command('drain');
    const figures = await server.command('starts');
    if (figures.restarted! >= count) return figures;
    if (Date.now() > until) throw new Error(`only ${figures.restarted} of ${count} running again after ${DEADLINE_MS / 60_000} min`);
    await sleep(250);
  }
}

async function measure(runtime: string, count: number, spawn: () => Promise<ServerHandle>): Promise<RestartFigures> {
  const t0 = performance.now();
  const server = await spawn();
  try {
    const figures = await untilRestarted(server, count);
    const seconds = (performance.now() - t0) / 1000;
    return { runtime, workspaces: count, seconds, startsPerSecond: count / seconds, peak: figures.peak!, limit: figures.limit! };
  } finally {
    await server.close();
  }
}

async function noopRestart(): Promise<RestartFigures> {
  const dataDir = await newDataDir();
  try {
    await seedWorkspaces({ dataDir, count: NOOP_COUNT });
    return await measure('no-op', NOOP_COUNT, () => spawnServer({ dataDir, runtime: 'noop-rebooted', clusterType: 'local', env: ENV, logLevel: 'error' }));
  } finally {
    await removeDataDir(dataDir);
  }
}

async function dockerRestart(): Promise<RestartFigures> {
  const Docker = (await import('dockerode')).default;
  const client = new Docker();
  await client.ping();
  const dataDir = await newDataDir();
  const names = Array.from({ length: DOCKER_COUNT }, (_, i) => `bench-restart-${process.pid}-${i}`);
  try {
    const first = await spawnServer({ dataDir, runtime: 'engine', clusterType: 'docker', env: ENV, logLevel: 'error' });
    try {
      for (let i = 0; i < names.length; i += 10) {
        await Promise.all(names.slice(i, i + 10).map(async (name) => {
          const res = await fetch(`${first.url}/api/workspaces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'OAUTH-TOKEN': first.adminToken },
            body: JSON.stringify({ workspace: { name, cluster_type: 'docker', container_config: 'image: wsm-test/busybox:1\n' } }),
          });
          if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
        }));
      }
      await first.command('drain');
    } finally {
      await first.close();
    }
    // The reboot: every container stopped while no wsm runs.
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((name) => client.getContainer(`wsm-${name}`).stop({ t: 1 }).catch(() => undefined)));
    }
    return await measure('Docker', DOCKER_COUNT, () => spawnServer({ dataDir, runtime: 'engine', clusterType: 'docker', env: ENV, logLevel: 'error' }));
  } finally {
    for (const name of names) {
      await client.getContainer(`wsm-${name}`).remove({ force: true }).catch(() => undefined);
      await client.getVolume(`wsm-${name}-data`).remove().catch(() => undefined);
    }
    await removeDataDir(dataDir);
  }
}

function rows(f: RestartFigures): Row[] {
  const what = `${f.workspaces.toLocaleString('en')} on ${f.runtime}`;
  return [
    { measure: `${what}: running again after the restart`, figure: `${f.seconds.toFixed(1)} s` },
    { measure: `${what}: starts per second`, figure: `${f.startsPerSecond.toFixed(f.startsPerSecond < 10 ? 1 : 0)} /s` },
    { measure: `${what}: most starts at once`, figure: String(f.peak), target: `<= ${f.limit}`, pass: f.peak <= f.limit },
  ];
}

export async function restartScenario(): Promise<ScenarioReport> {
  const title = 'desired-running workspaces running again after a wsm restart on a rebooted host';
  const noop = await noopRestart();
  let docker: RestartFigures | undefined;
  let dockerMissing: string | undefined;
  try {
    docker = await dockerRestart();
  } catch (err) {
    dockerMissing = (err as Error).message;
  }
  const report: ScenarioReport = {
    name: 'restart',
    title,
    setup: [
      `${NOOP_COUNT.toLocaleString('en')} workspaces seeded into SQLite, desired running, on the no-op runtime started as after a reboot (nothing runs until wsm starts it);`,
      `${DOCKER_COUNT} Docker workspaces (wsm-test/busybox:1) made through the API, every container stopped with the engine's stop while wsm was down.`,
      `Timed from spawning the new server to the last workspace RUNNING with its restart counted. WSM_MAX_CONCURRENT_STARTS=${LIMIT}; resync and culler an hour off;`,
      'log level error (a warning per restart would print one line per workspace).',
      ...(dockerMissing ? [`Docker NOT MEASURED: ${dockerMissing}`] : []),
    ],
    rows: [...rows(noop), ...(docker ? rows(docker) : notMeasured('restart', title, dockerMissing ?? '', [`${DOCKER_COUNT} on Docker`]).rows)],
    figures: { noop, docker: docker ?? { notMeasured: dockerMissing } },
  };
  return report;
}
