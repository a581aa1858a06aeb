// The cost of metrics: GET one workspace and PUT stop/resume throughput while Prometheus scrapes
// /metrics every second (B) against the same load without scraping (A), on one server, in interleaved
// A/B pairs (the order alternates per round, so drift in a shared machine's load falls on both), the
// median of each side over the rounds. The instrumentation itself is always on: this measures what a
// scraper adds on top, store counts and per-workspace labels off.
import { runLoad } from './load.js';
import type { LoadKind } from './load-process.js';
import { median, type Row, type ScenarioReport } from './report.js';
import { seedWorkspaces } from './seed.js';
import { newDataDir, removeDataDir, spawnServer } from './server-handle.js';

const WORKSPACES = 10_000;
const CONNECTIONS = 50;
const TOKEN = 'bench-metrics-token-0123456789abcdef';
const KINDS: { kind: LoadKind; label: string }[] = [
  { kind: 'detail', label: 'GET /api/workspaces/{name}' },
  { kind: 'stop-resume', label: 'PUT stop/resume (1,000 ws)' },
];
/** The bound on what scraping may cost. */
const MAX_COST_PERCENT = 5;

/** Scrapes /metrics every second until stopped; returns how many scrapes answered 200. */
function scrapeEverySecond(url: string): () => Promise<{ scrapes: number; failed: number }> {
  let scrapes = 0;
  let failed = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then(
      async (res) => {
        await res.text();
        if (res.status === 200) scrapes++;
        else failed++;
      },
      () => void failed++,
    );
  }, 1000);
  return async () => {
    clearInterval(timer);
    await inFlight;
    return { scrapes, failed };
  };
}

/** The server's CPU time for one scrape with nothing else running: 20 scrapes in a row, three times, the median. */
async function cpuPerScrape(server: Awaited<ReturnType<typeof spawnServer>>): Promise<number> {
  const perScrape: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = await server.command('drain');
    for (let n = 0; n < 20; n++) await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const after = await server.command('drain');
    perScrape.push((after.cpuMs - before.cpuMs) / 20);
  }
  return median(perScrape);
}

export async function metricsScenario(options: { rounds?: number; seconds?: number } = {}): Promise<ScenarioReport> {
  const rounds = Math.max(5, options.rounds ?? 7);
  const seconds = options.seconds ?? 5;
  const dataDir = await newDataDir();
  await seedWorkspaces({ dataDir, count: WORKSPACES });
  const server = await spawnServer({
    dataDir,
    runtime: 'noop',
    clusterType: 'local',
    env: { WSM_RESYNC_SECONDS: '3600', WSM_ACTION_WAIT_MS: '30000', WSM_METRICS_TOKEN: TOKEN },
  });
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { workspaces: WORKSPACES, connections: CONNECTIONS, seconds, rounds };
  try {
    await server.command('drain');
    const scrapeCpuMs = await cpuPerScrape(server);
    figures.scrapeCpuMs = scrapeCpuMs;
    rows.push({ measure: 'server CPU of one scrape, measured alone (median of 3 x 20)', figure: `${scrapeCpuMs.toFixed(1)} ms` });
    for (const { kind, label } of KINDS) {
      const spec = { url: server.url, token: server.adminToken, kind, connections: CONNECTIONS, workspaces: WORKSPACES };
      await runLoad({ ...spec, durationSeconds: 2 });
      const plain: number[] = [];
      const scraped: number[] = [];
      const plainCpu: number[] = [];
      const scrapedCpu: number[] = [];
      let scrapes = 0;
      let failures = 0;
      for (let round = 0; round < rounds; round++) {
        for (const withScrapes of round % 2 === 0 ? [false, true] : [true, false]) {
          const before = await server.command('drain');
          const stop = withScrapes ? scrapeEverySecond(server.url) : undefined;
          const r = await runLoad({ ...spec, durationSeconds: seconds });
          const s = await stop?.();
          const after = await server.command('drain');
          // The server's CPU time per request served, scrapes included: what scraping costs the server,
          // steadier than throughput, which on a shared machine moves with whatever else runs.
          (withScrapes ? scrapedCpu : plainCpu).push(((after.cpuMs - before.cpuMs) * 1000) / Math.max(1, r.total));
          scrapes += s?.scrapes ?? 0;
          failures += (s?.failed ?? 0) + r.errors + r.non2xx + r.timeouts;
          (withScrapes ? scraped : plain).push(r.requestsPerSecond);
        }
      }
      const a = median(plain);
      const b = median(scraped);
      const cost = ((a - b) / a) * 100;
      const cpuA = median(plainCpu);
      const cpuB = median(scrapedCpu);
      const cpuCost = ((cpuB - cpuA) / cpuA) * 100;
      figures[kind] = { plain, scraped, medianPlain: a, medianScraped: b, costPercent: cost, plainCpu, scrapedCpu, cpuCostPercent: cpuCost, scrapes };
      rows.push({ measure: `${label} req/s, no scraping (median of ${rounds})`, figure: a.toFixed(0) });
      rows.push({ measure: `${label} req/s, scraped every second`, figure: b.toFixed(0) });
      // What one scrape a second is of the server's CPU at this load: the steady cross-check of the A/B figures.
      const share = (scrapeCpuMs / ((cpuA * a) / 1000)) * 100;
      figures[kind] = { ...(figures[kind] as object), scrapeSharePercent: share };
      rows.push({ measure: `  ${kind}: throughput lost to scraping`, figure: `${cost.toFixed(1)} %`, target: `< ${MAX_COST_PERCENT} %`, pass: cost < MAX_COST_PERCENT });
      rows.push({ measure: `  ${kind}: server CPU per request, no scraping / scraped`, figure: `${cpuA.toFixed(0)} / ${cpuB.toFixed(0)} µs (${cpuCost >= 0 ? '+' : ''}${cpuCost.toFixed(1)} %)` });
      rows.push({ measure: `  ${kind}: one scrape a second as a share of the server's CPU at this load`, figure: `${share.toFixed(1)} %`, target: `< ${MAX_COST_PERCENT} %`, pass: share < MAX_COST_PERCENT });
      rows.push({ measure: `  ${kind}: scrapes answered / failures (incl. non-2xx)`, figure: `${scrapes} / ${failures}`, target: '0 failures', pass: failures === 0 && scrapes > 0 });
    }
  } finally {
    await server.close();
    await removeDataDir(dataDir);
  }
  return {
    name: 'metrics',
    title: 'Cost of Prometheus scraping',
    setup: [
      `${WORKSPACES.toLocaleString('en')} workspaces in SQLite, no-op runtime; ${CONNECTIONS} connections, ${seconds} s per run;`,
      `${rounds} rounds of one run without and one with a scrape of /metrics every second, the order alternating per round; medians compared.`,
      'On a shared 2-core machine the load generator and other processes move throughput by more than the effect: the CPU',
      'time of one scrape measured alone, as a share of the CPU the server spends per second at each load, is the steady cross-check.',
    ],
    rows,
    figures,
  };
}
