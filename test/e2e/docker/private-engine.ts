// A dockerd of the test's own, on its own socket, data root, exec root (so its own containerd) and
// bridge, with the test images imported. The engine-fault test stops and starts this one by its
// pid: stopping the shared engine by name would pull it from under every other user of the machine.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { waitFor } from '../../support/docker.js';

const run = promisify(execFile);
/** iproute2's ip, or busybox's (busybox-static is there wherever the test images are built). */
async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return (await run('busybox', ['ip', ...args])).stdout;
  }
}

const BUILD_IMAGES = fileURLToPath(new URL('../../../scripts/ci/build-test-image.sh', import.meta.url));

export class PrivateEngine {
  readonly dir: string;
  readonly socket: string;
  readonly dockerHost: string;
  readonly docker: Docker;
  private readonly bridge = `wsme2e${randomBytes(3).toString('hex')}`;
  private process?: ChildProcess;
  private bridgeMade = false;

  private constructor(dir: string) {
    this.dir = dir;
    this.socket = join(dir, 'docker.sock');
    this.dockerHost = `unix://${this.socket}`;
    this.docker = new Docker({ socketPath: this.socket });
  }

  /** Makes the bridge, starts dockerd and imports the test images. */
  static async create(): Promise<PrivateEngine> {
    const engine = new PrivateEngine(await mkdtemp(join(tmpdir(), 'wsm-e2e-engine-')));
    try {
      await engine.makeBridge();
      await engine.start();
      await run('sh', [BUILD_IMAGES], { env: { ...process.env, DOCKER_HOST: engine.dockerHost }, timeout: 180_000 });
    } catch (err) {
      await engine.destroy();
      throw err;
    }
    return engine;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async answers(): Promise<boolean> {
    try {
      await this.docker.ping();
      return true;
    } catch {
      return false;
    }
  }

  async start(): Promise<void> {
    if (this.running()) return;
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    try {
      this.process = spawn('dockerd', [
        '--host', this.dockerHost,
        '--data-root', join(this.dir, 'data'),
        '--exec-root', join(this.dir, 'exec'),
        '--pidfile', join(this.dir, 'docker.pid'),
        '--bridge', this.bridge,
        // The shared engine owns the iptables chains; published ports still work through docker-proxy.
        '--iptables=false',
        '--storage-driver=vfs',
      ], { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    const child = this.process;
    let spawnError: Error | undefined;
    child.on('error', (err) => (spawnError = err));
    await waitFor('the private dockerd to answer', async () => {
      if (spawnError) throw new Error(`cannot run dockerd (install docker.io, see scripts/ci/start-dockerd.sh): ${spawnError.message}`);
      if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}`);
      return (await this.answers()) || undefined;
    }, 60_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.logTail()}`);
    });
  }

  /** SIGTERM, as an operator's `systemctl stop docker` would; SIGKILL if it has not gone in 60 s. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || !this.running()) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
    this.killOrphanedContainerd();
  }

  /** Stops the engine, removes its containers' state, its data and its bridge; never throws. */
  async destroy(): Promise<void> {
    if (this.running() && (await this.answers())) {
      const containers = await this.docker.listContainers({ all: true }).catch(() => []);
      for (const c of containers) await this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    await this.stop().catch(() => undefined);
    if (this.bridgeMade) await ip('link', 'del', this.bridge).catch(() => undefined);
    // vfs layers can hold read-only files; rm -rf copes where fs.rm may not.
    await run('rm', ['-rf', this.dir]).catch(() => rm(this.dir, { recursive: true, force: true }).catch(() => undefined));
  }

  logTail(): string {
    try {
      return readFileSync(join(this.dir, 'dockerd.log'), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no dockerd log)';
    }
  }

  private running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** dockerd stops the containerd it started, except when it was SIGKILLed. */
  private killOrphanedContainerd(): void {
    try {
      const pid = Number(readFileSync(join(this.dir, 'exec', 'containerd', 'containerd.pid'), 'utf8').trim());
      // Only when the pid is still that containerd (its command line names our exec root).
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (Number.isInteger(pid) && pid > 0 && cmdline.includes(this.dir)) process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already, as it should be.
    }
  }

  private async makeBridge(): Promise<void> {
    const stdout = await ip('-4', 'route');
    let subnet: string | undefined;
    for (let third = 200; third < 250 && !subnet; third++) {
      if (!stdout.includes(`172.31.${third}.`)) subnet = `172.31.${third}`;
    }
    if (!subnet) throw new Error('no free 172.31.x.0/24 subnet for the private engine bridge');
    await ip('link', 'add', this.bridge, 'type', 'bridge');
    this.bridgeMade = true;
    await ip('addr', 'add', `${subnet}.1/24`, 'dev', this.bridge);
    await ip('link', 'set', this.bridge, 'up');
  }
}
