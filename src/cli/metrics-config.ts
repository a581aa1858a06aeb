// Where metrics are served. GET /metrics is never public by accident: on the API port it exists only
// with a metrics token (WSM_METRICS_TOKEN, sent as Authorization: Bearer); on a separate port
// (--metrics-port) it is served to whoever reaches that address, and needs the token too when one is set.
import { ConfigError, integer } from './config-values.js';

export interface MetricsConfig {
  /** The token GET /metrics needs; without it /metrics is not served on the API port. */
  token?: string;
  /** A separate listener for /metrics, /healthz and /readyz; undefined: none. */
  port?: number;
  host: string;
  /** One series per workspace (wsm_workspace_status): for small installations. */
  workspaceLabels: boolean;
}

/** Long enough that guessing it is hopeless; `openssl rand -hex 32` makes a good one. */
const MIN_TOKEN_LENGTH = 16;

function flag(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${name} must be true or false (got "${raw}")`);
}

export function resolveMetricsConfig(flags: { metricsPort?: string; metricsHost?: string }, env: NodeJS.ProcessEnv, apiHost: string): MetricsConfig {
  const token = env.WSM_METRICS_TOKEN || undefined;
  if (token !== undefined && (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))) {
    throw new ConfigError(`WSM_METRICS_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters without spaces (got ${token.length} characters)`);
  }
  const rawPort = flags.metricsPort ?? env.WSM_METRICS_PORT;
  return {
    token,
    port: rawPort === undefined || rawPort === '' ? undefined : integer('--metrics-port/WSM_METRICS_PORT', rawPort, 0, 0, 65535),
    host: flags.metricsHost ?? env.WSM_METRICS_HOST ?? apiHost,
    workspaceLabels: flag('WSM_METRICS_WORKSPACE_LABELS', env.WSM_METRICS_WORKSPACE_LABELS),
  };
}
