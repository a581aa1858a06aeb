// What the proxy and start-latency benchmarks share: a workspace program that answers HTTP, waiting
// until an address answers, and the same program spawned plainly (the machine's floor, no wsm at all).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { api } from './engine.js';
import type { ServerHandle } from './server-handle.js';

/**
 * A local workspace's program: a Node HTTP server on $PORT answering "ok"; `?work=N` first keeps the CPU
 * busy for N ms, as a page that does some work would.
 */
export const HTTP_PROGRAM =
  "require('http').createServer((q, s) => { const w = /[?&]work=(\\d+)/.exec(q.url); if (w) { const end = performance.now() + Number(w[1]); while (performance.now() < end); } s.end('ok'); }).listen(Number(process.env.PORT), '127.0.0.1')";
export const LOCAL_CONFIG = `command: ${JSON.stringify([process.execPath, '-e', HTTP_PROGRAM])}\n`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `url` answers HTTP below 500 (polled every 2 ms): the program listens (busybox httpd may 404 a bare /). */
export async function untilAnswers(url: string, headers: Record<string, string> = {}, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await sleep(2);
  }
}

/** The workspace's direct address (instance.ip), read from the API. */
export async function directUrl(server: ServerHandle, name: string): Promise<string> {
  const ws = (await api(server, 'GET', `/api/workspaces/${name}`)).workspace;
  if (!ws.instance?.ip) throw new Error(`${name} has no address (status ${ws.instance?.status})`);
  return `http://${ws.instance.ip}/`;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** The same program started without wsm: spawned, and ready once it answers HTTP. */
export async function plainSpawn(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', HTTP_PROGRAM], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
  await untilAnswers(`http://127.0.0.1:${port}/`);
  return child;
}

/** SIGTERM, resolved once the process has exited. */
export function plainStop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
