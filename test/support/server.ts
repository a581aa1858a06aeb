// Starts a real wsm server on a free loopback port for a test, with its own data dir, and offers a
// small HTTP client. close() deletes what the test left behind, so no process outlives the test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { resolveServeConfig } from '../../src/cli/config.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';

export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

export interface TestServer {
  url: string;
  adminToken: string;
  dataDir: string;
  hooksDir: string;
  server: RunningServer;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<TestResponse<T>>;
  /** Creates a token through the API and returns its secret. */
  token(role: 'owner' | 'editor' | 'viewer', extra?: { workspace?: string; expires_in_seconds?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function request<T = any>(baseUrl: string, method: string, path: string, options: RequestOptions & { defaultToken?: string } = {}): Promise<TestResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? options.defaultToken : options.token;
  if (token) headers['OAUTH-TOKEN'] = token;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (the console page, say): the text is the body.
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export async function startTestServer(options: { clusterType?: string; env?: Record<string, string>; dataDir?: string; port?: number; clock?: () => number } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'wsm-test-')));
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  const env = {
    WSM_ADMIN_TOKEN: adminToken,
    WSM_ACTION_WAIT_MS: '15000',
    WSM_STOP_GRACE_SECONDS: '2',
    ...options.env,
  };
  const config = resolveServeConfig({ host: '127.0.0.1', port: String(options.port ?? 0), dataDir, clusterType: options.clusterType ?? 'local' }, { ...process.env, ...env });
  const server = await startServer(config, { logger: pino({ level: process.env.WSM_TEST_LOG_LEVEL ?? 'silent' }), clock: options.clock });
  const call = <T = any>(method: string, path: string, opts: RequestOptions = {}) => request<T>(server.url, method, path, { ...opts, defaultToken: adminToken });
  return {
    url: server.url,
    adminToken,
    dataDir,
    hooksDir: config.hooksDir,
    server,
    request: call,
    async token(role, extra = {}) {
      const res = await call('POST', '/api/tokens', { body: { role, name: `test-${role}`, ...extra } });
      if (res.status !== 201) throw new Error(`token create failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token.secret as string;
    },
    async close() {
      try {
        const list = await call('GET', '/api/workspaces?limit=1000');
        for (const ws of list.body?.workspaces ?? []) {
          await call('DELETE', `/api/workspaces/${ws.name}?delete_volume=true`);
        }
        await server.controller.drained();
      } finally {
        await server.close();
        if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Polls until check() returns a truthy value, or fails after timeoutMs with the last value seen. */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const value = await check();
    if (value) return value;
    last = value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A tiny HTTP server for the local runtime: it serves its env on $PORT. */
export const NODE_ECHO_SERVER = [
  process.execPath,
  '-e',
  "require('http').createServer((q,s)=>{s.setHeader('content-type','application/json');s.end(JSON.stringify({env:process.env,cwd:process.cwd()}))}).listen(Number(process.env.PORT),'127.0.0.1')",
];

export function localContainerConfig(extra = ''): string {
  return `command: ${JSON.stringify(NODE_ECHO_SERVER)}\n${extra}`;
}
