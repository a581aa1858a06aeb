// Several `wsm serve` processes on one PostgreSQL (each test in a schema of its own): exactly one
// leads; a write on a follower is carried out at once and answered as on the leader; every replica's
// event stream hears every change; a killed leader is replaced; a paused leader, resumed after
// another term began, does nothing. Who leads is read from the lease row and each replica's metrics.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, localContainerConfig, request } from '../../support/server.js';
import { readSse, type SseEvent } from '../../support/sse.js';
import { postgresTestUrl } from '../../store/postgres-url.js';
import { ADMIN, cleanupClusters, cluster as startCluster, exited, leaderGauges, type Replica } from './cluster.js';

const baseUrl = postgresTestUrl('replicas on one database');
after(cleanupClusters);

const cluster = (size: number) => startCluster({ databaseUrl: baseUrl!, size });

function workspace(base: string, name: string) {
  return request(base, 'GET', `/api/workspaces/${name}`, { defaultToken: ADMIN });
}

describe('replicas on one PostgreSQL', { skip: baseUrl === undefined }, () => {
  test('exactly one leads; a follower carries out writes at once and every replica hears every change', async () => {
    const c = await cluster(3);
    const leader = await c.leader();
    const followers = c.replicas.filter((r) => r !== leader);
    const gauges = await Promise.all(c.replicas.map(leaderGauges));
    assert.deepEqual(gauges.map((g) => g.leading).sort(), [0, 0, 1], 'one replica says it leads');
    assert.ok(gauges[c.replicas.indexOf(leader)]!.term >= 1);
    // Readiness says the same, with the term, on every replica.
    const ready = await Promise.all(c.replicas.map(async (r) => (await (await fetch(`${r.base}/readyz`)).json()) as { status: string; leader: { leading: boolean; term?: number } }));
    assert.deepEqual(ready.map((r) => r.status), ['ready', 'ready', 'ready']);
    assert.deepEqual(ready.map((r) => r.leader.leading), c.replicas.map((r) => r === leader));
    assert.equal(ready[c.replicas.indexOf(leader)]!.leader.term, gauges[c.replicas.indexOf(leader)]!.term);

    // The second follower listens; the first one takes the writes.
    const [writer, listener] = followers as [Replica, Replica];
    const events: SseEvent[] = [];
    const closeStream = new AbortController();
    const stream = await fetch(`${listener.base}/api/events`, { headers: { 'OAUTH-TOKEN': ADMIN }, signal: closeStream.signal });
    assert.equal(stream.status, 200);
    void readSse(stream, (_id, event) => event && events.push(event));

    const created = await request(writer.base, 'POST', '/api/workspaces', { defaultToken: ADMIN, body: { workspace: { name: 'shared', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await eventually(async () => (await workspace(writer.base, 'shared')).body.workspace.instance.status === 'RUNNING', 30_000, 'the workspace created on a follower to run');

    // A PUT answered by a follower waits for its operation as on the leader (resync is a day away).
    const stopped = await request(writer.base, 'PUT', '/api/workspaces/shared', { defaultToken: ADMIN, body: { workspace: { action: 'stop' } } });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.workspace.instance.status, 'STOPPED');
    assert.equal(stopped.body.workspace.last_operation.state, 'succeeded');

    // The other follower's stream heard the leader's write of the stopped status.
    await eventually(async () => events.some((e) => e.event === 'workspace' && e.data.name === 'shared' && e.data.instance?.status === 'STOPPED'), 10_000, 'the listening follower to hear the stop');
    closeStream.abort();

    // One Idempotency-Key sent to two replicas at once: one operation, and both answers name it.
    const resume = (replica: Replica) => request(replica.base, 'PUT', '/api/workspaces/shared', { defaultToken: ADMIN, headers: { 'Idempotency-Key': 'resume-once' }, body: { workspace: { action: 'resume' } } });
    const answers = await Promise.all([resume(writer), resume(listener)]);
    assert.deepEqual(answers.map((a) => a.status), [200, 200], JSON.stringify(answers.map((a) => a.body)));
    assert.equal(answers[0]!.body.workspace.last_operation.id, answers[1]!.body.workspace.last_operation.id);
    const { rows } = await c.db.query<{ n: string }>(`select count(*) as n from operations where workspace = 'shared' and action = 'resume'`);
    assert.equal(Number(rows[0]!.n), 1, 'one resume operation');
  });

  test('a killed leader is replaced within the lease, and the new leader carries out what is pending', async () => {
    const c = await cluster(2);
    const first = await c.leader();
    const other = c.replicas.find((r) => r !== first)!;
    const created = await request(other.base, 'POST', '/api/workspaces', { defaultToken: ADMIN, body: { workspace: { name: 'failover', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201);
    await eventually(async () => (await workspace(other.base, 'failover')).body.workspace.instance.status === 'RUNNING', 30_000, 'the workspace to run');
    const { rows: before } = await c.db.query<{ term: string }>('select term from wsm_leader_lease');

    first.child.kill('SIGKILL');
    await exited(first.child);
    const next = await c.leader();
    assert.equal(next, other);
    const { rows: after } = await c.db.query<{ term: string }>('select term from wsm_leader_lease');
    assert.ok(Number(after[0]!.term) > Number(before[0]!.term), 'the new leader leads in a later term');
    const stopped = await request(other.base, 'PUT', '/api/workspaces/failover', { defaultToken: ADMIN, body: { workspace: { action: 'stop' } } });
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.workspace.last_operation.state, 'succeeded');
    assert.equal((await leaderGauges(other)).leading, 1);
  });

  test('a paused leader, resumed after its lease passed to another, does not act', async () => {
    const c = await cluster(2);
    const paused = await c.leader();
    const other = c.replicas.find((r) => r !== paused)!;
    const created = await request(other.base, 'POST', '/api/workspaces', { defaultToken: ADMIN, body: { workspace: { name: 'fenced', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201);
    await eventually(async () => (await workspace(other.base, 'fenced')).body.workspace.instance.status === 'RUNNING', 30_000, 'the workspace to run');

    const { rows: held } = await c.db.query<{ holder: string }>('select holder from wsm_leader_lease');
    paused.child.kill('SIGSTOP');
    // The test itself takes the lease once the paused leader's has expired (a replica that nobody
    // sees): the other replica cannot lead, so only the paused one could carry out the stop below.
    // Should the other replica take it first, the test takes it from that one.
    const { rows } = await eventually(async () => {
      const taken = await c.db.query<{ term: string }>(
        `update wsm_leader_lease set holder = 'the-test', term = term + 1, expires_at = now() + interval '1 hour' where expires_at <= now() or holder <> $1 returning term`,
        [held[0]!.holder],
      );
      return taken.rows.length > 0 && taken;
    }, 15_000, 'the paused leader\'s lease to expire');
    const testTerm = Number(rows[0]!.term);
    // Taken from the other replica, the lease is gone before that replica's own clock says so (no real
    // replica takes a lease that has not expired): it may still write in its term until it learns of
    // the loss at its next renewal. The stop is asked once it has.
    await eventually(async () => (await leaderGauges(other)).leading === 0, 15_000, 'the other replica to know that it does not lead');
    const put = await request(other.base, 'PUT', '/api/workspaces/fenced', { defaultToken: ADMIN, body: { workspace: { action: 'stop' } } });
    assert.ok(put.status === 200 || put.status === 202, JSON.stringify(put.body));
    const opId: string = put.body.workspace.last_operation.id;

    paused.child.kill('SIGCONT');
    const opState = async () => (await c.db.query<{ state: string }>('select state from operations where id = $1', [opId])).rows[0]!.state;
    // Resumed, it either learns that it no longer leads (its renewal finds the test's lease) or, were
    // it not fenced, carries out the stop it heard of while paused: whichever comes first...
    await eventually(async () => (await leaderGauges(paused)).leading === 0 || (await opState()) !== 'pending', 15_000, 'the resumed replica to follow or act');
    // ...must be the first: it has neither run the stop nor even marked it begun.
    assert.equal(await opState(), 'pending', 'the resumed old leader did not take the operation');
    assert.equal((await leaderGauges(paused)).leading, 0);
    assert.equal((await workspace(other.base, 'fenced')).body.workspace.instance.status, 'RUNNING');

    // The control: once a replica may lead again, the stop is carried out.
    await c.db.query(`update wsm_leader_lease set expires_at = now() where holder = 'the-test' and term = $1`, [testTerm]);
    await eventually(async () => (await workspace(other.base, 'fenced')).body.workspace.instance.status === 'STOPPED', 30_000, 'a new leader to carry out the stop');
  });
});
