// A request whose key was claimed just before the store became unreachable (a database restarting) must
// not keep that key: once the store is back, a retry with the same Idempotency-Key acts, instead of
// being refused as "still being answered" until the claim counts as abandoned minutes later.
// test/e2e/ha/postgres-restart.test.ts meets the same case with a real PostgreSQL restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

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
