// Helpers for the lifecycle tests: a tiny workspace process that answers Mage's activity probe from a
// file the test writes, and small waits on what the API shows.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { eventually, type TestServer } from '../support/server.js';

// On $PORT: /api/statuses answers status.json from its working directory ("NOW" becomes the current
// time; a missing file is a 404, the text "fail" a 500); /file/<name> answers a file of its working
// directory. It writes main-started.txt once it listens, so hooks can tell the main process is up.
const SOURCE = `
const http = require('http'), fs = require('fs');
http.createServer((q, s) => {
  const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch { return undefined; } };
  if (q.url.startsWith('/api/statuses')) {
    const text = read('status.json');
    if (text === undefined) { s.statusCode = 404; return s.end('no status'); }
    if (text.trim() === 'fail') { s.statusCode = 500; return s.end('broken'); }
    s.setHeader('content-type', 'application/json');
    return s.end(text.replaceAll('NOW', new Date().toISOString()));
  }
  if (q.url.startsWith('/file/')) {
    const text = read(decodeURIComponent(q.url.slice(6)));
    if (text === undefined) { s.statusCode = 404; return s.end(); }
    return s.end(text);
  }
  s.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1', () => fs.writeFileSync('main-started.txt', 'yes\\n'));
`;

export const WORKSPACE_SERVER = [process.execPath, '-e', SOURCE];

export function serverConfig(): string {
  return `command: ${JSON.stringify(WORKSPACE_SERVER)}\n`;
}

/** The home (volume) of a local workspace: the working directory of its process. */
export function localHome(srv: TestServer, name: string): string {
  return join(srv.dataDir, 'workspaces', name, 'home');
}

/** What the probe will read: Mage's shape. */
export async function setStatus(home: string, status: { last_user_request?: string | null; active_pipeline_run_count?: number } | 'fail'): Promise<void> {
  await mkdir(home, { recursive: true });
  const body = status === 'fail' ? 'fail' : JSON.stringify({ statuses: [{ last_user_request: null, last_scheduler_activity: null, active_pipeline_run_count: 0, ...status }] });
  await writeFile(join(home, 'status.json'), body);
}

export async function writeHook(srv: TestServer, path: string, content: string): Promise<void> {
  await mkdir(join(srv.hooksDir, path, '..'), { recursive: true });
  await writeFile(join(srv.hooksDir, path), content, { mode: 0o755 });
}

export async function getWs(srv: TestServer, name: string): Promise<any> {
  const res = await srv.request('GET', `/api/workspaces/${name}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.workspace;
}

export function waitForWs(srv: TestServer, name: string, check: (ws: any) => boolean, what: string, timeoutMs = 30_000): Promise<any> {
  return eventually(async () => {
    const ws = await getWs(srv, name);
    return check(ws) ? ws : undefined;
  }, timeoutMs, `${name}: ${what}`);
}

export const condition = (ws: any, type: string) => (ws.conditions as any[]).find((c) => c.type === type);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates a local workspace serving HTTP with the lifecycle config, and waits until it runs. */
export async function createRunning(srv: TestServer, name: string, lifecycle_config: Record<string, unknown>) {
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: serverConfig(), lifecycle_config } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return waitForWs(srv, name, (w) => w.instance.status === 'RUNNING', 'RUNNING');
}
