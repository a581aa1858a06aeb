// The server under test, in its own process (so load generation never shares its event loop).
// Started by the scenarios with IPC; reports when ready, then answers commands: drain (wait until the
// controller is idle), resync (one full pass: queue every workspace and wait until all are reconciled),
// cull (one idle-culler pass, including the stops it decides), age (make the first `count` workspaces
// idle for a day: setup, not measured), rss, starts (the start limit's peak), close. BENCH_SERVER (JSON) says where the data is and whether to inject the no-op runtime.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { resolveServeConfig } from '../src/cli/config.js';
import { startServer } from '../src/cli/serve.js';
import type { Runtime } from '../src/core/runtime.js';
import type { ClusterType } from '../src/core/types.js';
import { NoopRuntime } from './noop-runtime.js';
import { benchName } from './seed.js';

export interface ServerProcessConfig {
  dataDir: string;
  /** A postgres:// URL for the store; SQLite in dataDir without it. */
  databaseUrl?: string;
  /** noop-rebooted: the no-op runtime on a host just rebooted (nothing runs until started again). */
  runtime: 'noop' | 'noop-rebooted' | 'engine';
  clusterType: ClusterType;
  adminToken: string;
  logLevel: string;
  env?: Record<string, string>;
}

export type ServerCommand = { id: number; cmd: 'drain' | 'resync' | 'cull' | 'age' | 'rss' | 'starts' | 'close'; count?: number };

const spec = JSON.parse(process.env.BENCH_SERVER ?? '{}') as ServerProcessConfig;
const send = (message: object) => process.send?.(message);
const mb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
// CPU time of the whole process (every thread) so far: the server's cost, whatever else the machine runs.
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
// The longest time the event loop could not run (answer HTTP requests, say) during a command.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
// Read after a timer has run: a stall is recorded by the sampling timer that fires once it ends.
const stallMs = async () => {
  await new Promise((resolve) => setTimeout(resolve, 30));
  return loopDelay.max / 1e6;
};

const started = performance.now();
const config = resolveServeConfig(
  { host: '127.0.0.1', port: '0', dataDir: spec.dataDir, databaseUrl: spec.databaseUrl, clusterType: spec.clusterType, logLevel: spec.logLevel },
  { ...process.env, WSM_ADMIN_TOKEN: spec.adminToken, ...spec.env },
);
const runtimes = spec.runtime === 'engine' ? undefined : new Map<ClusterType, Runtime>([[spec.clusterType, new NoopRuntime(spec.clusterType, spec.runtime === 'noop-rebooted')]]);
const server = await startServer(config, { runtimes, logger: pino({ level: spec.logLevel }) });
send({ type: 'ready', url: server.url, proxyUrl: server.proxy?.addressing.baseUrl, readyMs: performance.now() - started, rssMb: mb() });

process.on('message', (message: ServerCommand) => {
  void (async () => {
    const t0 = performance.now();
    loopDelay.reset();
    switch (message.cmd) {
      case 'drain':
        // With PostgreSQL the leader's own controller reconciles (its first term resyncs every workspace).
        await server.controller.drained();
        await server.reconciler()?.drained();
        break;
      case 'resync': {
        const count = await server.controller.resync();
        const queuedMs = performance.now() - t0;
        await server.controller.drained();
        const ms = performance.now() - t0;
        send({ id: message.id, ms, queuedMs, count, rssMb: mb(), stallMs: await stallMs() });
        return;
      }
      case 'cull': {
        const summary = await server.culler.pass();
        await server.controller.drained();
        const ms = performance.now() - t0;
        send({ id: message.id, ms, running: summary.running, checked: summary.checked, stopped: summary.stopped.length, rssMb: mb(), stallMs: await stallMs() });
        return;
      }
      case 'age': {
        const at = new Date(Date.now() - 86_400_000).toISOString();
        await server.store.transaction(async (tx) => {
          for (let i = 0; i < (message.count ?? 0); i++) await tx.setActivity(benchName(i), { last_activity_at: at, last_activity_source: 'api' });
        });
        break;
      }
      case 'rss': {
        // Resident memory, and what of it is V8's heap and what stays once a full collection ran.
        const before = process.memoryUsage();
        (globalThis as { gc?: () => void }).gc?.();
        const after = process.memoryUsage();
        const m = (n: number) => Math.round(n / 1024 / 1024);
        send({ id: message.id, rssMb: m(before.rss), heapUsedMb: m(before.heapUsed), heapTotalMb: m(before.heapTotal), externalMb: m(before.external), arrayBuffersMb: m(before.arrayBuffers), rssAfterGcMb: m(after.rss), heapUsedAfterGcMb: m(after.heapUsed), heapTotalAfterGcMb: m(after.heapTotal) });
        return;
      }
      case 'starts': {
        // The start limit's figures so far (the most starts at once, and the limit), and how many
        // workspaces run again after a restart this server made (RUNNING, restart counted).
        const stats = server.controller.startStats();
        let restarted = 0;
        for (let offset = 0; ; offset += 1000) {
          const page = await server.store.listWorkspaces({ limit: 1000, offset });
          restarted += page.workspaces.filter((ws) => ws.observed.status === 'RUNNING' && (ws.observed.restarts?.count ?? 0) > 0).length;
          if (offset + page.workspaces.length >= page.total || page.workspaces.length === 0) break;
        }
        send({ id: message.id, ms: performance.now() - t0, peak: stats.peak, limit: stats.limit, restarted });
        return;
      }
      case 'close':
        await server.close();
        send({ id: message.id, ms: performance.now() - t0 });
        process.exit(0);
    }
    send({ id: message.id, ms: performance.now() - t0, rssMb: mb(), cpuMs: cpuMs() });
  })().catch((err) => send({ id: message.id, error: String(err) }));
});
