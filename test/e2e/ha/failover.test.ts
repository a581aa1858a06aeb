// Three replicas on one PostgreSQL take 200 mixed actions (create, stop, resume, patch, delete) from
// ten clients while the leader is killed with SIGKILL three times, a new replica joining after each
// kill. The engine is the recording runtime, whose state the replicas share: every change it carried
// out is logged with the pid that made it. Afterwards every action that got a 2xx is in the final
// state, and each operation was carried out exactly once: the log of each workspace is exactly its
// operations, in order, nothing twice (so no workspace was started or stopped twice by two leaders).
// The clients send to followers (a request in flight on the killed leader has no answer to judge) and
// retry a failed request on another replica with the same Idempotency-Key.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, request, type TestResponse } from '../../support/server.js';
import { readCalls, type RecordedCall } from '../../support/recording-runtime.js';
import { postgresTestUrl } from '../../store/postgres-url.js';
import { ADMIN, alive, cleanupClusters, cluster, exited, type Replica } from './cluster.js';

const baseUrl = postgresTestUrl('failover under load');
const WORKSPACES = 10;
/** Per workspace: create, then (stop, resume, patch) this many times, then delete or stop: 20 actions. */
const ROUNDS = 6;
const KILLS = 3;
const dirs: string[] = [];
after(async () => {
  await cleanupClusters();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

type Action = { method: 'POST' | 'PUT' | 'DELETE'; path: string; body?: unknown; expect: Omit<RecordedCall, 'pid' | 'name'> };

function plan(name: string, lastIsDelete: boolean): Action[] {
  const actions: Action[] = [];
  let generation = 1;
  actions.push({ method: 'POST', path: '/api/workspaces', body: { workspace: { name } }, expect: { call: 'apply', generation, desired: 'running' } });
  for (let round = 1; round <= ROUNDS; round++) {
    const put = (workspace: object) => ({ method: 'PUT' as const, path: `/api/workspaces/${name}`, body: { workspace } });
    actions.push({ ...put({ action: 'stop' }), expect: { call: 'apply', generation, desired: 'stopped' } });
    actions.push({ ...put({ action: 'resume' }), expect: { call: 'apply', generation, desired: 'running' } });
    generation += 1;
    actions.push({ ...put({ action: 'patch', container_config: `env:\n  - name: ROUND\n    value: "${round}"\n` }), expect: { call: 'apply', generation, desired: 'running' } });
  }
  actions.push(
    lastIsDelete
      ? { method: 'DELETE', path: `/api/workspaces/${name}`, expect: { call: 'remove' } }
      : { method: 'PUT', path: `/api/workspaces/${name}`, body: { workspace: { action: 'stop' } }, expect: { call: 'apply', generation, desired: 'stopped' } },
  );
  return actions;
}

describe('failover under load', { skip: baseUrl === undefined }, () => {
  test('the leader killed three times during 200 actions: every 2xx kept, every operation carried out exactly once', async () => {
    const recordingDir = await mkdtemp(join(tmpdir(), 'wsm-recording-'));
    dirs.push(recordingDir);
    const c = await cluster({ databaseUrl: baseUrl!, size: 3, recordingDir, leaseSeconds: 2 });
    let leader = await c.leader();
    const inFlight = new Map<Replica, number>();
    let turn = 0;
    const follower = () => {
      const candidates = c.replicas.filter((r) => r !== leader && alive(r.child));
      return candidates[turn++ % candidates.length]!;
    };

    /** Sends until a 2xx, each time to a follower, with the same Idempotency-Key (POST and PUT take one). */
    const send = async (action: Action, key: string): Promise<TestResponse> => {
      const deadline = Date.now() + 60_000;
      let uncertain = false;
      for (;;) {
        const replica = follower();
        inFlight.set(replica, (inFlight.get(replica) ?? 0) + 1);
        let res: TestResponse | undefined;
        try {
          res = await request(replica.base, action.method, action.path, { defaultToken: ADMIN, body: action.body, headers: { 'Idempotency-Key': key } });
        } catch {
          uncertain = true;
        } finally {
          inFlight.set(replica, inFlight.get(replica)! - 1);
        }
        if (res && res.status >= 200 && res.status < 300) return res;
        // A DELETE has no key: when an earlier try may have gone through, its workspace being gone is the answer.
        if (res?.status === 404 && action.method === 'DELETE' && uncertain) return res;
        if (res && res.status < 500 && res.status !== 409) assert.fail(`${action.method} ${action.path}: ${res.status} ${JSON.stringify(res.body)}`);
        if (res) uncertain = true;
        if (Date.now() > deadline) assert.fail(`${action.method} ${action.path}: no 2xx within 60 s (last ${res?.status})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    const total = WORKSPACES * (3 * ROUNDS + 2);
    /** Kill k comes once this many actions are done; no more than a round of actions may start before it. */
    const killAt = (k: number) => Math.floor((k * total) / (KILLS + 1));
    let started = 0;
    let done = 0;
    let kills = 0;
    const client = async (index: number) => {
      const name = `fo-${index}`;
      for (const [step, action] of plan(name, index % 2 === 0).entries()) {
        // The load runs faster than a replica starts: held back so that each kill comes amid actions.
        await eventually(async () => kills >= KILLS || started < killAt(kills + 1) + WORKSPACES, 180_000, 'the next kill');
        started += 1;
        const res = await send(action, `${name}-${step}`);
        const operation = res.body?.workspace?.last_operation;
        // Waits for each operation before the next action, so none is merged into a later one.
        if (operation) {
          await eventually(async () => {
            const op = await request(follower().base, 'GET', `/api/operations/${operation.id}`, { defaultToken: ADMIN }).catch(() => undefined);
            if (op?.body?.operation?.state === 'failed') assert.fail(`operation ${operation.id} failed: ${JSON.stringify(op.body)}`);
            return op?.body?.operation?.state === 'succeeded';
          }, 60_000, `${name}'s operation ${operation.action} to succeed`);
        }
        if (action.method === 'DELETE') {
          await eventually(async () => (await request(follower().base, 'GET', `/api/workspaces/${name}`, { defaultToken: ADMIN }).catch(() => undefined))?.status === 404, 60_000, `${name} to be deleted`);
        }
        done += 1;
      }
    };

    const failovers: number[] = [];
    const killer = async () => {
      let joining: Promise<Replica> | undefined;
      for (let kill = 1; kill <= KILLS; kill++) {
        await eventually(async () => done >= killAt(kill), 120_000, `${killAt(kill)} actions to be done`);
        // Three replicas again before the next kill: the one started after the last kill is up.
        await joining;
        // A request on the leader when it dies has no answer to judge; the clients send to followers.
        await eventually(async () => (inFlight.get(leader) ?? 0) === 0, 30_000, 'no request in flight on the leader');
        const killed = leader;
        const t0 = performance.now();
        killed.child.kill('SIGKILL');
        kills += 1;
        await exited(killed.child);
        leader = await c.leader(30_000);
        failovers.push(performance.now() - t0);
        joining = c.start();
      }
      await joining;
    };

    await Promise.all([killer(), ...Array.from({ length: WORKSPACES }, (_, i) => client(i))]);
    process.stdout.write(`# failover after SIGKILL of the leader (lease 2 s): ${failovers.map((ms) => `${(ms / 1000).toFixed(2)} s`).join(', ')}\n`);
    assert.equal(failovers.length, KILLS);
    assert.equal(done, total);

    // Every 2xx is in the final state, read from a replica that never led.
    const reader = c.replicas.find((r) => r !== leader && alive(r.child))!;
    for (let i = 0; i < WORKSPACES; i++) {
      const ws = await request(reader.base, 'GET', `/api/workspaces/fo-${i}`, { defaultToken: ADMIN });
      if (i % 2 === 0) {
        assert.equal(ws.status, 404, `fo-${i} was deleted`);
        continue;
      }
      assert.equal(ws.status, 200);
      assert.equal(ws.body.workspace.desired_state, 'stopped');
      assert.equal(ws.body.workspace.generation, 1 + ROUNDS);
      assert.equal(ws.body.workspace.instance.status, 'STOPPED');
      assert.match(ws.body.workspace.container_config, new RegExp(`value: "?${ROUNDS}"?`));
    }
    const { rows } = await c.db.query<{ workspace: string; n: string; open: string }>(
      `select workspace, count(*) as n, count(*) filter (where state <> 'succeeded') as open from operations group by workspace order by workspace`,
    );
    assert.deepEqual(rows.map((r) => [r.workspace, Number(r.n), Number(r.open)]), Array.from({ length: WORKSPACES }, (_, i) => [`fo-${i}`, 3 * ROUNDS + 2, 0]).sort(), 'one operation per action, all succeeded');

    // Each operation reached the engine exactly once, in order.
    const calls = readCalls(recordingDir);
    for (let i = 0; i < WORKSPACES; i++) {
      const name = `fo-${i}`;
      const recorded = calls.filter((call) => call.name === name).map(({ pid: _pid, name: _name, ...call }) => call);
      assert.deepEqual(recorded, plan(name, i % 2 === 0).map((a) => a.expect), `what the engine did to ${name}`);
    }
    const byPid = new Map<number, number>();
    for (const call of calls) byPid.set(call.pid, (byPid.get(call.pid) ?? 0) + 1);
    process.stdout.write(`# engine calls by replica pid: ${JSON.stringify(Object.fromEntries(byPid))}\n`);
    assert.ok(byPid.size >= KILLS + 1, `the engine was driven by ${byPid.size} leaders in turn`);
  });
});
