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
import { eventually } from '../../support/server.js';
import { postgresTestUrl } from '../../store/postgres-url.js';
import { alive, cleanupClusters, cluster, exited, type Replica } from './cluster.js';
import { ActionLoad } from './action-load.js';

const baseUrl = postgresTestUrl('failover under load');
const WORKSPACES = 10;
const ROUNDS = 6;
const KILLS = 3;
const dirs: string[] = [];
after(async () => {
  await cleanupClusters();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('failover under load', { skip: baseUrl === undefined }, () => {
  test('the leader killed three times during 200 actions: every 2xx kept, every operation carried out exactly once', async () => {
    const recordingDir = await mkdtemp(join(tmpdir(), 'wsm-recording-'));
    dirs.push(recordingDir);
    const c = await cluster({ databaseUrl: baseUrl!, size: 3, recordingDir, leaseSeconds: 2 });
    let leader = await c.leader();
    let turn = 0;
    let kills = 0;
    const load: ActionLoad = new ActionLoad({
      workspaces: WORKSPACES,
      rounds: ROUNDS,
      pick: () => {
        const followers = c.replicas.filter((r) => r !== leader && alive(r.child));
        return followers[turn++ % followers.length]!;
      },
      // The load runs faster than a replica starts: held back so that each kill comes amid actions.
      beforeAction: () => eventually(async () => kills >= KILLS || load.started < killAt(kills + 1) + WORKSPACES, 180_000, 'the next kill'),
    });
    /** Kill k comes once this many actions are done. */
    const killAt = (k: number) => Math.floor((k * load.total) / (KILLS + 1));

    const failovers: number[] = [];
    const killer = async () => {
      let joining: Promise<Replica> | undefined;
      for (let kill = 1; kill <= KILLS; kill++) {
        await eventually(async () => load.done >= killAt(kill), 120_000, `${killAt(kill)} actions to be done`);
        // Three replicas again before the next kill: the one started after the last kill is up.
        await joining;
        // A request on the leader when it dies has no answer to judge; the clients send to followers.
        await eventually(async () => (load.inFlight.get(leader) ?? 0) === 0, 30_000, 'no request in flight on the leader');
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

    await Promise.all([killer(), load.run()]);
    process.stdout.write(`# failover after SIGKILL of the leader (lease 2 s): ${failovers.map((ms) => `${(ms / 1000).toFixed(2)} s`).join(', ')}\n`);
    assert.equal(failovers.length, KILLS);
    assert.equal(load.total, 200);
    const byPid = await load.verify(c, c.replicas.find((r) => r !== leader && alive(r.child))!, recordingDir);
    process.stdout.write(`# engine calls by replica pid: ${JSON.stringify(Object.fromEntries(byPid))}\n`);
    assert.ok(byPid.size >= KILLS + 1, `the engine was driven by ${byPid.size} leaders in turn`);
  });
});
