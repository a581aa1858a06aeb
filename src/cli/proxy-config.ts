// Where the workspace proxy listens (docs/proxy.md). It is off unless a port is given: workspaces'
// pages are written by their editors and must run on an origin of their own, never the console's.
import { ConfigError, integer } from './config-values.js';
import { DEFAULT_WAKE_SETTINGS, type WakeSettings } from '../proxy/wake.js';

export interface ProxyConfig {
  /** The proxy's port; undefined: no proxy. */
  port?: number;
  host: string;
  /** The proxy's base URL as browsers reach it (behind a load balancer, say); default http://<host>:<port>. */
  publicUrl?: string;
  /** The API's base URL as browsers reach it, where the proxy sends them to sign in; default: the address wsm listens on. */
  apiPublicUrl?: string;
  wake: WakeSettings;
}

function baseUrl(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http:// or https:// URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name} must be an http:// or https:// URL (got "${raw}")`);
  if (url.search || url.hash) throw new ConfigError(`${name} must be a base URL without ?query or #fragment (got "${raw}")`);
  return raw.replace(/\/+$/, '');
}

export function resolveProxyConfig(flags: { proxyPort?: string; proxyHost?: string }, env: NodeJS.ProcessEnv, apiHost: string, apiPort: number): ProxyConfig {
  const rawPort = flags.proxyPort ?? env.WSM_PROXY_PORT;
  const port = rawPort === undefined || rawPort === '' ? undefined : integer('--proxy-port/WSM_PROXY_PORT', rawPort, 0, 0, 65535);
  const host = flags.proxyHost ?? env.WSM_PROXY_HOST ?? apiHost;
  if (port !== undefined && port !== 0 && port === apiPort && host === apiHost) {
    throw new ConfigError(`--proxy-port/WSM_PROXY_PORT must differ from the API's port (${apiPort}): the proxy needs an origin of its own`);
  }
  return {
    port,
    host,
    publicUrl: baseUrl('WSM_PROXY_PUBLIC_URL', env.WSM_PROXY_PUBLIC_URL),
    apiPublicUrl: baseUrl('WSM_PUBLIC_URL', env.WSM_PUBLIC_URL),
    wake: {
      timeoutMs: integer('WSM_PROXY_WAKE_TIMEOUT_SECONDS', env.WSM_PROXY_WAKE_TIMEOUT_SECONDS, DEFAULT_WAKE_SETTINGS.timeoutMs / 1000, 1, 3600) * 1000,
      maxHeld: integer('WSM_PROXY_WAKE_MAX_HELD', env.WSM_PROXY_WAKE_MAX_HELD, DEFAULT_WAKE_SETTINGS.maxHeld, 1, 100_000),
      pollMs: DEFAULT_WAKE_SETTINGS.pollMs,
    },
  };
}
