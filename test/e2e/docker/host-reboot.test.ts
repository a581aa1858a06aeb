// Fault 5 of the restart issue, on the real Docker engine: many workspaces desired running, a few
// desired stopped; wsm is SIGKILLed and every workspace container is stopped while it is down (what
// a host reboot or an engine restart leaves). The next `wsm serve` brings every desired-running one
// back in its start-up pass, never more than WSM_MAX_CONCURRENT_STARTS starting at once (its own
// gauges, read at /metrics), and starts nothing desired stopped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_IMAGE, dockerClient, dockerSkipReason, ensureDocker, waitFor } from '../../support/docker.js';
import { parsePrometheusText, sumOf } from '../../support/prom-text.js';
import { request } from '../../support/server.js';
import { WsmProcess } from '../../support/wsm-process.js';
import { containerOf, e2eName, inspectContainer, removeWorkspaceObjects } from './helpers.js';

/**
 * 40 by default: 200 (the figure; WSM_TEST_REBOOT_WORKSPACES=200) pass too but take over five
 * minutes on CI's engine (vfs storage, two cores), most of it making the containers.
 */
const RUNNING = Number(process.env.WSM_TEST_REBOOT_WORKSPACES ?? 40);
const STOPPED = 5;
const LIMIT = 4;
const METRICS_TOKEN = `metrics-${'y'.repeat(24)}`;

const ENV = {
  WSM_CLUSTER_TYPE: 'docker',
  WSM_MAX_CONCURRENT_STARTS: String(LIMIT),
  WSM_METRICS_TOKEN: METRICS_TOKEN,
  // An hour: only the start-up pass (and the engine's events) can bring anything back.
  WSM_RESYNC_SECONDS: '3600',
  WSM_ACTION_WAIT_MS: '0',
  WSM_STOP_GRACE_SECONDS: '1',
};

const prefix = e2eName('boot');
const running = Array.from({ length: RUNNING }, (_, i) => `${prefix}-${i}`);
const stopped = Array.from({ length: STOPPED }, (_, i) => `${prefix}-down-${i}`);
let wsm: WsmProcess | undefined;

async function inBatches(names: string[], size: number, each: (name: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < names.length; i += size) await Promise.all(names.slice(i, i + size).map(each));
}

async function all(): Promise<Map<string, any>> {
  const res = await wsm!.call('GET', `/api/workspaces?limit=${RUNNING + STOPPED + 10}&q=${prefix}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return new Map(res.body.workspaces.map((w: any) => [w.name, w]));
}

async function untilAll(what: string, check: (ws: any, name: string) => boolean, names: string[]): Promise<Map<string, any>> {
  let missing: string[] = [];
  try {
    return await waitFor(what, async () => {
      const seen = await all();
      missing = names.filter((n) => !seen.has(n) || !check(seen.get(n), n));
      return missing.length === 0 ? seen : undefined;
    }, 240_000, 1_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${missing.length} not yet, e.g. ${missing.slice(0, 3).join(', ')}`);
  }
}

describe(`a host reboot under ${RUNNING} desired-running Docker workspaces`, { skip: dockerSkipReason() }, () => {
  before(async () => {
    await ensureDocker();
    wsm = await WsmProcess.create(ENV);
    await wsm.start();
    await inBatches([...running, ...stopped], 10, async (name) => {
      const res = await wsm!.call('POST', '/api/workspaces', { workspace: { name, cluster_type: 'docker', container_config: `image: ${TEST_IMAGE}\n` } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    });
    await untilAll('all created and running', (w) => w.instance.status === 'RUNNING', [...running, ...stopped]);
    await inBatches(stopped, 10, async (name) => {
      const res = await wsm!.call('PUT', `/api/workspaces/${name}`, { workspace: { action: 'stop' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
    await untilAll('the few stopped', (w) => w.instance.status === 'STOPPED', stopped);
  });

  after(async () => {
    await wsm?.dispose();
    await removeWorkspaceObjects([...running, ...stopped]);
  });

  test('every desired-running workspace runs again after one start-up pass, at most the limit starting at once; none desired stopped starts', { timeout: 600_000 }, async () => {
    const before = await all();
    await wsm!.killHard();
    const docker = dockerClient();
    const ids = new Map<string, string>();
    await inBatches(running, 20, async (name) => {
      const info = await inspectContainer(name, docker);
      ids.set(name, info!.Id);
      await docker.getContainer(containerOf(name)).stop({ t: 1 });
    });

    await wsm!.start();
    // The store still says RUNNING from before the reboot: a restart counted says it was started again.
    const back = await untilAll('all running again', (w, n) => w.instance.status === 'RUNNING' && w.restart_count > before.get(n).restart_count, running);
    await inBatches(running, 20, async (name) => {
      assert.equal(back.get(name).restart_count, before.get(name).restart_count + 1, `${name} counted one restart`);
      const info = await inspectContainer(name, docker);
      assert.equal(info?.State.Status, 'running', `${name}: the container runs`);
      assert.equal(info?.Id, ids.get(name), `${name}: the same container, started again`);
    });

    const res = await request(wsm!.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(res.status, 200);
    const scrape = parsePrometheusText(res.body as string);
    const peak = sumOf(scrape, 'wsm_starts_in_progress_max');
    assert.ok(peak <= LIMIT, `never more than ${LIMIT} starts at once; the most were ${peak}`);
    assert.ok(peak >= 2, `the starts did overlap up to the limit (peak ${peak}): the limit was what held them back`);
    assert.equal(sumOf(scrape, 'wsm_starts_limit'), LIMIT);

    const now = await all();
    for (const name of stopped) {
      assert.equal(now.get(name).instance.status, 'STOPPED', `${name} desired stopped stays stopped`);
      assert.equal(now.get(name).desired_state, 'stopped');
      assert.equal((await inspectContainer(name, docker))?.State.Running, false, `${name}: its container was not started`);
    }
  });
});
