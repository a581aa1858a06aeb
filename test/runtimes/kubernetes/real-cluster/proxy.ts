// A loopback HTTP proxy in front of the real API server, for what a test cannot time from outside: it
// can run an action (another client's write) just before forwarding a chosen request, so the real server
// answers that request as it would a race (409 Conflict). It records each request and its status.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface ProxiedRequest {
  method: string;
  path: string;
  status?: number;
}

export class ApiProxy {
  readonly requests: ProxiedRequest[] = [];
  /** Runs before a request is forwarded; the request waits for it. */
  before: ((req: ProxiedRequest) => Promise<void>) | undefined;
  private server: http.Server | undefined;

  constructor(private readonly upstream: URL) {}

  async start(): Promise<number> {
    this.server = http.createServer((req, res) => void this.forward(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** A kubeconfig like `base` (same token, same namespace) that talks through this proxy. */
  kubeConfig(base: KubeConfig): KubeConfig {
    const port = (this.server!.address() as AddressInfo).port;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'proxied', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: base.getCurrentUser()!.token }],
      contexts: [{ name: 'c', cluster: 'proxied', user: 'u', namespace: base.getContextObject(base.getCurrentContext())!.namespace }],
      currentContext: 'c',
    });
    return kc;
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const record: ProxiedRequest = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]! };
    this.requests.push(record);
    await this.before?.(record);
    const up = https.request(
      { host: this.upstream.hostname, port: this.upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: this.upstream.host }, rejectUnauthorized: false },
      (answer) => {
        record.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    up.end(Buffer.concat(chunks));
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
