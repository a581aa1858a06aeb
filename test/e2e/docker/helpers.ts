// Shared pieces of the Docker end-to-end tests: a client for wsm's HTTP API that reads like the API
// a user calls, unique workspace names, and cleanup by the names wsm gives containers and volumes
// (the server does not put the test-run label on them, so cleanup goes by name).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { request, type TestResponse } from '../../support/server.js';
import { dockerClient, httpGet, waitFor } from '../../support/docker.js';

/** A workspace name no other run uses: `e2e-<random>-<suffix>`. */
export function e2eName(suffix: string): string {
  return `e2e-${randomBytes(3).toString('hex')}-${suffix}`;
}

export const containerOf = (name: string) => `wsm-${name}`;
export const volumeOf = (name: string) => `wsm-${name}-data`;

/** The HTTP API of one wsm server, as a user with the admin token calls it. */
export class Api {
  constructor(readonly baseUrl: string, private readonly token: string) {}

  call<T = any>(method: string, path: string, body?: unknown): Promise<TestResponse<T>> {
    return request<T>(this.baseUrl, method, path, { body, defaultToken: this.token });
  }

  create(name: string, containerConfig: string): Promise<TestResponse> {
    return this.call('POST', '/api/workspaces', { workspace: { name, cluster_type: 'docker', container_config: containerConfig } });
  }

  act(name: string, action: string, extra: Record<string, unknown> = {}): Promise<TestResponse> {
    return this.call('PUT', `/api/workspaces/${name}`, { workspace: { action, ...extra } });
  }

  async get(name: string): Promise<any> {
    const res = await this.call('GET', `/api/workspaces/${name}`);
    assert.equal(res.status, 200, `GET ${name}: ${JSON.stringify(res.body)}`);
    return res.body.workspace;
  }

  async operation(id: string): Promise<any> {
    const res = await this.call('GET', `/api/operations/${id}`);
    assert.equal(res.status, 200, `GET operation ${id}: ${JSON.stringify(res.body)}`);
    return res.body.operation;
  }

  /** Polls the workspace until `check` accepts it; the failure names the last status seen. */
  async waitFor(name: string, what: string, check: (ws: any) => boolean, timeoutMs = 60_000): Promise<any> {
    let last: any;
    try {
      return await waitFor(what, async () => {
        last = await this.get(name);
        return check(last) ? last : undefined;
      }, timeoutMs, 250);
    } catch (err) {
      const seen = last ? `${last.instance.status} (${last.status_message ?? 'no message'}; op ${JSON.stringify(last.last_operation)})` : 'nothing';
      throw new Error(`${(err as Error).message}; last seen: ${seen}`);
    }
  }

  waitForStatus(name: string, status: string, timeoutMs = 60_000): Promise<any> {
    return this.waitFor(name, `${name} to be ${status}`, (ws) => ws.instance.status === status, timeoutMs);
  }

  async waitForOperation(id: string, state: 'succeeded' | 'failed', timeoutMs = 60_000): Promise<any> {
    return waitFor(`operation ${id} to be ${state}`, async () => {
      const op = await this.operation(id);
      if (op.state !== 'pending' && op.state !== 'running' && op.state !== state) {
        throw new Error(`operation ${id} ended ${op.state}: ${op.error}`);
      }
      return op.state === state ? op : undefined;
    }, timeoutMs, 250);
  }
}

/** The container wsm made for a workspace, or undefined when there is none. */
export async function inspectContainer(name: string, docker: Docker = dockerClient()): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(containerOf(name)).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

export async function volumeExists(name: string, docker: Docker = dockerClient()): Promise<boolean> {
  try {
    await docker.getVolume(volumeOf(name)).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Removes the containers and volumes of these workspaces (and any extra containers); never throws. */
export async function removeWorkspaceObjects(names: string[], extraContainers: string[] = [], docker: Docker = dockerClient()): Promise<void> {
  for (const c of [...names.map(containerOf), ...extraContainers]) {
    await docker.getContainer(c).remove({ force: true }).catch(() => undefined);
  }
  for (const name of names) await docker.getVolume(volumeOf(name)).remove().catch(() => undefined);
}

/** GETs a path of a workspace's url until it answers 200; returns the body. */
export function served(url: string, path = '/', timeoutMs = 30_000): Promise<string> {
  return waitFor(`${url}${path} to answer 200`, async () => {
    const res = await httpGet(url + path);
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    return res.body;
  }, timeoutMs, 250);
}

/** The busybox test images serve /home/src; the image's /VERSION tells :1 from :2. */
export function imageConfig(image: string, extra = ''): string {
  return `image: ${image}\n${extra}`;
}
