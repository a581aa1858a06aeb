// A rolling restart of three `wsm serve` replicas under steady load, through a balancer that sends only
// to replicas whose /readyz says ready (test/e2e/ha/balancer.ts): each replica in turn gets SIGTERM,
// drains (readiness says draining, the lease is handed over, what still arrives is served, requests
// in flight finish), exits 0 and is started again. Not one request fails: GETs of one workspace and of
// the list, and PUTs that stop and resume workspaces (each waits for its operation, whoever leads).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, localContainerConfig, request } from '../../support/server.js';
import { postgresTestUrl } from '../../store/postgres-url.js';
import { ADMIN, cleanupClusters, cluster, exited } from './cluster.js';
import { startBalancer, type Balancer } from './balancer.js';

const baseUrl = postgresTestUrl('rolling restart under load');
const DRAIN_SECONDS = 2;
let balancer: Balancer | undefined;
after(async () => {
  await balancer?.close();
  await cleanupClusters();
});

describe('rolling restart under load', { skip: baseUrl === undefined }, () => {
  test('each of three replicas restarted in turn (SIGTERM, drain, start): no request fails', async () => {
    const c = await cluster({ databaseUrl: baseUrl!, size: 3, env: { WSM_DRAIN_SECONDS: String(DRAIN_SECONDS), WSM_LOG_LEVEL: 'info' }, logDir: process.env.WSM_TEST_HA_LOG_DIR });
    const lb = (balancer = await startBalancer(() => c.replicas.map((r) => r.base)));
    const names = ['roll-0', 'roll-1', 'roll-2'];
    for (const name of names) {
      const created = await request(lb.url, 'POST', '/api/workspaces', { defaultToken: ADMIN, body: { workspace: { name, container_config: localContainerConfig() } } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }

    const failures: string[] = [];
    const answered = { get: 0, put: 0 };
    let running = true;
    const call = async (method: string, path: string, body?: unknown): Promise<boolean> => {
      try {
        const res = await request(lb.url, method, path, { defaultToken: ADMIN, body });
        if (res.status >= 200 && res.status < 300) return true;
        failures.push(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      } catch (err) {
        failures.push(`${method} ${path}: ${String(err)}`);
      }
      return false;
    };
    const reader = async (name: string) => {
      while (running) {
        if (await call('GET', `/api/workspaces/${name}`)) answered.get += 1;
        if (await call('GET', '/api/workspaces?limit=100')) answered.get += 1;
      }
    };
    const writer = async (name: string) => {
      for (let i = 0; running; i++) {
        if (await call('PUT', `/api/workspaces/${name}`, { workspace: { action: i % 2 === 0 ? 'stop' : 'resume' } })) answered.put += 1;
      }
    };
    const load = Promise.all([...names.map(reader), ...names.map(writer)]);

    const originals = [...c.replicas];
    for (const replica of originals) {
      const before = { ...answered };
      replica.child.kill('SIGTERM');
      await exited(replica.child);
      assert.equal(replica.child.exitCode, 0, 'the replica exited cleanly after draining');
      const again = await c.restart(replica);
      await eventually(async () => lb.seen.get(again.base)?.at(-1) === 'ready', 60_000, 'the restarted replica to be ready at the balancer');
      assert.ok(answered.get > before.get && answered.put > before.put, 'requests were answered while the replica restarted');
    }
    running = false;
    await load;

    assert.deepEqual(failures, [], `no request failed (readiness seen: ${JSON.stringify(Object.fromEntries(lb.seen))})`);
    for (const replica of originals) assert.ok(lb.seen.get(replica.base)!.includes('draining'), `${replica.base} said it was draining`);
    process.stdout.write(`# rolling restart: ${answered.get} GETs and ${answered.put} PUTs answered, none failed\n`);
    const leaders = await Promise.all(c.replicas.map(async (r) => ((await (await fetch(`${r.base}/readyz`)).json()) as { leader: { leading: boolean } }).leader.leading));
    await c.leader();
    assert.ok(leaders.filter(Boolean).length <= 1);
  });
});
