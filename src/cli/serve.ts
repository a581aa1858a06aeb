// `wsm serve`: opens the store, picks the runtimes, starts the controller and the HTTP server, and
// gives the routes the use cases (app) they call.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { WorkspaceActions } from '../app/workspace-actions.js';
import type { EngineDryRun } from '../app/engine-check.js';
import type { Runtime } from '../core/runtime.js';
import type { ClusterType } from '../core/types.js';
import { Controller } from '../controller/controller.js';
import { Culler } from '../controller/culler.js';
import { Scheduler } from '../controller/scheduler.js';
import { DormancyKeeper } from '../controller/dormancy.js';
import { probeSettingsFromEnv } from '../controller/probe.js';
import { DockerRuntime, dockerOptionsFromEnv } from '../runtimes/docker/index.js';
import { limitHeapGrowth } from './heap-growth.js';
import { LocalRuntime } from '../runtimes/local/index.js';
import { isPostgresUrl, openStore, type Store } from '../store/index.js';
import { PostgresLease } from '../store/leader-lease.js';
import { Leadership, SoleLease, timingsFor } from '../controller/leadership.js';
import { defineLeadershipGauges } from '../metrics/leadership.js';
import { leaderDuties, withoutChanges } from './leader-duties.js';
import { claimSqliteFile } from './sqlite-owner.js';
import { buildApp } from '../server/app.js';
import { Authenticator } from '../server/auth.js';
import { startIdempotencyCleanup } from '../server/idempotency.js';
import type { ServeConfig } from './config.js';
import { ensureOwnerToken } from './first-run.js';
import { localIsolation, protectDataDir, protectStoreFiles, sqliteFiles, type LocalIsolation } from './local-isolation.js';
import { VERSION } from './version.js';
import { ReadinessChecker, WsmMetrics } from '../metrics/index.js';
import { startMetricsListener, type MetricsListener } from '../server/metrics-listener.js';
import { ProxyTickets } from '../proxy/sessions.js';
import { startProxyServer, type ProxyServer } from '../proxy/server.js';
import { ProxyAddressing } from '../proxy/addressing.js';
import { apiOriginServer } from '../proxy/api-origin.js';
import { proxyBaseUrl } from './proxy-config.js';
import { upstreamsByClusterType, type UpstreamOf } from '../proxy/upstream.js';
import type { KubeTls } from '../proxy/kube-upstream.js';

/** How often schedules are looked at: their times are whole minutes. */
const SCHEDULE_PERIOD_MS = 20_000;
/** How often dormant workspaces are looked for: dormancy is counted in days. */
const DORMANCY_PERIOD_MS = 3_600_000;
/** How often idempotency keys past their retention are removed. */
const IDEMPOTENCY_CLEANUP_INTERVAL_MS = 3_600_000;
/** How long a patch's dry run waits for an engine's own check before answering without it. */
const DRY_RUN_TIMEOUT_MS = 15_000;
/** With one process the lease is never contested: a long one, so a stalled event loop never ends it. */
const SOLE_LEASE_MS = 2_000_000_000;

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  store: Store;
  controller: Controller;
  /** The use cases behind the requests (how many wait for their operation: `actions.waiting`). */
  actions: WorkspaceActions;
  /** The idle culler (auto-termination) of a single process; with PostgreSQL each term has its own. */
  culler: Culler;
  /** The schedules (lifecycle_config.schedule) of a single process; with PostgreSQL each term has its own. */
  scheduler: Scheduler;
  /** Warns of and deletes dormant workspaces (single process; with PostgreSQL each term has its own). */
  dormancy: DormancyKeeper;
  /** Whether this replica leads, and in which term. */
  leadership: Leadership;
  /**
   * The controller that reconciles workspaces now: `controller` with SQLite, the current term's with
   * PostgreSQL (the serving one only answers requests there); undefined while this replica does not lead.
   */
  reconciler(): Controller | undefined;
  /** This server's metrics (its own registry). */
  metrics: WsmMetrics;
  /** The separate metrics port's URL, when --metrics-port is set. */
  metricsUrl?: string;
  /** Set on the first start: the file the new owner token's secret was written to. */
  ownerTokenFile?: string;
  /** The workspace proxy, when --proxy-port is set. */
  proxy?: ProxyServer;
  /**
   * The first step of a graceful shutdown (SIGTERM): readiness says draining, so load balancers stop
   * sending requests here; leadership is handed over at once; requests that still arrive are served
   * for `delayMs` (the time a balancer takes to notice). close() then finishes those in flight.
   */
  drain(delayMs: number): Promise<void>;
  /** Stops accepting requests, finishes those in flight, and leaves workspaces running. */
  close(): Promise<void>;
}

/** How long an engine that does not answer at start-up is waited for before wsm runs without it. */
const ENGINE_PROBE_MS = 5_000;

async function dockerAnswers(runtime: DockerRuntime): Promise<boolean> {
  try {
    // Listing our containers is the cheapest call that proves the engine answers.
    await runtime.listInstances(AbortSignal.timeout(ENGINE_PROBE_MS));
    return true;
  } catch {
    return false;
  }
}

/** A patch's dry run also asks the engines that can check a change themselves (Kubernetes), with the workspace as the controller would hand it over. */
function engineDryRuns(runtimes: Map<ClusterType, Runtime>, controller: Controller): Partial<Record<ClusterType, EngineDryRun>> {
  const checks: Partial<Record<ClusterType, EngineDryRun>> = {};
  const bounded = (signal: AbortSignal | undefined) => (signal ? AbortSignal.any([signal, AbortSignal.timeout(DRY_RUN_TIMEOUT_MS)]) : AbortSignal.timeout(DRY_RUN_TIMEOUT_MS));
  for (const [type, runtime] of runtimes) {
    if (!runtime.dryRunApply) continue;
    checks[type] = async (ws, signal) => runtime.dryRunApply!(await controller.toRuntimeWorkspace(ws), bounded(signal));
  }
  return checks;
}

/** The runtimes this server offers: the configured (or detected) default first. */
async function createRuntimes(config: ServeConfig, installation: string, isolation: LocalIsolation, logger: Logger): Promise<Map<ClusterType, Runtime>> {
  const runtimes = new Map<ClusterType, Runtime>();
  const docker = new DockerRuntime({
    ...dockerOptionsFromEnv(),
    installation,
    hostAddress: config.publishAddress,
    stopGraceSeconds: config.stopGraceSeconds,
    preStartTimeoutSeconds: config.preStartTimeoutSeconds,
    allowedBindRoots: config.dockerAllowedBindRoots,
    logger: logger.child({ runtime: 'docker' }),
  });
  const dockerUp = config.clusterType === 'docker' || (await dockerAnswers(docker));
  const wantK8s = config.clusterType === 'k8s' || Boolean(config.kubeconfig) || Boolean(process.env.KUBERNETES_SERVICE_HOST);
  const local = () =>
    new LocalRuntime({
      rootDir: join(config.dataDir, 'workspaces'),
      stopGraceMs: config.stopGraceSeconds * 1000,
      preStartTimeoutMs: config.preStartTimeoutSeconds * 1000,
      uidRange: isolation.uidRange,
      logger: logger.child({ runtime: 'local' }),
    });
  // Loaded only where Kubernetes is configured: its client alone costs about 80 MB of memory.
  const k8s = async () => {
    const { KubernetesRuntime } = await import('../runtimes/kubernetes/index.js');
    return new KubernetesRuntime({
      kubeconfigPath: config.kubeconfig,
      context: config.kubeContext,
      namespace: config.kubeNamespace,
      ingressName: config.ingressName,
      ingressClassName: config.ingressClass,
      ingressPathType: config.ingressPathType,
      serviceType: config.serviceType,
      preStartTimeoutSeconds: config.preStartTimeoutSeconds,
      postStartTimeoutSeconds: config.postStartTimeoutSeconds,
      installation,
      logger: logger.child({ runtime: 'k8s' }),
    });
  };
  const first: ClusterType = config.clusterType ?? (dockerUp ? 'docker' : 'local');
  const make: Record<ClusterType, () => Runtime | Promise<Runtime>> = { local, docker: () => docker, k8s };
  runtimes.set(first, await make[first]());
  if (!runtimes.has('local')) runtimes.set('local', local());
  if (dockerUp && !runtimes.has('docker')) runtimes.set('docker', docker);
  if (wantK8s && !runtimes.has('k8s')) runtimes.set('k8s', await k8s());
  if (!runtimes.has('docker')) await docker.close();
  return runtimes;
}

/**
 * The id labelled on everything this installation creates: made at first start and kept in the store
 * (every replica and restart has the same), unless the configuration names one.
 */
async function installationOf(store: Store, config: ServeConfig, logger: Logger): Promise<string> {
  const stored = await store.installationId(config.installationId ?? randomBytes(6).toString('hex'));
  if (config.installationId !== undefined && config.installationId !== stored) {
    logger.warn({ configured: config.installationId, stored }, 'the configured installation id differs from the stored one: objects labelled with the stored id are left alone');
  }
  return config.installationId ?? stored;
}

export interface StartOptions {
  logger?: Logger;
  /** Runtimes to use instead of those the config selects (benchmarks inject one that does nothing). */
  runtimes?: Map<ClusterType, Runtime>;
  /** The user wsm counts as running as (tests of the non-root set-up pass one; default: the real one). */
  serverUid?: number;
  /**
   * Whether this replica exports the series read from the store and the controller's queue (the
   * leader's job once there are several replicas); default: always.
   */
  reportsStoreSeries?: () => boolean;
  /** The clock of the culler, the schedules and dormancy (tests move it instead of waiting); default Date.now. */
  clock?: () => number;
}

export async function startServer(config: ServeConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'wsm' } });
  limitHeapGrowth(config.heapGrowingPercent);
  await mkdir(config.dataDir, { recursive: true });
  await mkdir(config.hooksDir, { recursive: true });
  const isolation = await localIsolation(config, options.serverUid ?? process.getuid?.() ?? -1);
  for (const warning of isolation.warnings) logger.warn({ runtime: 'local' }, warning);
  await protectDataDir(config, isolation.uidRange !== undefined);
  const sqlite = sqliteFiles(config.dataDir);
  // Before the store is opened: a second process must change nothing, not even migrate.
  const releaseSqlite = isPostgresUrl(config.databaseUrl) ? async () => {} : await claimSqliteFile(sqlite.path);
  const store = await openStore({ sqlitePath: sqlite.path, databaseUrl: config.databaseUrl, logger });
  // Opening made the -wal and -shm files; SQLite gave them the main file's mode, this makes sure of it.
  if (!config.databaseUrl) await protectStoreFiles(sqlite.all);
  const installation = await installationOf(store, config, logger);
  // Before listening: once the server answers, the file is there to read.
  const ownerTokenFile = await ensureOwnerToken(store, config.dataDir, Boolean(config.adminToken));
  const engines = options.runtimes ?? (await createRuntimes(config, installation, isolation, logger));
  const sole = !isPostgresUrl(config.databaseUrl);
  // Set below; the metrics only read it at a scrape.
  let leadership: Leadership | undefined;
  const metrics = new WsmMetrics({
    store,
    version: VERSION,
    clusterTypes: [...engines.keys()],
    workspaceLabels: config.metrics.workspaceLabels,
    reportsStoreSeries: options.reportsStoreSeries ?? (() => leadership?.leading ?? false),
  });
  const runtimes = metrics.instrument(engines);
  const readiness = new ReadinessChecker(store, engines);
  metrics.watchReadiness(readiness);
  const makeController = (over: Store, with_: typeof runtimes) =>
    new Controller(over, with_, logger.child({ component: 'controller' }), {
      observer: metrics.controllerObserver(),
      hooksDir: config.hooksDir,
      resyncIntervalMs: config.resyncSeconds * 1000,
      maxConcurrentStarts: config.maxConcurrentStarts,
      postStartTimeoutMs: config.postStartTimeoutSeconds * 1000,
      defaultImage: config.defaultImage,
      restartTiming: {
        initialMs: config.restartBackoff.initialSeconds * 1000,
        maxMs: config.restartBackoff.maxSeconds * 1000,
        resetAfterMs: config.restartBackoff.resetSeconds * 1000,
      },
    });
  // With PostgreSQL this one only serves requests; each term of leadership reconciles with its own.
  const controller = makeController(sole ? store : withoutChanges(store), runtimes);
  let reconciling: Controller | undefined;
  metrics.watchQueue(() => (reconciling ?? controller).queueStats());
  metrics.watchStarts(() => (reconciling ?? controller).startStats());
  const actions = new WorkspaceActions(store, controller.activity, {
    clusterTypes: controller.clusterTypes,
    ingressClusterTypes: controller.ingressClusterTypes,
    hooksDir: config.hooksDir,
    actionWaitMs: config.actionWaitMs,
    defaultImage: config.defaultImage,
    allowedBindRoots: config.dockerAllowedBindRoots,
    localIsolated: isolation.uidRange !== undefined,
    engineDryRun: engineDryRuns(runtimes, controller),
  });
  const auth = new Authenticator(store, config.adminToken);
  // The proxy listens first, so the API can show each workspace's proxy_url; it learns the API's URL once that listens.
  let apiUrl = '';
  const tickets = new ProxyTickets();
  let proxyPort: number | undefined;
  const addressing = new ProxyAddressing(config.proxy.routing, () => proxyBaseUrl(config.proxy, { proxyPort, apiUrl }));
  const proxy = !config.proxy.enabled ? undefined : await startProxyServer({
    listen: config.proxy.port === undefined ? undefined : { host: config.proxy.host, port: config.proxy.port },
    addressing,
    apiUrl: () => config.proxy.apiPublicUrl ?? apiUrl,
    store,
    auth,
    tickets,
    activity: controller.activity,
    resume: (name, actor) => actions.act(name, { action: 'resume' }, { actor }),
    wake: config.proxy.wake,
    ...(config.proxy.enabled && engines.has('k8s') ? await kubeProxying(config) : {}),
    logger: logger.child({ component: 'proxy' }),
    authFailures: { limit: config.authFailureLimit, windowSeconds: config.authFailureWindowSeconds },
    trustedProxies: config.trustedProxies,
    headersTimeoutMs: config.proxy.headersTimeoutMs,
  });
  proxyPort = proxy?.port;
  if (config.proxy.onApiOrigin) logger.warn({ component: 'proxy' }, 'the workspace proxy is served on the API\'s own origin (--unsafe-proxy-on-api-origin): workspace pages can call the API as the signed-in user');
  const app = await buildApp({ store, controller, actions, auth, version: VERSION, proxy: proxy && { addressing, tickets }, clock: options.clock }, {
    serverFactory: config.proxy.onApiOrigin && proxy ? apiOriginServer(() => proxy) : undefined,
    logger,
    trustedProxies: config.trustedProxies,
    authFailures: { limit: config.authFailureLimit, windowSeconds: config.authFailureWindowSeconds },
    events: config.events,
    observability: { metrics, metricsToken: config.metrics.token, readiness },
  });
  const makeCuller = () =>
    new Culler(store, actions, controller.activity, logger.child({ component: 'culler' }), {
      periodMs: config.cullerPeriodSeconds * 1000,
      probes: probeSettingsFromEnv(process.env, [...runtimes.keys()]),
      concurrency: 8,
      httpGetFor: (ws) => controller.httpGetFor(ws),
      // Without a runtime that reports usage, the culler reads only the workspaces already due.
      usageFor: controller.reportsUsage ? (ws) => controller.usageFor(ws) : undefined,
      usageThresholds: { cpu_cores: config.activityCpuCores, net_bytes_per_second: config.activityNetBytesPerSecond },
      observer: metrics.cullerObserver(),
      now: options.clock,
    });
  const culler = makeCuller();
  const makeScheduler = () => new Scheduler(store, actions, logger.child({ component: 'schedule' }), { periodMs: SCHEDULE_PERIOD_MS, now: options.clock });
  const scheduler = makeScheduler();
  const makeDormancy = () => new DormancyKeeper(store, actions, logger.child({ component: 'dormancy' }), { periodMs: DORMANCY_PERIOD_MS, now: options.clock });
  const dormancy = makeDormancy();
  // Listen first: the start-up reconcile of every workspace then runs while requests are served,
  // instead of delaying readiness in proportion to the number of workspaces.
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await proxy?.close();
    throw err;
  }
  let metricsListener: MetricsListener | undefined;
  if (config.metrics.port !== undefined) {
    try {
      metricsListener = await startMetricsListener({ host: config.metrics.host, port: config.metrics.port, metrics, readiness, token: config.metrics.token });
    } catch (err) {
      // The API port is open already: close what was opened, so a failed start leaves nothing behind.
      await app.close();
      await proxy?.close();
      for (const runtime of runtimes.values()) await runtime.close();
      await store.close();
      throw err;
    }
  }
  const startScheduled = () => {
    const termCuller = sole ? culler : makeCuller();
    termCuller.start();
    const termScheduler = sole ? scheduler : makeScheduler();
    termScheduler.start();
    // Times that passed while no leader ran are acted on at once, not a period later.
    void termScheduler.pass().catch((err) => logger.error({ err }, 'schedule pass failed'));
    const termDormancy = sole ? dormancy : makeDormancy();
    termDormancy.start();
    const stopIdempotencyCleanup = startIdempotencyCleanup(store, {
      retentionMs: config.idempotencyRetentionHours * 3_600_000,
      intervalMs: IDEMPOTENCY_CLEANUP_INTERVAL_MS,
      logger: logger.child({ component: 'idempotency' }),
    });
    return () => {
      stopIdempotencyCleanup();
      termCuller.stop();
      termScheduler.stop();
      termDormancy.stop();
    };
  };
  const lease = sole ? new SoleLease() : new PostgresLease(config.databaseUrl!, (err) => logger.warn({ err }, 'an idle lease connection failed'));
  const duties = leaderDuties({ store, runtimes, serving: controller, sole, makeController, startScheduled, onController: (c) => (reconciling = c) });
  leadership = new Leadership(lease, sole ? timingsFor(SOLE_LEASE_MS) : timingsFor(config.leaderLeaseSeconds * 1000), duties, logger.child({ component: 'leadership' }));
  defineLeadershipGauges(metrics.registry, leadership);
  readiness.watchLeadership(leadership);
  await leadership.start();
  // The first term's start-up reconcile has been queued before the server says it is ready.
  await leadership.settled();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  apiUrl = url;
  const localUsers = isolation.uidRange ? `${isolation.uidRange.first}-${isolation.uidRange.last}` : 'the server\'s own (single-tenant)';
  logger.info({ url, metricsUrl: metricsListener?.url, proxyUrl: proxy && addressing.baseUrl, proxyRouting: proxy && config.proxy.routing.mode, clusterTypes: [...runtimes.keys()], dataDir: config.dataDir, hooksDir: config.hooksDir, installation, localUsers }, 'wsm is ready');
  if (ownerTokenFile) logger.info({ ownerTokenFile }, 'first start: an owner token was made; its secret is in this file');

  const drain = async (delayMs: number) => {
    readiness.drain();
    logger.info({ delayMs }, 'draining: readiness says so, the lease is handed over, requests are still served');
    await leadership!.stop();
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  };
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await metricsListener?.close();
      await proxy?.close();
      await app.close();
      metrics.close();
      await leadership!.stop();
      await lease.close();
      // A follower's serving controller was never started; stopping it flushes the activity it recorded.
      if (!sole) await controller.stop();
      for (const runtime of runtimes.values()) await runtime.close();
      await store.close();
      await releaseSqlite();
    })());
  const reconciler = () => (sole ? controller : reconciling);
  return { app, url, store, controller, actions, culler, scheduler, dormancy, leadership, reconciler, metrics, metricsUrl: metricsListener?.url, ownerTokenFile, proxy, drain, close };
}

/** How the proxy reaches Kubernetes workspaces; loaded only where Kubernetes is configured, as its runtime is. */
async function kubeProxying(config: ServeConfig): Promise<{ upstreamOf: UpstreamOf; tls: KubeTls }> {
  const { loadKubeConfig, defaultNamespace } = await import('../runtimes/kubernetes/config.js');
  const { kubeUpstreams } = await import('../proxy/kube-upstream.js');
  const kc = loadKubeConfig({ kubeconfigPath: config.kubeconfig, context: config.kubeContext });
  const kube = kubeUpstreams(kc, config.proxy.kubeRoute, defaultNamespace(kc, config.kubeNamespace));
  await kube.refresh();
  return { upstreamOf: upstreamsByClusterType({ k8s: kube.upstreamOf }), tls: kube.tls };
}
