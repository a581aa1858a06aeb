// `wsm serve` as an operator runs it: a child process on its own data dir and port, which a test
// can kill with SIGKILL and start again on the same data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type TestResponse } from './server.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

export class WsmProcess {
  readonly adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  private child: ChildProcess | undefined;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  static async create(env: Record<string, string>): Promise<WsmProcess> {
    return new WsmProcess(await mkdtemp(join(tmpdir(), 'wsm-proc-')), await freePort(), env);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  call<T = any>(method: string, path: string, body?: unknown): Promise<TestResponse<T>> {
    return request<T>(this.url, method, path, { body, defaultToken: this.adminToken });
  }

  /** Starts `wsm serve` and resolves once it answers /api/status. */
  async start(): Promise<void> {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data-dir', this.dataDir, '--port', String(this.port)], {
      env: { ...process.env, WSM_ADMIN_TOKEN: this.adminToken, WSM_LOG_LEVEL: 'error', ...this.env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const until = Date.now() + 60_000;
    for (;;) {
      const up = await this.call('GET', '/api/status').then((r) => r.status === 200, () => false);
      if (up) return;
      if (this.child.exitCode !== null) throw new Error(`wsm exited with code ${this.child.exitCode} before it answered`);
      if (Date.now() > until) throw new Error('wsm did not answer /api/status within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** SIGKILL: no shutdown of any kind, as a crash or an OOM kill would end it. */
  killHard(): Promise<void> {
    const child = this.child;
    return new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Kills the server and removes its data dir (the test removes the workspaces' instances first). */
  async dispose(): Promise<void> {
    await this.killHard();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
