// Fault 5 of the restart issue, on local processes: many workspaces desired running, a few desired
// stopped; wsm is SIGKILLed and every workspace process is killed while it is down (what a host reboot
// leaves). The next `wsm serve` brings every desired-running one back in its first pass, never more
// than WSM_MAX_CONCURRENT_STARTS starts at once (its own gauges, read at /metrics), and starts nothing
// desired stopped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../support/docker.js';
import { parsePrometheusText, sumOf } from '../../support/prom-text.js';
import { request } from '../../support/server.js';
import { WsmProcess } from '../../support/wsm-process.js';
import { groupAlive as alive, killLocalInstances, localState } from '../../support/local-instances.js';

const RUNNING = 200;
const STOPPED = 10;
const LIMIT = 3;
const METRICS_TOKEN = `metrics-${'x'.repeat(24)}`;

const ENV = {
  WSM_MAX_CONCURRENT_STARTS: String(LIMIT),
  WSM_METRICS_TOKEN: METRICS_TOKEN,
  // An hour: only the start-up pass can bring anything back.
  WSM_RESYNC_SECONDS: '3600',
  WSM_ACTION_WAIT_MS: '0',
  WSM_STOP_GRACE_SECONDS: '1',
  WSM_CLUSTER_TYPE: 'local',
};

const running = Array.from({ length: RUNNING }, (_, i) => `boot-${i}`);
const stopped = Array.from({ length: STOPPED }, (_, i) => `kept-down-${i}`);
let wsm: WsmProcess;

async function inBatches(names: string[], each: (name: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map(each));
}

async function all(): Promise<Map<string, any>> {
  const res = await wsm.call('GET', `/api/workspaces?limit=${RUNNING + STOPPED + 10}`);
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
    }, 120_000, 500);
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${missing.length} not yet, e.g. ${missing.slice(0, 3).join(', ')}`);
  }
}

const state = (name: string) => localState(wsm.dataDir, name);

async function metrics(): Promise<ReturnType<typeof parsePrometheusText>> {
  const res = await request(wsm.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(res.status, 200);
  return parsePrometheusText(res.body as string);
}

describe(`a host reboot under ${RUNNING} desired-running local workspaces`, () => {
  before(async () => {
    wsm = await WsmProcess.create(ENV);
    await wsm.start();
    const config = 'command: [sleep, "3600"]\n';
    await inBatches([...running, ...stopped], async (name) => {
      const res = await wsm.call('POST', '/api/workspaces', { workspace: { name, cluster_type: 'local', container_config: config } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    });
    await inBatches(stopped, async (name) => {
      const res = await wsm.call('PUT', `/api/workspaces/${name}`, { workspace: { action: 'stop' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
    await untilAll('all created and settled', (w, n) => w.instance.status === (n.startsWith('kept-down') ? 'STOPPED' : 'RUNNING'), [...running, ...stopped]);
  });

  after(async () => {
    await wsm.killHard();
    await killLocalInstances(wsm.dataDir, running);
    await wsm.dispose();
  });

  test('every desired-running workspace runs again after one start-up pass, at most the limit starting at once; none desired stopped starts', async () => {
    const before = await all();
    await wsm.killHard();
    const killed: number[] = [];
    for (const name of running) {
      const { pgid } = await state(name);
      process.kill(-pgid, 'SIGKILL');
      killed.push(pgid);
    }
    await waitFor('every process gone', () => (killed.every((pgid) => !alive(pgid)) ? true : undefined), 20_000, 100);

    await wsm.start();
    // The store still says RUNNING from before the reboot: a restart counted says it was started again.
    const back = await untilAll('all running again', (w, n) => w.instance.status === 'RUNNING' && w.restart_count > before.get(n).restart_count, running);
    for (const name of running) {
      assert.equal(back.get(name).restart_count, before.get(name).restart_count + 1, `${name} counted one restart`);
      const s = await state(name);
      assert.ok(alive(s.pgid), `${name}: the process the store names runs`);
      assert.ok(!killed.includes(s.pgid), `${name}: a new process`);
    }
    const scrape = await metrics();
    const peak = sumOf(scrape, 'wsm_starts_in_progress_max');
    assert.ok(peak <= LIMIT, `never more than ${LIMIT} starts at once; the most were ${peak}`);
    assert.ok(peak >= 2, `the starts did overlap up to the limit (peak ${peak}): the limit was what held them back`);
    assert.equal(sumOf(scrape, 'wsm_starts_limit'), LIMIT);

    const now = await all();
    for (const name of stopped) {
      assert.equal(now.get(name).instance.status, 'STOPPED', `${name} desired stopped stays stopped`);
      assert.equal(now.get(name).desired_state, 'stopped');
      assert.equal((await state(name)).status, 'stopped');
    }
  });
});
