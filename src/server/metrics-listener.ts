// The separate metrics port (--metrics-port): GET /metrics, /healthz and /readyz on a listener of
// their own, so that Prometheus and probes reach them on an address the API is not served on (and a
// network policy can admit only them). With a metrics token configured it is required here too.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { WsmMetrics } from '../metrics/index.js';
import type { ReadinessChecker } from '../metrics/readiness.js';
import { metricsTokenCheck } from './metrics-token.js';
import { readinessBody } from './routes/health.js';

export interface MetricsListener {
  /** http://host:port, the port the system chose when 0 was asked. */
  url: string;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, type: string, message: string): void {
  json(res, status, { error: { code: status, type, message, errors: [] } });
}

export async function startMetricsListener(options: { host: string; port: number; metrics: WsmMetrics; readiness: ReadinessChecker; token?: string }): Promise<MetricsListener> {
  const allowed = metricsTokenCheck(options.token);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return error(res, 405, 'invalid_request', 'Only GET is served on the metrics port.');
    if (path === '/healthz') return json(res, 200, { status: 'alive' });
    if (path === '/readyz') {
      const answer = await options.readiness.check();
      return json(res, answer.ready ? 200 : 503, readinessBody(answer));
    }
    if (path !== '/metrics') return error(res, 404, 'not_found', 'The metrics port serves /metrics, /healthz and /readyz.');
    if (!allowed(req.headers)) return error(res, 401, 'invalid_oauth_token', 'GET /metrics needs the metrics token (WSM_METRICS_TOKEN) as Authorization: Bearer <token>.');
    const text = await options.metrics.render();
    res.writeHead(200, { 'content-type': options.metrics.contentType }).end(text);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) error(res, 500, 'internal_error', `metrics could not be read: ${err instanceof Error ? err.message : String(err)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
