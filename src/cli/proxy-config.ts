// Where the workspace proxy listens and how it names workspaces (docs/proxy.md). It is off unless a
// port is given: workspaces' pages are written by their editors and must run on an origin of their own,
// never the console's. Serving it on the API's origin takes a flag that says it is unsafe.
import { ConfigError, integer } from './config-values.js';
import { DEFAULT_WAKE_SETTINGS, type WakeSettings } from '../proxy/wake.js';
import type { ProxyRouting } from '../proxy/addressing.js';
import { defaultKubeProxyRoute, type KubeProxyRoute } from '../proxy/kube-upstream.js';
import { DEFAULT_HEADERS_TIMEOUT_MS } from '../proxy/upstream.js';

export interface ProxyConfig {
  /** Whether the proxy runs at all: a port of its own, or the API's with the unsafe flag. */
  enabled: boolean;
  /** The proxy's port; undefined: no listener of its own (off, or on the API's origin). */
  port?: number;
  host: string;
  /** Served by the API's own listener, on the API's origin (--unsafe-proxy-on-api-origin). */
  onApiOrigin: boolean;
  /** Paths /<name>/… or host names <name>.<domain>. */
  routing: ProxyRouting;
  /** The proxy's base URL as browsers reach it (behind a load balancer, say); default http://<host or domain>:<port>. */
  publicUrl?: string;
  /** The API's base URL as browsers reach it, where the proxy sends them to sign in; default: the address wsm listens on. */
  apiPublicUrl?: string;
  wake: WakeSettings;
  /** How Kubernetes workspaces are reached: their Service's DNS name (in a cluster) or the API server's service proxy. */
  kubeRoute: KubeProxyRoute;
  /** How long a workspace may take to send a response's headers; 0: no limit (a response's body is never timed). */
  headersTimeoutMs: number;
}

export interface ProxyFlags {
  proxyPort?: string;
  proxyHost?: string;
  proxyHostDomain?: string;
  unsafeProxyOnApiOrigin?: boolean;
  wakeOnRequestDefault?: string;
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

function boolean(name: string, raw: string | boolean | undefined): boolean | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw === true || raw === 'true' || raw === '1') return true;
  if (raw === false || raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false (got "${raw}")`);
}

function oneRoute(raw: string | undefined): KubeProxyRoute | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw !== 'service' && raw !== 'api-server') throw new ConfigError(`WSM_PROXY_KUBE_ROUTE must be service or api-server (got "${raw}")`);
  return raw;
}

const DNS_NAME = /^(?=.{1,200}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function hostDomain(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!DNS_NAME.test(raw)) throw new ConfigError(`--proxy-host-domain/WSM_PROXY_HOST_DOMAIN must be a lower-case DNS name such as ws.example.com (got "${raw}")`);
  return raw;
}

export function resolveProxyConfig(flags: ProxyFlags, env: NodeJS.ProcessEnv, apiHost: string, apiPort: number): ProxyConfig {
  const rawPort = flags.proxyPort ?? env.WSM_PROXY_PORT;
  let port = rawPort === undefined || rawPort === '' ? undefined : integer('--proxy-port/WSM_PROXY_PORT', rawPort, 0, 0, 65535);
  const host = flags.proxyHost ?? env.WSM_PROXY_HOST ?? apiHost;
  const onApiOrigin = boolean('--unsafe-proxy-on-api-origin/WSM_UNSAFE_PROXY_ON_API_ORIGIN', flags.unsafeProxyOnApiOrigin ?? env.WSM_UNSAFE_PROXY_ON_API_ORIGIN) ?? false;
  const domain = hostDomain(flags.proxyHostDomain ?? env.WSM_PROXY_HOST_DOMAIN);
  const publicUrl = baseUrl('WSM_PROXY_PUBLIC_URL', env.WSM_PROXY_PUBLIC_URL);
  const apiPublicUrl = baseUrl('WSM_PUBLIC_URL', env.WSM_PUBLIC_URL);
  const samePort = port !== undefined && port !== 0 && port === apiPort && host === apiHost;
  if (onApiOrigin) {
    if (port !== undefined && !samePort) throw new ConfigError(`--unsafe-proxy-on-api-origin serves the proxy on the API's own port: leave --proxy-port/WSM_PROXY_PORT unset (got ${port})`);
    if (domain) throw new ConfigError('--proxy-host-domain/WSM_PROXY_HOST_DOMAIN gives each workspace an origin of its own, which --unsafe-proxy-on-api-origin contradicts: choose one');
    if (publicUrl) throw new ConfigError('WSM_PROXY_PUBLIC_URL does not apply with --unsafe-proxy-on-api-origin: the proxy is reached at the API\'s address (WSM_PUBLIC_URL)');
    port = undefined;
  } else {
    const unsafeHint = 'the proxy needs an origin of its own (to serve it on the API\'s anyway, which lets workspace pages act as the signed-in user, give --unsafe-proxy-on-api-origin)';
    if (samePort) throw new ConfigError(`--proxy-port/WSM_PROXY_PORT must differ from the API's port (${apiPort}): ${unsafeHint}`);
    if (publicUrl && apiPublicUrl && new URL(publicUrl).origin === new URL(apiPublicUrl).origin) {
      throw new ConfigError(`WSM_PROXY_PUBLIC_URL must be another origin than WSM_PUBLIC_URL (both ${new URL(publicUrl).origin}): ${unsafeHint}`);
    }
    const apiHostName = apiPublicUrl ? new URL(apiPublicUrl).hostname : apiHost;
    if (domain && (apiHostName === domain || apiHostName.endsWith(`.${domain}`))) {
      throw new ConfigError(`--proxy-host-domain/WSM_PROXY_HOST_DOMAIN (${domain}) must not contain the API's host name (${apiHostName}): a workspace would be served on the API's host and get its cookies`);
    }
    if (domain && publicUrl && new URL(publicUrl).hostname !== domain) {
      throw new ConfigError(`WSM_PROXY_PUBLIC_URL's host name must be --proxy-host-domain/WSM_PROXY_HOST_DOMAIN (${domain}); workspaces are then at <name>.${domain} (got "${publicUrl}")`);
    }
  }
  const wakeByDefault = boolean('--wake-on-request-default/WSM_WAKE_ON_REQUEST_DEFAULT', flags.wakeOnRequestDefault ?? env.WSM_WAKE_ON_REQUEST_DEFAULT) ?? false;
  return {
    enabled: port !== undefined || onApiOrigin,
    port,
    host,
    onApiOrigin,
    routing: domain ? { mode: 'host', domain } : { mode: 'path' },
    publicUrl,
    apiPublicUrl,
    wake: {
      timeoutMs: integer('WSM_PROXY_WAKE_TIMEOUT_SECONDS', env.WSM_PROXY_WAKE_TIMEOUT_SECONDS, DEFAULT_WAKE_SETTINGS.timeoutMs / 1000, 1, 3600) * 1000,
      maxHeld: integer('WSM_PROXY_WAKE_MAX_HELD', env.WSM_PROXY_WAKE_MAX_HELD, DEFAULT_WAKE_SETTINGS.maxHeld, 1, 100_000),
      pollMs: DEFAULT_WAKE_SETTINGS.pollMs,
      wakeByDefault,
    },
    kubeRoute: oneRoute(env.WSM_PROXY_KUBE_ROUTE) ?? defaultKubeProxyRoute(env),
    headersTimeoutMs: integer('WSM_PROXY_HEADERS_TIMEOUT_SECONDS', env.WSM_PROXY_HEADERS_TIMEOUT_SECONDS, DEFAULT_HEADERS_TIMEOUT_MS / 1000, 0, 86_400) * 1000,
  };
}

/** The proxy's base URL as browsers reach it, once the ports are known. */
export function proxyBaseUrl(config: ProxyConfig, listening: { proxyPort?: number; apiUrl: string }): string {
  if (config.onApiOrigin) return config.apiPublicUrl ?? listening.apiUrl;
  if (config.publicUrl) return config.publicUrl;
  const host = config.routing.mode === 'host' ? config.routing.domain : config.host === '0.0.0.0' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${listening.proxyPort}`;
}
