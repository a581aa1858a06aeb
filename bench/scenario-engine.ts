// Scenario 2: wsm's overhead over the raw engine. The same operation on containers of the same image
// and settings, through wsm (request until its operation settled) and directly with dockerode,
// interleaved A/B so that drift in the engine's speed hits both sides alike. Three rounds of pairs, each
// giving a ratio of medians; the figure held to the target is the median of the three rounds' ratios.
import { api, createWorkspace, deleteWorkspace, ENGINE_ENV, engineMissing, RawTwin, untilSettled } from './engine.js';
import { median, notMeasured, type Row, type ScenarioReport } from './report.js';
import { newDataDir, removeDataDir, spawnServer } from './server-handle.js';

const PAIRS = 10;
const ROUNDS = 3;
// Unique per run: the engine is shared with whatever else runs on this machine.
const SUFFIX = Math.random().toString(36).slice(2, 8);
const WORKSPACE = `bench-ab-${SUFFIX}`;
const TARGETS = { stop: 1.1, resume: 1.1, patch: 1.1 } as const;
type Op = keyof typeof TARGETS;

export async function engineScenario(pairs = Number(process.env.BENCH_ENGINE_PAIRS ?? PAIRS), rounds = ROUNDS): Promise<ScenarioReport> {
  const title = 'overhead over the raw Docker engine';
  const missing = await engineMissing();
  if (missing) return notMeasured('engine', title, missing, Object.keys(TARGETS));
  const dataDir = await newDataDir();
  const server = await spawnServer({ dataDir, runtime: 'engine', clusterType: 'docker', env: ENGINE_ENV });
  const times: Record<Op, { wsm: number[]; raw: number[] }> = { stop: { wsm: [], raw: [] }, resume: { wsm: [], raw: [] }, patch: { wsm: [], raw: [] } };
  const total = pairs * rounds;
  let raw: RawTwin | undefined;
  try {
    await createWorkspace(server, WORKSPACE);
    raw = await RawTwin.of(WORKSPACE, `bench-raw-ab-${SUFFIX}`);
    await raw.start();
    const path = `/api/workspaces/${WORKSPACE}`;
    const timed = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    for (let i = 0; i < total; i++) {
      const env = [`BENCH_ROUND=${i}`];
      const steps: Record<Op, { wsm: () => Promise<unknown>; raw: () => Promise<unknown> }> = {
        stop: { wsm: () => untilSettled(server, 'PUT', path, { workspace: { action: 'stop' } }), raw: () => raw!.stop() },
        resume: { wsm: () => untilSettled(server, 'PUT', path, { workspace: { action: 'resume' } }), raw: () => raw!.start() },
        patch: {
          wsm: () => untilSettled(server, 'PUT', path, { workspace: { action: 'patch', container_config: `env:\n  - name: BENCH_ROUND\n    value: "${i}"\n` } }),
          raw: () => raw!.recreate(env),
        },
      };
      for (const op of Object.keys(steps) as Op[]) {
        // Alternate which side goes first, so neither always runs on a just-warmed engine.
        if (i % 2 === 0) {
          times[op].wsm.push(await timed(steps[op].wsm));
          times[op].raw.push(await timed(steps[op].raw));
        } else {
          times[op].raw.push(await timed(steps[op].raw));
          times[op].wsm.push(await timed(steps[op].wsm));
        }
      }
    }
    await api(server, 'GET', path);
  } finally {
    await raw?.remove();
    await deleteWorkspace(server, WORKSPACE);
    await server.command('drain').catch(() => undefined);
    await server.close();
    await removeDataDir(dataDir);
  }
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { pairs, rounds };
  for (const op of Object.keys(TARGETS) as Op[]) {
    // Round r is pairs r*pairs .. (r+1)*pairs-1, in the order they ran.
    const perRound = Array.from({ length: rounds }, (_, r) => {
      const w = median(times[op].wsm.slice(r * pairs, (r + 1) * pairs));
      const raw = median(times[op].raw.slice(r * pairs, (r + 1) * pairs));
      return { wsmMedianMs: w, rawMedianMs: raw, ratio: w / raw };
    });
    const ratio = median(perRound.map((x) => x.ratio));
    figures[op] = { ratio, rounds: perRound, wsmMs: times[op].wsm, rawMs: times[op].raw };
    const label = op === 'resume' ? 'resume (start)' : op === 'patch' ? 'patch (recreate)' : op;
    rows.push({ measure: `${label}: wsm / dockerode medians per round`, figure: perRound.map((x) => `${x.wsmMedianMs.toFixed(0)}/${x.rawMedianMs.toFixed(0)} ms`).join(', ') });
    rows.push({ measure: `${label}: ratio per round`, figure: perRound.map((x) => x.ratio.toFixed(2)).join(' / ') });
    rows.push({ measure: `${label}: median of the ${rounds} ratios`, figure: ratio.toFixed(2), target: `<= ${TARGETS[op].toFixed(2)}`, pass: ratio <= TARGETS[op] });
  }
  return {
    name: 'engine',
    title,
    setup: [
      `real Docker engine, image wsm-test/busybox:1 (a shell that exits on SIGTERM, serving /home/src), stop grace ${ENGINE_ENV.WSM_STOP_GRACE_SECONDS} s on both sides;`,
      `${rounds} rounds of ${pairs} interleaved pairs per operation; wsm: the PUT until its operation settled; raw: the same engine calls made directly with dockerode;`,
      `workspace ${WORKSPACE}, raw twin bench-raw-ab-${SUFFIX} (removed afterwards).`,
    ],
    rows,
    figures,
  };
}
