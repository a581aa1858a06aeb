// Shared helpers for tests that need the real Docker engine: make sure it answers (starting it and
// building the test images with the CI scripts when it does not), unique names, and cleanup of
// everything a test run created. In CI the engine is always there, so an engine that cannot be
// reached fails the tests loudly; WSM_SKIP_DOCKER=1 is the only way to skip them.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import type { RuntimeWorkspace } from '../../src/core/runtime.js';
import { dockerOptionsFromEnv, type DockerRuntimeOptions } from '../../src/runtimes/docker/index.js';

const run = promisify(execFile);

export const TEST_IMAGE = 'wsm-test/busybox:1';
export const TEST_IMAGE_2 = 'wsm-test/busybox:2';
/** Put on every container and volume a test run makes, so `after` hooks find them all. */
export const TEST_RUN_LABEL = 'wsm.test-run';

const SCRIPTS = fileURLToPath(new URL('../../scripts/ci/', import.meta.url));

/** Truthy (a reason) when the Docker tests are to be skipped: pass it as `{ skip: dockerSkipReason() }`. */
export function dockerSkipReason(): string | false {
  return process.env.WSM_SKIP_DOCKER === '1' ? 'WSM_SKIP_DOCKER=1' : false;
}

let client: Docker | undefined;
/** A client for the engine the tests use (DOCKER_HOST when set, else the local socket). */
export function dockerClient(): Docker {
  client ??= new Docker();
  return client;
}

async function answers(): Promise<boolean> {
  try {
    await dockerClient().ping();
    return true;
  } catch {
    return false;
  }
}

async function imagesPresent(): Promise<boolean> {
  for (const image of [TEST_IMAGE, TEST_IMAGE_2]) {
    try {
      await dockerClient().getImage(image).inspect();
    } catch {
      return false;
    }
  }
  return true;
}

async function runScript(script: string): Promise<void> {
  try {
    await run('sh', [SCRIPTS + script], { timeout: 180_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`scripts/ci/${script} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

let ready: Promise<void> | undefined;
/** Resolves once the engine answers and the test images exist; rejects with a clear reason. */
export function ensureDocker(): Promise<void> {
  ready ??= (async () => {
    if (!(await answers())) {
      await runScript('start-dockerd.sh').catch((err: Error) => {
        throw new Error(
          `The Docker engine does not answer and could not be started (${err.message}). ` +
            'Start it with scripts/ci/start-dockerd.sh, or set WSM_SKIP_DOCKER=1 to skip the Docker tests.',
        );
      });
      if (!(await answers())) throw new Error('The Docker engine still does not answer after scripts/ci/start-dockerd.sh.');
    }
    if (!(await imagesPresent())) await runScript('build-test-image.sh');
  })();
  return ready;
}

/** A fresh id for one test run (one test file), usable in DNS labels. */
export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

/** A workspace name unique to this run: `t-<run>-<suffix>`, a lower-case DNS label. */
export function uniqueName(runId: string, suffix = randomBytes(2).toString('hex')): string {
  return `t-${runId}-${suffix}`.slice(0, 55);
}

/** DockerRuntime options for a test run: the same engine as dockerClient(), and the run's label. */
export function testRuntimeOptions(runId: string, extra: DockerRuntimeOptions = {}): DockerRuntimeOptions {
  return { ...dockerOptionsFromEnv(), stopGraceSeconds: 1, ...extra, labels: { [TEST_RUN_LABEL]: runId, ...extra.labels } };
}

/** Removes every container and volume labelled with this run's id; never throws. */
export async function cleanupDocker(runId: string): Promise<void> {
  const docker = dockerClient();
  const filters = { label: [`${TEST_RUN_LABEL}=${runId}`] };
  try {
    const containers = await docker.listContainers({ all: true, filters });
    await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    const { Volumes } = await docker.listVolumes({ filters });
    await Promise.all((Volumes ?? []).map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)));
  } catch {
    // The engine is gone: nothing left to clean.
  }
}

/** A workspace as the controller would hand it to a runtime, with the test image and defaults. */
export function testWorkspace(name: string, overrides: Partial<RuntimeWorkspace> = {}): RuntimeWorkspace {
  return {
    name,
    generation: 1,
    desired: 'running',
    container: {},
    image: TEST_IMAGE,
    env: [],
    lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 } },
    storage: { access_mode: 'ReadWriteOnce', request_size: '1Gi', retention_policy: 'Retain', mount_path: '/home/src' },
    ingress: { enabled: false },
    hooks: {},
    ...overrides,
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after timeoutMs with `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * One GET with node:http. Not fetch: Node 20's fetch can leave its promise pending with nothing
 * keeping the process alive when docker-proxy accepts and then drops the connection (the
 * container's server not listening yet), and the test runner then cancels the test.
 */
export function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** GETs a URL until it answers 200, returning the body. */
export function httpGetText(url: string, timeoutMs = 30_000): Promise<string> {
  return waitFor(`GET ${url} to answer 200`, async () => {
    const { status, body } = await httpGet(url);
    if (status !== 200) throw new Error(`status ${status}`);
    return body;
  }, timeoutMs);
}

/** Runs the docker CLI, as a person at the terminal would. */
export async function dockerCli(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { timeout: 60_000 });
  return stdout.trim();
}
