// Kubernetes workspaces through their Service (docs/proxy.md):
// - service:    wsm runs in the cluster and connects to http://<name>-service.<namespace>.svc:6789;
// - api-server: wsm runs outside, and goes through the API server's service proxy,
//               https://<api server>/api/v1/namespaces/<ns>/services/<name>-service:6789/proxy/<path>,
//               with the kubeconfig's credentials (which the API server consumes: the workspace sees none).
// The /<name> prefix is kept either way, as the Ingress passes it.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { canConnect } from '../lib/tcp-connect.js';
import { isRunning, type Upstream, type UpstreamOf } from './upstream.js';

export type KubeProxyRoute = 'service' | 'api-server';

/** The Service port wsm makes (runtimes/kubernetes/manifests.ts): 6789, whatever the container's port. */
const SERVICE_PORT = 6789;
/** The kubeconfig's credentials are read again this often (tokens from exec plugins expire). */
const CREDENTIALS_FOR_MS = 60_000;

/** TLS settings for connections to the API server (its CA, a client certificate). */
export interface KubeTls {
  ca?: RequestOptions['ca'];
  cert?: RequestOptions['cert'];
  key?: RequestOptions['key'];
  rejectUnauthorized?: boolean;
}

export interface KubeUpstreams {
  upstreamOf: UpstreamOf;
  /** For the proxy's connections to https upstreams (only the API server is one). */
  tls: KubeTls;
  /** Reads the credentials now; the proxy calls it at start-up so a broken kubeconfig says so at once. */
  refresh(): Promise<void>;
}

export function kubeUpstreams(kc: KubeConfig, route: KubeProxyRoute, defaultNamespace: string): KubeUpstreams {
  const tls: KubeTls = {};
  let authorization: string | undefined;
  let readAt = -Infinity;
  const refresh = async () => {
    const options: RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    for (const key of ['ca', 'cert', 'key', 'rejectUnauthorized'] as const) (tls as Record<string, unknown>)[key] = options[key];
    const headers = (options.headers ?? {}) as Record<string, string>;
    authorization = headers.Authorization ?? headers.authorization;
    readAt = Date.now();
  };
  const fresh = () => {
    if (Date.now() - readAt > CREDENTIALS_FOR_MS) refresh().catch(() => undefined);
  };
  const server = kc.getCurrentCluster()!.server.replace(/\/+$/, '');

  const viaService = (ws: Parameters<UpstreamOf>[0]): Upstream => {
    const host = `${ws.name}-service.${ws.spec.namespace ?? defaultNamespace}.svc`;
    return { origin: `http://${host}:${SERVICE_PORT}`, pathPrefix: '', headers: {}, ready: (timeoutMs) => canConnect(host, SERVICE_PORT, timeoutMs) };
  };

  const viaApiServer = (ws: Parameters<UpstreamOf>[0]): Upstream => {
    fresh();
    const pathPrefix = `/api/v1/namespaces/${encodeURIComponent(ws.spec.namespace ?? defaultNamespace)}/services/${encodeURIComponent(`${ws.name}-service`)}:${SERVICE_PORT}/proxy`;
    const headers: Record<string, string> = authorization ? { authorization } : {};
    return {
      origin: new URL(server).origin,
      pathPrefix,
      headers,
      // The API server answers 503 while the Service has no ready endpoint; any other answer came from the workspace.
      ready: (timeoutMs) => answersThroughApiServer(`${server}${pathPrefix}/${ws.name}/`, headers, tls, timeoutMs),
    };
  };

  return {
    tls,
    refresh,
    upstreamOf: (ws) => (isRunning(ws) ? (route === 'service' ? viaService(ws) : viaApiServer(ws)) : undefined),
  };
}

function answersThroughApiServer(url: string, headers: Record<string, string>, tls: KubeTls, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers, ...tls, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode !== 503 && res.statusCode !== 502);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** In a pod, the Service's DNS name works; elsewhere only the API server leads to it. */
export function defaultKubeProxyRoute(env: NodeJS.ProcessEnv): KubeProxyRoute {
  return env.KUBERNETES_SERVICE_HOST ? 'service' : 'api-server';
}
