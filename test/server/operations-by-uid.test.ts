// A workspace's operations are those of the workspace, not of its name: one deleted and created again
// under the name starts with none of the first one's, in the list and as its last operation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv?.close();
});

const create = async (name: string) => {
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: localContainerConfig() } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
};

test('a workspace created again under a deleted one\'s name lists only its own operations', async () => {
  const first = await create('again');
  assert.equal((await srv.request('PUT', '/api/workspaces/again', { body: { workspace: { action: 'stop' } } })).status, 200);
  assert.equal((await srv.request('DELETE', '/api/workspaces/again')).status, 200);
  await eventually(async () => (await srv.request('GET', '/api/workspaces/again')).status === 404, 20_000, 'the first "again" gone');
  const gone = await srv.request('GET', '/api/workspaces/again/operations');
  assert.equal(gone.status, 404);
  assert.match(gone.body.error.message, /again does not exist/);

  const second = await create('again');
  assert.notEqual(second.workspace.uid, first.workspace.uid);
  const ops = await srv.request('GET', '/api/workspaces/again/operations');
  assert.equal(ops.status, 200);
  assert.deepEqual(ops.body.operations.map((o: { id: string }) => o.id), [second.operation.id]);
  const got = await srv.request('GET', '/api/workspaces/again');
  assert.equal(got.body.workspace.last_operation.id, second.operation.id);
  // The first workspace's operations are still there, one by one, for whoever kept their ids.
  assert.equal((await srv.request('GET', `/api/operations/${first.operation.id}`)).status, 200);
});
