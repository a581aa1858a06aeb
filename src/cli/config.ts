// The server's configuration: each setting from its flag, else its WSM_* environment variable,
// else the default. Names are stable: operators and scripts depend on them.
import { isIP } from 'node:net';
import { resolve, join } from 'node:path';
import type { ClusterType } from '../core/types.js';
import { CLUSTER_TYPES } from '../core/types.js';
import { parseBindRoots } from '../core/host-paths.js';
import { DEFAULT_IMAGE, INSTALLATION_ID_PATTERN } from '../core/defaults.js';
import { DEFAULT_EVENT_SETTINGS, type EventSettings } from '../server/routes/events.js';
import { ConfigError, integer } from './config-values.js';
import { resolveMetricsConfig, type MetricsConfig } from './metrics-config.js';
import { resolveProxyConfig, type ProxyConfig, type ProxyFlags } from './proxy-config.js';

export interface ServeConfig {
  host: string;
  port: number;
  dataDir: string;
  clusterType?: ClusterType;
  databaseUrl?: string;
  hooksDir: string;
  adminToken?: string;
  logLevel: string;
  actionWaitMs: number;
  resyncSeconds: number;
  /** Instances started at once, at most (WSM_MAX_CONCURRENT_STARTS): a reboot's restarts come a few at a time. */
  maxConcurrentStarts: number;
  stopGraceSeconds: number;
  /** The image of a workspace that names none, unless the cluster settings name one: WSM_DEFAULT_IMAGE, else DEFAULT_IMAGE. */
  defaultImage: string;
  publishAddress: string;
  kubeconfig?: string;
  kubeContext?: string;
  kubeNamespace?: string;
  ingressName?: string;
  ingressClass?: string;
  ingressPathType?: 'Prefix' | 'ImplementationSpecific';
  serviceType?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  cullerPeriodSeconds: number;
  /** How long the leader's lease lasts (PostgreSQL, several replicas): a dead leader is replaced within about this long. */
  leaderLeaseSeconds: number;
  /** On SIGTERM: how long the replica keeps serving while its readiness says draining, before it closes (default 5 s with PostgreSQL, 0 with SQLite). */
  drainSeconds: number;
  preStartTimeoutSeconds: number;
  postStartTimeoutSeconds: number;
  /** The restart policy's backoff: first wait, cap, and the run length that forgives earlier restarts. */
  restartBackoff: { initialSeconds: number; maxSeconds: number; resetSeconds: number };
  /** CPU use (in cores) above which a workspace counts as active; 0 turns the signal off. */
  activityCpuCores: number;
  /** Network bytes per second above which a workspace counts as active; 0 turns the signal off. */
  activityNetBytesPerSecond: number;
  /** How long an Idempotency-Key's first answer is kept for retries. */
  idempotencyRetentionHours: number;
  /** The heap may grow this many percent past the data that survived the last full collection (0: V8's own choice, up to 300). */
  heapGrowingPercent: number;
  /** Host path prefixes Docker workspaces may bind (owners only); empty: no host path at all. */
  dockerAllowedBindRoots: string[];
  /** This installation's id, instead of the one kept in the store. */
  installationId?: string;
  /** The uids local workspaces run as, one each, when the server runs as root. */
  localUidRange: { first: number; last: number };
  /** Proxies whose X-Forwarded-For/-Proto/-Host are believed: addresses, CIDR ranges or loopback/linklocal/uniquelocal. */
  trustedProxies: string[];
  /** Failed authentications allowed per client within the window before 429; 0 turns the limit off. */
  authFailureLimit: number;
  authFailureWindowSeconds: number;
  /** /api/events: per-client buffer, streams per token, replay window. */
  events: Pick<EventSettings, 'bufferBytes' | 'maxStreamsPerToken' | 'replayEvents' | 'replayBytes'>;
  /** Where and how metrics are served (metrics-config.ts). */
  metrics: MetricsConfig;
  /** The workspace proxy (proxy-config.ts, docs/proxy.md). */
  proxy: ProxyConfig;
}

export interface ServeFlags extends ProxyFlags {
  host?: string;
  port?: string;
  dataDir?: string;
  clusterType?: string;
  databaseUrl?: string;
  hooksDir?: string;
  logLevel?: string;
  dockerAllowedBindRoots?: string;
  installationId?: string;
  localUidRange?: string;
  trustedProxies?: string;
  metricsPort?: string;
  metricsHost?: string;
}

export { ConfigError };

function fraction(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be a number of cores, 0 or more (got "${raw}")`);
  return value;
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!allowed.includes(raw as T)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
  return raw as T;
}

function bindRoots(raw: string | undefined): string[] {
  try {
    return parseBindRoots(raw);
  } catch (err) {
    throw new ConfigError(`--docker-allowed-bind-roots/WSM_DOCKER_ALLOWED_BIND_ROOTS must be comma-separated absolute paths: ${(err as Error).message}`);
  }
}

function installationId(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!INSTALLATION_ID_PATTERN.test(raw)) {
    throw new ConfigError(`--installation-id/WSM_INSTALLATION_ID must be 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit (got "${raw}")`);
  }
  return raw;
}

/**
 * Above the 16-bit ids and systemd's dynamic users (61184-65519), below the subordinate ids useradd
 * hands out from 100000 for rootless containers: uids no account or container on a usual host holds.
 */
export const DEFAULT_LOCAL_UID_RANGE = '70000-99999';

function uidRange(name: string, raw: string): { first: number; last: number } {
  const match = /^(\d+)-(\d+)$/.exec(raw.trim());
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  // 0 is root, and 4294967295 is (uid_t)-1, which means "unchanged" to setuid.
  if (!match || first < 1 || last > 4_294_967_294 || first > last) {
    throw new ConfigError(`${name} must be two uids "first-last", 1 to 4294967294, first not above last (got "${raw}")`);
  }
  return { first, last };
}

const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** "10.0.0.1, 10.1.0.0/16, loopback" -> the entries, each checked, for Fastify's trustProxy. */
function proxyList(name: string, raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const item = entry.trim();
    const [address, bits, extra] = item.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (PROXY_RANGE_NAMES.includes(item) || (family !== 0 && bitsOk && extra === undefined)) return item;
    throw new ConfigError(`${name} must be a comma-separated list of IP addresses, CIDR ranges (10.0.0.0/8) or ${PROXY_RANGE_NAMES.join(', ')} (got "${item}")`);
  });
}

function restartBackoff(env: NodeJS.ProcessEnv): ServeConfig['restartBackoff'] {
  const initialSeconds = integer('WSM_RESTART_BACKOFF_INITIAL_SECONDS', env.WSM_RESTART_BACKOFF_INITIAL_SECONDS, 10, 1, 86_400);
  const maxSeconds = integer('WSM_RESTART_BACKOFF_MAX_SECONDS', env.WSM_RESTART_BACKOFF_MAX_SECONDS, 300, 1, 86_400);
  if (maxSeconds < initialSeconds) {
    throw new ConfigError(`WSM_RESTART_BACKOFF_MAX_SECONDS (${maxSeconds}) must not be below WSM_RESTART_BACKOFF_INITIAL_SECONDS (${initialSeconds})`);
  }
  const resetSeconds = integer('WSM_RESTART_BACKOFF_RESET_SECONDS', env.WSM_RESTART_BACKOFF_RESET_SECONDS, 600, 1, 604_800);
  return { initialSeconds, maxSeconds, resetSeconds };
}

export function resolveServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const dataDir = resolve(flags.dataDir ?? env.WSM_DATA_DIR ?? '.wsm');
  const clusterRaw = (flags.clusterType ?? env.WSM_CLUSTER_TYPE)?.toLowerCase();
  const databaseUrl = flags.databaseUrl ?? env.WSM_DATABASE_URL;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`--database-url/WSM_DATABASE_URL must be a postgres:// or postgresql:// URL (got "${databaseUrl}")`);
  }
  return {
    host: flags.host ?? env.WSM_HOST ?? '127.0.0.1',
    port: integer('--port/WSM_PORT', flags.port ?? env.WSM_PORT, 6789, 0, 65535),
    dataDir,
    clusterType: oneOf('--cluster-type/WSM_CLUSTER_TYPE', clusterRaw === 'kubernetes' ? 'k8s' : clusterRaw, CLUSTER_TYPES),
    databaseUrl,
    hooksDir: resolve(flags.hooksDir ?? env.WSM_HOOKS_DIR ?? join(dataDir, 'hooks')),
    adminToken: env.WSM_ADMIN_TOKEN || undefined,
    logLevel: flags.logLevel ?? env.WSM_LOG_LEVEL ?? 'info',
    actionWaitMs: integer('WSM_ACTION_WAIT_MS', env.WSM_ACTION_WAIT_MS, 30_000, 0, 600_000),
    resyncSeconds: integer('WSM_RESYNC_SECONDS', env.WSM_RESYNC_SECONDS, 60, 1, 86_400),
    maxConcurrentStarts: integer('WSM_MAX_CONCURRENT_STARTS', env.WSM_MAX_CONCURRENT_STARTS, 10, 1, 10_000),
    stopGraceSeconds: integer('WSM_STOP_GRACE_SECONDS', env.WSM_STOP_GRACE_SECONDS, 10, 0, 3_600),
    defaultImage: env.WSM_DEFAULT_IMAGE || DEFAULT_IMAGE,
    publishAddress: env.WSM_PUBLISH_ADDRESS ?? '127.0.0.1',
    kubeconfig: env.KUBECONFIG || undefined,
    kubeContext: env.WSM_KUBE_CONTEXT || undefined,
    kubeNamespace: env.WSM_KUBE_NAMESPACE || env.KUBE_NAMESPACE || undefined,
    ingressName: env.WSM_INGRESS_NAME || undefined,
    ingressClass: env.WSM_INGRESS_CLASS || undefined,
    ingressPathType: oneOf('WSM_INGRESS_PATH_TYPE', env.WSM_INGRESS_PATH_TYPE, ['Prefix', 'ImplementationSpecific'] as const),
    serviceType: oneOf('WSM_SERVICE_TYPE', env.WSM_SERVICE_TYPE, ['ClusterIP', 'NodePort', 'LoadBalancer'] as const),
    cullerPeriodSeconds: integer('WSM_CULLER_PERIOD_SECONDS', env.WSM_CULLER_PERIOD_SECONDS, 60, 1, 86_400),
    leaderLeaseSeconds: integer('WSM_LEADER_LEASE_SECONDS', env.WSM_LEADER_LEASE_SECONDS, 10, 2, 300),
    // With SQLite there is no other replica to send requests to while this one drains.
    drainSeconds: integer('WSM_DRAIN_SECONDS', env.WSM_DRAIN_SECONDS, databaseUrl ? 5 : 0, 0, 600),
    preStartTimeoutSeconds: integer('WSM_PRE_START_TIMEOUT_SECONDS', env.WSM_PRE_START_TIMEOUT_SECONDS, 300, 1, 86_400),
    postStartTimeoutSeconds: integer('WSM_POST_START_TIMEOUT_SECONDS', env.WSM_POST_START_TIMEOUT_SECONDS, 300, 1, 86_400),
    restartBackoff: restartBackoff(env),
    idempotencyRetentionHours: integer('WSM_IDEMPOTENCY_RETENTION_HOURS', env.WSM_IDEMPOTENCY_RETENTION_HOURS, 24, 1, 8_760),
    heapGrowingPercent: integer('WSM_HEAP_GROWING_PERCENT', env.WSM_HEAP_GROWING_PERCENT, 50, 0, 300),
    activityCpuCores: fraction('WSM_ACTIVITY_CPU_CORES', env.WSM_ACTIVITY_CPU_CORES, 0.1),
    activityNetBytesPerSecond: integer('WSM_ACTIVITY_NET_BYTES_PER_SECOND', env.WSM_ACTIVITY_NET_BYTES_PER_SECOND, 10_240, 0, 1e12),
    dockerAllowedBindRoots: bindRoots(flags.dockerAllowedBindRoots ?? env.WSM_DOCKER_ALLOWED_BIND_ROOTS),
    installationId: installationId(flags.installationId ?? env.WSM_INSTALLATION_ID),
    localUidRange: uidRange('--local-uid-range/WSM_LOCAL_UID_RANGE', flags.localUidRange || env.WSM_LOCAL_UID_RANGE || DEFAULT_LOCAL_UID_RANGE),
    trustedProxies: proxyList('--trusted-proxies/WSM_TRUSTED_PROXIES', flags.trustedProxies ?? env.WSM_TRUSTED_PROXIES),
    authFailureLimit: integer('WSM_AUTH_FAILURE_LIMIT', env.WSM_AUTH_FAILURE_LIMIT, 30, 0, 1_000_000),
    authFailureWindowSeconds: integer('WSM_AUTH_FAILURE_WINDOW_SECONDS', env.WSM_AUTH_FAILURE_WINDOW_SECONDS, 60, 1, 86_400),
    events: {
      bufferBytes: integer('WSM_EVENTS_BUFFER_BYTES', env.WSM_EVENTS_BUFFER_BYTES, DEFAULT_EVENT_SETTINGS.bufferBytes, 16_384, 1024 ** 3),
      maxStreamsPerToken: integer('WSM_EVENTS_MAX_STREAMS_PER_TOKEN', env.WSM_EVENTS_MAX_STREAMS_PER_TOKEN, DEFAULT_EVENT_SETTINGS.maxStreamsPerToken, 1, 100_000),
      replayEvents: integer('WSM_EVENTS_REPLAY_EVENTS', env.WSM_EVENTS_REPLAY_EVENTS, DEFAULT_EVENT_SETTINGS.replayEvents, 1, 1_000_000),
      replayBytes: integer('WSM_EVENTS_REPLAY_BYTES', env.WSM_EVENTS_REPLAY_BYTES, DEFAULT_EVENT_SETTINGS.replayBytes, 1024, 1024 ** 3),
    },
    metrics: resolveMetricsConfig(flags, env, flags.host ?? env.WSM_HOST ?? '127.0.0.1'),
    proxy: resolveProxyConfig(flags, env, flags.host ?? env.WSM_HOST ?? '127.0.0.1', integer('--port/WSM_PORT', flags.port ?? env.WSM_PORT, 6789, 0, 65535)),
  };
}
