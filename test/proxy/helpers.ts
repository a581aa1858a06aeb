// What the proxy tests share: a wsm server with the proxy on, the workspace program that reports what
// it received, and plain HTTP and WebSocket clients that talk to the proxy as a user's tools would.
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/server.js';

const WORKSPACE_SERVER = fileURLToPath(new URL('./fixtures/workspace-server.cjs', import.meta.url));

/** The local workspace's container_config: the reporting server above. */
export const REPORTING_WORKSPACE = `command: ${JSON.stringify([process.execPath, WORKSPACE_SERVER])}\n`;

export async function startProxiedServer(options: { clusterType?: string; env?: Record<string, string>; port?: number } = {}): Promise<TestServer & { proxyUrl: string }> {
  const server = await startTestServer({ clusterType: options.clusterType, port: options.port, env: { WSM_PROXY_PORT: '0', ...options.env } });
  const proxyUrl = server.server.proxy?.addressing.baseUrl;
  if (!proxyUrl) throw new Error('the proxy did not start');
  return Object.assign(server, { proxyUrl });
}

export interface ProxyAnswer {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

export async function proxyGet(url: string, headers: Record<string, string> = {}): Promise<ProxyAnswer> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** Opens a WebSocket through the proxy, and reads messages in order. */
export async function openSocket(url: string, headers: Record<string, string>): Promise<{ next(): Promise<string>; send(text: string): void; close(): void }> {
  const socket = new WebSocket(url, { headers });
  const inbox: string[] = [];
  const waiting: ((text: string) => void)[] = [];
  socket.on('message', (data) => {
    const text = String(data);
    const waiter = waiting.shift();
    if (waiter) waiter(text);
    else inbox.push(text);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`the upgrade was answered ${res.statusCode}`)));
  });
  return {
    next: () => {
      const queued = inbox.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no WebSocket message within 10 s')), 10_000);
        waiting.push((text) => {
          clearTimeout(timer);
          resolve(text);
        });
      });
    },
    send: (text) => socket.send(text),
    close: () => socket.close(),
  };
}
