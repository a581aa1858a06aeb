// With 1,000 workspaces in every status, /metrics stays small: no series carries a workspace's name
// (requests to 100 different workspaces are one route template), the status gauges have one series per
// cluster type and status whatever the count, and only the opt-in family has one series per workspace.
// A replica that does not report store series (not the leader, later) exports none of them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { resolveServeConfig } from '../../src/cli/config.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { DEFAULT_LIFECYCLE } from '../../src/core/lifecycle.js';
import type { ObservedInstance, Runtime, RuntimeWorkspace } from '../../src/core/runtime.js';
import { buildSpec } from '../../src/core/spec.js';
import { INSTANCE_STATUSES, type ClusterType, type InstanceStatus, type WorkspaceRecord } from '../../src/core/types.js';
import { openStore } from '../../src/store/index.js';
import { labelValues, sumOf, type Scrape } from '../support/prom-text.js';
import { METRICS_TOKEN, scrape } from './helpers.js';

const COUNT = 1000;
const CLUSTER_TYPES: ClusterType[] = ['local', 'docker'];
const nameOf = (i: number) => `card-${String(i).padStart(4, '0')}`;
/** Every status appears, for both cluster types; some of each not-ended status desired running. */
const statusOf = (i: number): InstanceStatus => INSTANCE_STATUSES[i % INSTANCE_STATUSES.length]!;
const clusterOf = (i: number): ClusterType => CLUSTER_TYPES[Math.floor(i / INSTANCE_STATUSES.length) % 2]!;
const indexOf = (name: string) => Number(name.slice('card-'.length));
/** An ended instance of a workspace desired running would be restarted (the restart policy), changing its status: those are desired stopped. */
const ENDED: ReadonlySet<InstanceStatus> = new Set(['STOPPED', 'FAILED', 'SUCCEEDED', 'UNAVAILABLE']);
const desiredOf = (i: number) => (!ENDED.has(statusOf(i)) && i % 2 === 0 ? 'running' : 'stopped');

/** Reports each workspace in the status the test gave it: the engine is not what is measured here. */
class ScriptedRuntime implements Runtime {
  readonly supportsIngress = false;
  constructor(readonly clusterType: ClusterType) {}
  async apply(ws: RuntimeWorkspace): Promise<ObservedInstance> {
    return this.observe(ws);
  }
  async observe(ws: RuntimeWorkspace): Promise<ObservedInstance> {
    return { status: statusOf(indexOf(ws.name)), generation: ws.generation, instance_name: ws.name };
  }
  async remove(): Promise<void> {}
  async close(): Promise<void> {}
}

async function seed(dataDir: string): Promise<void> {
  const store = await openStore({ dataDir });
  const at = new Date().toISOString();
  const spec = buildSpec({ name: 'template', cluster_type: 'local', container_config: { image: 'wsm-test/busybox:1' }, lifecycle_config: {}, storage: { access_mode: 'ReadWriteOnce', request_size: '1Gi', retention_policy: 'Retain', mount_path: '/home/src' } }, { inheritedEnv: [], defaultImage: 'wsm-test/busybox:1' });
  spec.lifecycle = DEFAULT_LIFECYCLE;
  try {
    await store.transaction(async (tx) => {
      for (let i = 0; i < COUNT; i++) {
        const ws: WorkspaceRecord = {
          name: nameOf(i),
          uid: randomUUID(),
          cluster_type: clusterOf(i),
          project_uuid: `card${String(i).padStart(28, '0')}`,
          spec,
          desired_state: desiredOf(i),
          generation: 1,
          resource_version: 1,
          observed: { status: statusOf(i), observed_generation: 1, conditions: [], updated_at: at },
          activity: {},
          created_at: at,
          updated_at: at,
        };
        await tx.insertWorkspace(ws);
      }
    });
  } finally {
    await store.close();
  }
}

async function serve(dataDir: string, env: Record<string, string>, reportsStoreSeries?: () => boolean): Promise<RunningServer> {
  const config = resolveServeConfig({ host: '127.0.0.1', port: '0', dataDir, clusterType: 'local' }, { ...process.env, WSM_METRICS_TOKEN: METRICS_TOKEN, WSM_ADMIN_TOKEN: 'card-admin', ...env });
  const runtimes = new Map<ClusterType, Runtime>(CLUSTER_TYPES.map((t) => [t, new ScriptedRuntime(t)]));
  const server = await startServer(config, { logger: pino({ level: 'silent' }), runtimes, reportsStoreSeries });
  await server.controller.drained();
  return server;
}

const wsmSeries = (s: Scrape) => s.samples.filter((x) => x.name.startsWith('wsm_'));

describe(`metrics with ${COUNT} workspaces`, () => {
  let dataDir: string;
  const servers: RunningServer[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wsm-card-'));
    await seed(dataDir);
  });

  after(async () => {
    for (const s of servers) await s.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('bounded: no workspace name in any label, one status series per cluster type and status', async () => {
    const server = await serve(dataDir, {});
    servers.push(server);
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${server.url}/api/workspaces/${nameOf(i)}`, { headers: { 'OAUTH-TOKEN': 'card-admin' } });
      assert.equal(res.status, 200, await res.text());
    }
    await fetch(`${server.url}/no/such/path/${nameOf(1)}`);
    const scraped = await scrape(server.url);
    const values = labelValues(scraped);
    for (let i = 0; i < COUNT; i++) assert.ok(!values.has(nameOf(i)), `${nameOf(i)} is a label value`);
    assert.ok(![...values].some((v) => v.includes('card-')), 'no label value holds a workspace name or a URL');
    assert.equal(sumOf(scraped, 'wsm_http_request_duration_seconds_count', { route: '/api/workspaces/:name', method: 'GET', status_class: '2xx' }), 100);
    assert.equal(sumOf(scraped, 'wsm_http_request_duration_seconds_count', { route: 'unmatched' }), 1);

    const statusSeries = scraped.samples.filter((s) => s.name === 'wsm_workspaces');
    assert.equal(statusSeries.length, CLUSTER_TYPES.length * INSTANCE_STATUSES.length);
    assert.equal(sumOf(scraped, 'wsm_workspaces'), COUNT);
    for (const type of CLUSTER_TYPES) {
      for (const status of INSTANCE_STATUSES) {
        const expected = Array.from({ length: COUNT }, (_, i) => i).filter((i) => clusterOf(i) === type && statusOf(i) === status).length;
        assert.equal(sumOf(scraped, 'wsm_workspaces', { cluster_type: type, status }), expected, `${type} ${status}`);
      }
    }
    const mismatched = Array.from({ length: COUNT }, (_, i) => i).filter((i) => (desiredOf(i) === 'running' ? statusOf(i) !== 'RUNNING' : statusOf(i) !== 'STOPPED')).length;
    assert.equal(sumOf(scraped, 'wsm_workspaces_mismatched'), mismatched);
    // Every family together stays far below one series per workspace.
    const count = wsmSeries(scraped).length;
    assert.ok(count < 500, `${count} wsm_ series with ${COUNT} workspaces`);
    assert.ok(!scraped.families.has('wsm_workspace_status'), 'the per-workspace family is opt-in');
  });

  test('opt-in per-workspace labels: exactly one series per workspace, agreeing with the gauges', async () => {
    await servers.pop()?.close();
    const server = await serve(dataDir, { WSM_METRICS_WORKSPACE_LABELS: 'true' });
    servers.push(server);
    const scraped = await scrape(server.url);
    const per = scraped.samples.filter((s) => s.name === 'wsm_workspace_status');
    assert.equal(per.length, COUNT);
    assert.equal(new Set(per.map((s) => s.labels.workspace)).size, COUNT);
    assert.equal(sumOf(scraped, 'wsm_workspace_status', { cluster_type: 'docker', status: 'RUNNING' }), sumOf(scraped, 'wsm_workspaces', { cluster_type: 'docker', status: 'RUNNING' }));
    assert.equal(sumOf(scraped, 'wsm_workspace_status', { workspace: nameOf(7) }), 1);
  });

  test('a replica that does not report store series exports none: no double count across replicas', async () => {
    await servers.pop()?.close();
    const server = await serve(dataDir, { WSM_METRICS_WORKSPACE_LABELS: 'true' }, () => false);
    servers.push(server);
    const scraped = await scrape(server.url);
    assert.equal(sumOf(scraped, 'wsm_reports_store_series'), 0);
    for (const name of ['wsm_workspaces', 'wsm_workspaces_mismatched', 'wsm_workspace_status']) {
      assert.equal(scraped.samples.filter((s) => s.name === name).length, 0, `${name} is not exported`);
    }
    assert.equal(sumOf(scraped, 'wsm_build_info'), 1, 'the replica\'s own series still are');
  });
});
