// An Idempotency-Key whose request failed. Before its change was written (the store unreachable, a
// database restarting), the key is not kept: once the store is back, a retry acts, instead of being
// refused as "still being answered" until the claim counts as abandoned minutes later. After its change
// was written (the answer lost: the store went away just after the commit, or the client left), the
// retry answers from what was written and never acts a second time.
// test/e2e/ha/postgres-restart.test.ts meets both cases with a real PostgreSQL restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';
import { createRunning } from '../lifecycle/helpers.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer();
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'outage', container_config: localContainerConfig() } } });
  assert.equal(res.status, 201);
});
after(async () => {
  await srv?.close();
});

test('a request that failed while the store was unreachable does not hold its Idempotency-Key: the retry acts', async () => {
  // The database goes away: its Kysely handle refuses to begin transactions and to delete, as a
  // connection to a restarting PostgreSQL would (reads and inserts still work, so the key is claimed).
  const db = (srv.server.store as unknown as { db: Record<string, unknown> }).db;
  assert.ok(db && typeof db.transaction === 'function', 'the store has a Kysely handle');
  const body = { workspace: { action: 'patch', container_config: 'env:\n  - name: OUTAGE\n    value: over' } };
  const key = `outage-${Math.random()}`;
  const down = () => {
    throw new Error('connection terminated (the database is restarting)');
  };
  db.transaction = down;
  db.deleteFrom = down;
  let failed;
  try {
    failed = await srv.request('PUT', '/api/workspaces/outage', { headers: { 'idempotency-key': key }, body });
  } finally {
    // The instance's own properties go; Kysely's methods answer again.
    delete db.transaction;
    delete db.deleteFrom;
  }
  assert.ok(failed.status >= 500, `the request failed with the store (${failed.status})`);
  const retried = await srv.request('PUT', '/api/workspaces/outage', { headers: { 'idempotency-key': key }, body });
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  assert.equal(retried.headers.get('idempotent-replayed'), null, 'acted, not replayed');
  assert.match((await srv.request('GET', '/api/workspaces/outage')).body.workspace.container_config, /OUTAGE/);
});

/** The operations of a workspace with this action, oldest first. */
async function operationsOf(name: string, action: string): Promise<Array<{ id: string; action: string }>> {
  const res = await srv.request('GET', `/api/workspaces/${name}/operations`);
  assert.equal(res.status, 200);
  return (res.body.operations as Array<{ id: string; action: string }>).filter((op) => op.action === action);
}

test('a request whose commit went through but whose acknowledgement was lost (the database restarting): the retry replays it, acting once', async () => {
  const db = (srv.server.store as unknown as { db: Record<string, unknown> }).db;
  const body = { workspace: { action: 'patch', container_config: localContainerConfig('env:\n  - name: AFTER_COMMIT\n    value: lost\n') } };
  const key = `after-commit-${Math.random()}`;
  const patchesBefore = (await operationsOf('outage', 'patch')).length;
  // The transaction that writes the patch commits, then fails as a connection cut before the commit's
  // reply would. Other transactions (the controller's) go through untouched.
  const realTransaction = Object.getPrototypeOf(db).transaction as () => { execute(fn: unknown): Promise<unknown> };
  const lastPatch = async () => (await operationsOf('outage', 'patch')).at(0)?.id;
  const before = await lastPatch();
  db.transaction = () => {
    const real = realTransaction.call(db);
    return {
      async execute(fn: unknown) {
        const result = await real.execute(fn);
        if ((await lastPatch()) === before) return result;
        delete db.transaction;
        throw new Error('connection terminated (the database is restarting)');
      },
    };
  };
  let failed;
  try {
    failed = await srv.request('PUT', '/api/workspaces/outage', { headers: { 'idempotency-key': key }, body });
  } finally {
    delete db.transaction;
  }
  assert.ok(failed.status >= 500, `the request failed after its commit (${failed.status} ${JSON.stringify(failed.body)})`);
  const retried = await srv.request('PUT', '/api/workspaces/outage', { headers: { 'idempotency-key': key }, body });
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  assert.equal(retried.headers.get('idempotent-replayed'), 'true', 'answered from what was written, not acted again');
  const patches = await operationsOf('outage', 'patch');
  assert.equal(patches.length, patchesBefore + 1, 'one patch operation for the request and its retry');
  assert.ok(patches.some((op) => op.id === retried.body.operation.id), 'the retry names the operation the request made');
  assert.match(retried.body.workspace.container_config, /AFTER_COMMIT/);
  const again = await srv.request('PUT', '/api/workspaces/outage', { headers: { 'idempotency-key': key }, body });
  assert.equal(again.body.operation.id, retried.body.operation.id, 'later retries get the same answer');
});

test('a client that leaves while its stop is carried out, then retries with the same key: one stop, and the retry names it', async () => {
  // The pre-stop holds the stop for seconds, so the request is still waiting for it when the client leaves.
  await createRunning(srv, 'left', { pre_stop: { command: ['sleep', '3'] } });
  const key = `left-${Math.random()}`;
  const body = JSON.stringify({ workspace: { action: 'stop' } });
  const headers = { 'OAUTH-TOKEN': srv.adminToken, 'content-type': 'application/json', 'idempotency-key': key };
  const leave = new AbortController();
  const first = fetch(`${srv.url}/api/workspaces/left`, { method: 'PUT', headers, body, signal: leave.signal });
  // Left once the stop is written: its operation exists, not yet carried out.
  for (let i = 0; i < 100 && (await operationsOf('left', 'stop')).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  leave.abort();
  await assert.rejects(first);
  const retried = await srv.request('PUT', '/api/workspaces/left', { headers: { 'idempotency-key': key }, body: JSON.parse(body) });
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  assert.equal(retried.headers.get('idempotent-replayed'), 'true');
  const stops = await operationsOf('left', 'stop');
  assert.deepEqual(stops.map((op) => op.id), [retried.body.operation.id], 'one stop operation, the one the retry names');
});
