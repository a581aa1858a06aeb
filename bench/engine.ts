// What the engine scenarios share: a Docker client, the test image check, a wsm client that waits until
// an operation has settled, and raw twins of wsm's containers made with dockerode directly.
import Docker from 'dockerode';
import type { ServerHandle } from './server-handle.js';

export const IMAGE = 'wsm-test/busybox:1';
/** Both sides stop with the same grace; the command exits on SIGTERM, so neither waits it out. */
export const STOP_GRACE_SECONDS = 5;
export const CONTAINER_CONFIG = [
  `image: ${IMAGE}`,
  `command: ["/bin/sh", "-c", "trap 'exit 0' TERM; httpd -f -p 6789 -h /home/src & wait"]`,
  '',
].join('\n');
export const ENGINE_ENV = {
  WSM_STOP_GRACE_SECONDS: String(STOP_GRACE_SECONDS),
  WSM_ACTION_WAIT_MS: '120000',
  WSM_RESYNC_SECONDS: '3600',
  WSM_CULLER_PERIOD_SECONDS: '86400',
};

export const docker = new Docker();

/** Why the engine scenarios cannot run here, or undefined when they can. */
export async function engineMissing(): Promise<string | undefined> {
  try {
    await docker.ping();
  } catch {
    return 'no Docker engine answers (run scripts/ci/start-dockerd.sh)';
  }
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    return `image ${IMAGE} is missing (run scripts/ci/build-test-image.sh)`;
  }
  return undefined;
}

export async function api(server: ServerHandle, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(server.url + path, {
    method,
    headers: { 'OAUTH-TOKEN': server.adminToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the request and returns once its operation has settled (the request waits for the engine). */
export async function untilSettled(server: ServerHandle, method: string, path: string, body?: unknown): Promise<void> {
  let op = (await api(server, method, path, body)).operation;
  while (op.state === 'pending' || op.state === 'running') {
    await sleep(2);
    op = (await api(server, 'GET', `/api/operations/${op.id}`)).operation;
  }
  if (op.state !== 'succeeded') throw new Error(`operation ${op.action} on ${path} ${op.state}: ${op.error}`);
}

export async function createWorkspace(server: ServerHandle, name: string): Promise<void> {
  await untilSettled(server, 'POST', '/api/workspaces', { workspace: { name, cluster_type: 'docker', container_config: CONTAINER_CONFIG } });
}

export async function deleteWorkspace(server: ServerHandle, name: string): Promise<void> {
  await api(server, 'DELETE', `/api/workspaces/${name}?delete_volume=true`).catch(() => undefined);
}

/** A container made directly with dockerode from the same settings wsm gave its own, on its own volume. */
export class RawTwin {
  private constructor(
    readonly name: string,
    private readonly options: Docker.ContainerCreateOptions,
  ) {}

  static async of(workspace: string, name: string): Promise<RawTwin> {
    const info = await docker.getContainer(`wsm-${workspace}`).inspect();
    const binds = (info.HostConfig.Binds ?? []).map((b) => b.replace(`wsm-${workspace}-data`, `${name}-data`));
    const twin = new RawTwin(name, {
      name,
      Image: info.Config.Image,
      Entrypoint: info.Config.Entrypoint ?? undefined,
      Cmd: info.Config.Cmd ?? undefined,
      Env: info.Config.Env,
      Hostname: name,
      ExposedPorts: info.Config.ExposedPorts,
      HostConfig: { Binds: binds, PortBindings: info.HostConfig.PortBindings, RestartPolicy: info.HostConfig.RestartPolicy },
    });
    await twin.remove();
    await docker.createVolume({ Name: `${name}-data` });
    await docker.createContainer(twin.options);
    return twin;
  }

  start(): Promise<unknown> {
    return docker.getContainer(this.name).start();
  }

  stop(): Promise<unknown> {
    return docker.getContainer(this.name).stop({ t: STOP_GRACE_SECONDS });
  }

  /** What wsm does for a patch: stop, remove, create with the new config, start. */
  async recreate(env: string[]): Promise<void> {
    const container = docker.getContainer(this.name);
    await container.stop({ t: STOP_GRACE_SECONDS }).catch(() => undefined);
    await container.remove({ force: true });
    const created = await docker.createContainer({ ...this.options, Env: env });
    await created.start();
  }

  async remove(): Promise<void> {
    await docker.getContainer(this.name).remove({ force: true }).catch(() => undefined);
    await docker.getVolume(`${this.name}-data`).remove().catch(() => undefined);
  }
}
