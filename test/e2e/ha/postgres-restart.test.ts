// Three replicas on a PostgreSQL of the test's own, which is stopped (every connection cut) and started
// again in the middle of mixed actions, down long enough for the leader's lease to run out. The
// replicas stay up, reconnect, elect again, and nothing is lost: every action that got a 2xx is in the
// final state, each operation reached the engine (the recording runtime) exactly once, and a change
// made on one replica after the restart reaches another's event stream (its listening connection is back).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, request } from '../../support/server.js';
import { readSse, type SseEvent } from '../../support/sse.js';
import { privatePostgres, type PrivatePostgres } from '../../support/private-postgres.js';
import { postgresTestUrl } from '../../store/postgres-url.js';
import { ADMIN, alive, cleanupClusters, cluster, logExcerpt } from './cluster.js';
import { ActionLoad } from './action-load.js';

// The shared server's presence says PostgreSQL is installed; this test makes its own.
const sharedUrl = postgresTestUrl('PostgreSQL restarted under load');
const LEASE_SECONDS = 2;
const WORKSPACES = 6;
const ROUNDS = 3;
let server: PrivatePostgres | undefined;
const dirs: string[] = [];
after(async () => {
  await cleanupClusters();
  await server?.destroy();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('PostgreSQL restarted under load', { skip: sharedUrl === undefined }, () => {
  test('the replicas reconnect and elect again; every 2xx kept, every operation carried out once', async () => {
    server = await privatePostgres();
    const recordingDir = await mkdtemp(join(tmpdir(), 'wsm-recording-'));
    // Their warnings (kept in files) are what explains a failure of a test this long: added to its message.
    const logDir = await mkdtemp(join(tmpdir(), 'wsm-ha-logs-'));
    dirs.push(recordingDir, logDir);
    const c = await cluster({ databaseUrl: server.url, size: 3, recordingDir, leaseSeconds: LEASE_SECONDS, logDir });
    const before = await c.leader();
    let turn = 0;
    let restarted = false;
    const load: ActionLoad = new ActionLoad({
      workspaces: WORKSPACES,
      rounds: ROUNDS,
      pick: () => c.replicas[turn++ % c.replicas.length]!,
      // Held back so that the restart comes amid actions, with most of them still to come after it.
      beforeAction: () => eventually(async () => restarted || load.started < restartAt + WORKSPACES, 120_000, 'the restart'),
    });
    const restartAt = Math.floor(load.total / 3);

    const restarter = async () => {
      await eventually(async () => load.done >= restartAt, 120_000, `${restartAt} actions to be done`);
      await server!.stop();
      restarted = true;
      // Down for longer than the lease: the leader must give up its term and an election follow.
      await new Promise((resolve) => setTimeout(resolve, (2 * LEASE_SECONDS + 1) * 1000));
      await server!.start();
    };
    try {
      await Promise.all([restarter(), load.run()]);
      assert.deepEqual(c.replicas.map((r) => alive(r.child)), [true, true, true], 'no replica died with the database');
      await load.verify(c, c.replicas[0]!, recordingDir);
    } catch (err) {
      if (err instanceof Error) err.message += `\nthe last warnings of each replica:\n${await logExcerpt(logDir)}`;
      throw err;
    }
    const leader = await c.leader();
    const { rows } = await c.db.query<{ term: string }>('select term from wsm_leader_lease');
    process.stdout.write(`# leader before the restart: pid ${before.child.pid}; after: pid ${leader.child.pid}, term ${rows[0]!.term}\n`);
    const ready = await Promise.all(c.replicas.map(async (r) => (await (await fetch(`${r.base}/readyz`)).json()) as { status: string; leader: { leading: boolean } }));
    assert.deepEqual(ready.map((r) => r.status), ['ready', 'ready', 'ready']);
    assert.equal(ready.filter((r) => r.leader.leading).length, 1, 'one replica leads');

    // Each replica's listening connection is back: a change on one reaches the others' streams.
    const [writer, ...listeners] = c.replicas;
    const heard = await Promise.all(listeners.map(async (listener) => {
      const events: SseEvent[] = [];
      const closeStream = new AbortController();
      const stream = await fetch(`${listener.base}/api/events`, { headers: { 'OAUTH-TOKEN': ADMIN }, signal: closeStream.signal });
      assert.equal(stream.status, 200);
      void readSse(stream, (_id, event) => event && events.push(event)).catch(() => {});
      return { events, closeStream };
    }));
    const created = await request(writer!.base, 'POST', '/api/workspaces', { defaultToken: ADMIN, body: { workspace: { name: 'after-restart' } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const { events, closeStream } of heard) {
      await eventually(async () => events.some((e) => e.event === 'workspace' && e.data.name === 'after-restart' && e.data.instance?.status === 'RUNNING'), 15_000, 'another replica to hear the new workspace run');
      closeStream.abort();
    }
  });
});
