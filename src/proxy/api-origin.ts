// The proxy on the API's own origin (--unsafe-proxy-on-api-origin): one listener, which hands the API its
// own paths and the proxy the rest. Unsafe because a workspace's pages then run where the console's
// cookie is sent: their scripts can call the API as the signed-in user (docs/proxy.md).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { isDnsLabel } from '../core/names.js';

/** First path segments the API serves; a workspace of one of these names is not reachable this way. */
export const API_SEGMENTS: ReadonlySet<string> = new Set(['api', 'apps', 'healthz', 'readyz', 'metrics']);

export interface SharedProxy {
  serveRequest(req: IncomingMessage, res: ServerResponse): void;
  serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Whether a request on the shared listener is the proxy's: /_wsm/… or /<workspace name>/…. */
export function isProxyPath(url: string | undefined): boolean {
  const first = (url ?? '/').split('?', 1)[0]!.split('/')[1] ?? '';
  return first === '_wsm' || (isDnsLabel(first) && !API_SEGMENTS.has(first));
}

/** A Fastify serverFactory for the API: its requests to the API, workspace paths and their WebSockets to the proxy. */
export function apiOriginServer(proxy: () => SharedProxy) {
  return (apiHandler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const server = createServer((req, res) => (isProxyPath(req.url) ? proxy().serveRequest(req, res) : apiHandler(req, res)));
    // The API serves no WebSocket; an upgrade for any other path is refused.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (isProxyPath(req.url)) proxy().serveUpgrade(req, socket, head);
      else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    return server;
  };
}
