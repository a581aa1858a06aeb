// Scenario: the workspace proxy and what a woken user waits for (issue 20).
// - Proxy overhead: the same page of a running local workspace, directly (its instance.ip) and through
//   the proxy, interleaved request by request (added p50/p99), then each side under load (throughput ratio).
// - Cold start: a stopped workspace woken by one request through the proxy against a plain resume (PUT
//   until settled, then until the workspace answers), on local and Docker.
// - Start and stop of one local workspace, and 50 concurrent starts, against plain spawns of the same
//   command on the same machine (the floor), with the JupyterHub figures of the issue as targets.
import { api, CONTAINER_CONFIG, ENGINE_ENV, engineMissing, untilSettled } from './engine.js';
import { readFile } from 'node:fs/promises';
import { runLoad } from './load.js';
import type { LoadSpec } from './load-process.js';
import { median, ms, notMeasured, type Row, type ScenarioReport } from './report.js';
import { newDataDir, removeDataDir, spawnServer, type ServerHandle } from './server-handle.js';
import { bareNodeProxy, nginxProxy, type ReferenceProxy } from './reference-proxies.js';
import { directUrl, freePort, LOCAL_CONFIG, plainSpawn, plainStop, untilAnswers } from './workspace-http.js';

const SUFFIX = Math.random().toString(36).slice(2, 8);
const TARGETS = { addedP50Ms: 1, throughputRatio: 0.8, coldOverheadMs: 100, startMs: 133, stopMs: 86, concurrentRatio: 1.2 };

export interface ProxyBenchOptions {
  /** Interleaved direct/proxy requests for the latency figures. */
  samples?: number;
  /** Seconds of load per side for throughput. */
  seconds?: number;
  /** Stop/start rounds for the cold-start and start/stop figures. */
  rounds?: number;
  /** Workspaces started at once (the 50). */
  starts?: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function get(url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  if (res.status !== 200 && res.status !== 404) throw new Error(`${url}: ${res.status}`);
}

/** CPU time (ms) the processes have used so far, from /proc (user + system, in clock ticks of 10 ms). */
async function cpuMsOf(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    total += (Number(fields[11]) + Number(fields[12])) * 10;
  }
  return total;
}

/** Each reference proxy in front of the workspace under the same load: its share of direct and its CPU per request. */
async function referenceShares(direct: string, load: Omit<LoadSpec, 'url'>, directRps: number, rows: Row[]) {
  const shares: Record<string, { rps: number; share: number; cpuPerRequestUs: number } | string> = {};
  const kinds: [string, () => Promise<ReferenceProxy | undefined>][] = [
    ['a bare Node proxy (undici, nothing else)', () => bareNodeProxy(direct)],
    ['nginx (one worker, keep-alive upstream)', () => nginxProxy(direct)],
  ];
  for (const [label, start] of kinds) {
    const proxy = await start();
    if (!proxy) {
      shares[label] = 'not installed';
      rows.push({ measure: `  ${label}, share of direct`, figure: 'not measured: nginx is not installed (apt-get install nginx-light)' });
      continue;
    }
    try {
      const before = await cpuMsOf(proxy.pids);
      const r = await runLoad({ ...load, url: `${proxy.url}/` });
      const cpuPerRequestUs = ((await cpuMsOf(proxy.pids)) - before) * 1000 / Math.max(1, r.total);
      shares[label] = { rps: r.requestsPerSecond, share: r.requestsPerSecond / directRps, cpuPerRequestUs };
      rows.push({ measure: `  ${label}, share of direct`, figure: `${((r.requestsPerSecond / directRps) * 100).toFixed(0)} % (${r.requestsPerSecond.toFixed(0)} req/s, ${cpuPerRequestUs.toFixed(0)} µs CPU a request)` });
    } finally {
      await proxy.close();
    }
  }
  return shares;
}

async function proxiedServer(clusterType: 'local' | 'docker'): Promise<{ server: ServerHandle; dataDir: string; proxyUrl: string }> {
  const dataDir = await newDataDir();
  const server = await spawnServer({ dataDir, runtime: 'engine', clusterType, env: { ...ENGINE_ENV, WSM_PROXY_PORT: '0', WSM_MAX_CONCURRENT_STARTS: process.env.WSM_MAX_CONCURRENT_STARTS ?? '10' } });
  if (!server.proxyUrl) throw new Error('the bench server runs no proxy');
  return { server, dataDir, proxyUrl: server.proxyUrl };
}

async function createAnswering(server: ServerHandle, name: string, clusterType: string, containerConfig: string): Promise<void> {
  await api(server, 'POST', '/api/workspaces', { workspace: { name, cluster_type: clusterType, container_config: containerConfig, lifecycle_config: { wake_on_request: true } } });
  await untilAnswers(await untilAddress(server, name));
}

async function untilAddress(server: ServerHandle, name: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ws = (await api(server, 'GET', `/api/workspaces/${name}`)).workspace;
    if (ws.instance?.status === 'RUNNING' && ws.instance.ip) return `http://${ws.instance.ip}/`;
    if (Date.now() > deadline) throw new Error(`${name} did not run within 60 s (${ws.instance?.status})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Plain resume (until it answers) and wake through the proxy (one request, held), alternating. */
async function coldStarts(server: ServerHandle, proxyUrl: string, name: string, rounds: number) {
  const path = `/api/workspaces/${name}`;
  const token = { 'OAUTH-TOKEN': server.adminToken };
  const resume: number[] = [];
  const wake: number[] = [];
  const stop: number[] = [];
  for (let i = 0; i < rounds; i++) {
    stop.push(await timed(() => untilSettled(server, 'PUT', path, { workspace: { action: 'stop' } })));
    resume.push(await timed(async () => {
      await untilSettled(server, 'PUT', path, { workspace: { action: 'resume' } });
      await untilAnswers(await directUrl(server, name));
    }));
    await untilSettled(server, 'PUT', path, { workspace: { action: 'stop' } });
    wake.push(await timed(() => get(`${proxyUrl}/${name}/`, token)));
  }
  return { resume, wake, stop };
}

export async function proxyScenario(o: ProxyBenchOptions = {}): Promise<ScenarioReport> {
  const samples = o.samples ?? 2000;
  const seconds = o.seconds ?? 10;
  const rounds = o.rounds ?? 10;
  const starts = o.starts ?? 50;
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { samples, seconds, rounds, starts };
  const name = `bench-px-${SUFFIX}`;
  const local = await proxiedServer('local');
  try {
    await createAnswering(local.server, name, 'local', LOCAL_CONFIG);
    const token = { 'OAUTH-TOKEN': local.server.adminToken };
    const direct = await directUrl(local.server, name);
    const proxied = `${local.proxyUrl}/${name}/`;
    // Latency, request by request, the two sides alternating so drift hits both alike.
    const d: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < samples; i++) {
      d.push(await timed(() => get(direct, token)));
      p.push(await timed(() => get(proxied, token)));
    }
    const added = { p50: percentile(p, 50) - percentile(d, 50), p99: percentile(p, 99) - percentile(d, 99) };
    figures.latency = { direct: { p50: percentile(d, 50), p99: percentile(d, 99) }, proxy: { p50: percentile(p, 50), p99: percentile(p, 99) }, added };
    rows.push({ measure: 'request latency direct / proxy, p50', figure: `${ms(percentile(d, 50))} / ${ms(percentile(p, 50))}` });
    rows.push({ measure: 'added by the proxy, p50', figure: ms(added.p50), target: `<= ${TARGETS.addedP50Ms} ms`, pass: added.p50 <= TARGETS.addedP50Ms });
    rows.push({ measure: 'added by the proxy, p99', figure: ms(added.p99) });
    // Throughput: each side under the same load, from a process of its own.
    const load = { token: local.server.adminToken, kind: 'plain' as const, connections: 10, durationSeconds: seconds, workspaces: 0 };
    const directLoad = await runLoad({ ...load, url: direct });
    const before = await local.server.command('drain');
    const proxyLoad = await runLoad({ ...load, url: proxied });
    const after = await local.server.command('drain');
    const ratio = proxyLoad.requestsPerSecond / directLoad.requestsPerSecond;
    const cpuPerRequestUs = ((after.cpuMs! - before.cpuMs!) * 1000) / Math.max(1, proxyLoad.total);
    figures.throughput = { direct: directLoad, proxy: proxyLoad, ratio, cpuPerRequestUs };
    rows.push({ measure: 'throughput direct / proxy, a bare "ok" page (10 connections)', figure: `${directLoad.requestsPerSecond.toFixed(0)} / ${proxyLoad.requestsPerSecond.toFixed(0)} req/s` });
    rows.push({ measure: 'proxy throughput, share of direct, a bare "ok" page', figure: `${(ratio * 100).toFixed(0)} %` });
    rows.push({ measure: '  wsm server CPU per proxied request', figure: `${cpuPerRequestUs.toFixed(0)} µs` });
    // What forwarding alone leaves of a bare page's throughput here: proxies that only forward, same load.
    figures.referenceProxies = await referenceShares(direct, load, directLoad.requestsPerSecond, rows);
    // The target is judged on a page that takes 1 ms of the workspace's CPU, the least a real page costs:
    // against a bare Node "ok" server on the same 2 cores even a Node proxy that only forwards stays
    // far below 80 % (nginx, in C, can reach it: the rows above).
    const busyDirect = await runLoad({ ...load, url: `${direct}?work=1` });
    const busyProxy = await runLoad({ ...load, url: `${proxied}?work=1` });
    const busyRatio = busyProxy.requestsPerSecond / busyDirect.requestsPerSecond;
    figures.throughputBusyPage = { direct: busyDirect, proxy: busyProxy, ratio: busyRatio };
    rows.push({ measure: 'throughput direct / proxy, a page of 1 ms of work', figure: `${busyDirect.requestsPerSecond.toFixed(0)} / ${busyProxy.requestsPerSecond.toFixed(0)} req/s` });
    rows.push({ measure: 'proxy throughput, share of direct, a page of 1 ms of work', figure: `${(busyRatio * 100).toFixed(0)} %`, target: `>= ${TARGETS.throughputRatio * 100} %`, pass: busyRatio >= TARGETS.throughputRatio });

    // Cold start, one start and one stop on local, against plain spawns of the same command.
    const cold = await coldStarts(local.server, local.proxyUrl, name, rounds);
    const plain = { start: [] as number[], stop: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const port = await freePort();
      const t0 = performance.now();
      const child = await plainSpawn(port);
      plain.start.push(performance.now() - t0);
      plain.stop.push(await timed(() => plainStop(child)));
    }
    figures.local = { ...cold, plain };
    const overhead = median(cold.wake) - median(cold.resume);
    rows.push({ measure: 'local: wake through the proxy / plain resume, median', figure: `${ms(median(cold.wake))} / ${ms(median(cold.resume))}` });
    rows.push({ measure: 'local: cold-start overhead of wake-on-request', figure: ms(overhead), target: `<= ${TARGETS.coldOverheadMs} ms`, pass: overhead <= TARGETS.coldOverheadMs });
    rows.push({ measure: 'local: one start (resume until it answers), median', figure: ms(median(cold.resume)), target: `<= ${TARGETS.startMs} ms`, pass: median(cold.resume) <= TARGETS.startMs });
    rows.push({ measure: 'local: one stop, median', figure: ms(median(cold.stop)), target: `<= ${TARGETS.stopMs} ms`, pass: median(cold.stop) <= TARGETS.stopMs });
    rows.push({ measure: 'plain spawn until it answers / plain stop, median', figure: `${ms(median(plain.start))} / ${ms(median(plain.stop))}` });

    // Concurrent starts: `starts` stopped workspaces resumed at once, until each answers; then the same count of plain spawns.
    const many = Array.from({ length: starts }, (_, i) => `bench-pxc-${SUFFIX}-${i}`);
    await Promise.all(many.map((w) => createAnswering(local.server, w, 'local', LOCAL_CONFIG)));
    await Promise.all(many.map((w) => untilSettled(local.server, 'PUT', `/api/workspaces/${w}`, { workspace: { action: 'stop' } })));
    const wsmAll = await timed(() =>
      Promise.all(many.map(async (w) => {
        await untilSettled(local.server, 'PUT', `/api/workspaces/${w}`, { workspace: { action: 'resume' } });
        await untilAnswers(await directUrl(local.server, w));
      })),
    );
    const ports = await Promise.all(many.map(() => freePort()));
    let children: Awaited<ReturnType<typeof plainSpawn>>[] = [];
    const plainAll = await timed(async () => {
      children = await Promise.all(ports.map((port) => plainSpawn(port)));
    });
    await Promise.all(children.map((c) => plainStop(c)));
    await Promise.all(many.map((w) => api(local.server, 'DELETE', `/api/workspaces/${w}?delete_volume=true`)));
    const concurrentRatio = wsmAll / plainAll;
    figures.concurrent = { wsmMs: wsmAll, plainMs: plainAll, ratio: concurrentRatio };
    rows.push({ measure: `local: ${starts} concurrent starts / ${starts} plain spawns`, figure: `${ms(wsmAll)} / ${ms(plainAll)}` });
    rows.push({ measure: `local: ${starts} concurrent starts, ratio to plain spawns`, figure: concurrentRatio.toFixed(2), target: `<= ${TARGETS.concurrentRatio}`, pass: concurrentRatio <= TARGETS.concurrentRatio });
  } finally {
    await api(local.server, 'DELETE', `/api/workspaces/${name}?delete_volume=true`).catch(() => undefined);
    await local.server.command('drain').catch(() => undefined);
    await local.server.close();
    await removeDataDir(local.dataDir);
  }

  const missing = await engineMissing();
  if (missing) {
    rows.push(...notMeasured('proxy', '', missing, ['docker: cold-start overhead of wake-on-request']).rows);
  } else {
    const docker = await proxiedServer('docker');
    const dname = `bench-pxd-${SUFFIX}`;
    try {
      await createAnswering(docker.server, dname, 'docker', CONTAINER_CONFIG);
      const cold = await coldStarts(docker.server, docker.proxyUrl, dname, Math.max(3, Math.round(rounds / 2)));
      const overhead = median(cold.wake) - median(cold.resume);
      figures.docker = cold;
      rows.push({ measure: 'docker: wake through the proxy / plain resume, median', figure: `${ms(median(cold.wake))} / ${ms(median(cold.resume))}` });
      rows.push({ measure: 'docker: cold-start overhead of wake-on-request', figure: ms(overhead), target: `<= ${TARGETS.coldOverheadMs} ms`, pass: overhead <= TARGETS.coldOverheadMs });
    } finally {
      await api(docker.server, 'DELETE', `/api/workspaces/${dname}?delete_volume=true`).catch(() => undefined);
      await docker.server.command('drain').catch(() => undefined);
      await docker.server.close();
      await removeDataDir(docker.dataDir);
    }
  }
  return {
    name: 'proxy',
    title: 'workspace proxy overhead, wake-on-request cold start, start/stop latency',
    setup: [
      `a local workspace running a Node HTTP server ("ok"); ${samples} interleaved direct/proxy requests, then ${seconds} s of load per side (10 connections);`,
      `${rounds} stop/resume and stop/wake rounds (Docker: image wsm-test/busybox:1, httpd); ${starts} concurrent starts (WSM_MAX_CONCURRENT_STARTS=${process.env.WSM_MAX_CONCURRENT_STARTS ?? '10'});`,
      'targets: the issue\'s (JupyterHub 3.0.0: one start 133 ms, one stop 86 ms); the plain spawn is this machine\'s floor, measured in the same run.',
    ],
    rows,
    figures,
  };
}
