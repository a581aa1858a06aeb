// Two proxies that do nothing but forward, in front of the same workspace, so that the proxy benchmark
// can say what share of direct throughput forwarding itself leaves on this machine: a bare Node server
// forwarding with undici (the HTTP client under wsm's proxy, without framework, authentication or a
// store) and nginx (C, keep-alive to the upstream), when Debian's nginx is installed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, untilAnswers } from './workspace-http.js';

const NGINX = '/usr/sbin/nginx';

export interface ReferenceProxy {
  url: string;
  /** The processes doing the forwarding (for their CPU time). */
  pids: number[];
  close(): Promise<void>;
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A Node HTTP server that passes each request to `upstream` with an undici Pool and streams the answer back. */
export async function bareNodeProxy(upstream: string): Promise<ReferenceProxy> {
  const port = await freePort();
  const undici = createRequire(import.meta.url).resolve('undici');
  const program = `const { Pool } = require(${JSON.stringify(undici)});
const pool = new Pool(${JSON.stringify(upstream)});
require('http').createServer(async (req, res) => {
  try {
    const answer = await pool.request({ path: req.url, method: req.method, headers: req.headers, body: req.method === 'GET' ? undefined : req });
    res.writeHead(answer.statusCode, answer.headers);
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  } catch (err) { res.statusCode = 502; res.end(String(err)); }
}).listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', program], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await untilAnswers(`${url}/`);
  return { url, pids: [child.pid!], close: () => stopped(child) };
}

/** nginx with one worker and kept-alive upstream connections; undefined when nginx is not installed. */
export async function nginxProxy(upstream: string): Promise<ReferenceProxy | undefined> {
  if (!existsSync(NGINX)) return undefined;
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'wsm-bench-nginx-'));
  const host = new URL(upstream).host;
  await writeFile(
    join(dir, 'nginx.conf'),
    [
      `worker_processes 1; daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;`,
      'events { worker_connections 1024; }',
      `http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir};`,
      `  upstream workspace { server ${host}; keepalive 32; }`,
      `  server { listen 127.0.0.1:${port}; location / { proxy_pass http://workspace; proxy_http_version 1.1; proxy_set_header Connection ""; } } }`,
    ].join('\n'),
  );
  const child = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await untilAnswers(`${url}/`, {}, 10_000);
  } catch (err) {
    await stopped(child);
    throw err;
  }
  return {
    url,
    pids: [child.pid!],
    close: async () => {
      await stopped(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
