// A workspace deleted and created again under its name is another workspace: a token scoped to the
// first, or granted a role on it, has nothing on the second. Black-box: a real server over HTTP, the
// tokens used just before the delete (so any cached lookup of them is warm).
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

const create = (name: string) => srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: localContainerConfig() } } });
const stop = (name: string, token: string) => srv.request('PUT', `/api/workspaces/${name}`, { token, body: { workspace: { action: 'stop' } } });

test('the editor of a deleted workspace is nothing on the next workspace of its name', async () => {
  assert.equal((await create('dk1')).status, 201);
  assert.equal((await create('elsewhere')).status, 201);
  const first = (await srv.request('GET', '/api/workspaces/dk1')).body.workspace;

  // Scoped to dk1 when made.
  const scoped = await srv.token('editor', { workspace: 'dk1' });
  // Scoped to another workspace, and granted editor on dk1 through the grant API.
  const granted = await srv.token('viewer', { workspace: 'elsewhere' });
  const tokens = (await srv.request('GET', '/api/tokens')).body.tokens as { id: string; name: string; workspace: string | null; revoked_at: string | null }[];
  const grantedId = tokens.find((t) => t.workspace === 'elsewhere')!.id;
  assert.equal((await srv.request('PUT', `/api/tokens/${grantedId}/grants/dk1`, { body: { role: 'editor' } })).status, 200);

  // Both may act on dk1 now.
  for (const token of [scoped, granted]) {
    assert.equal((await srv.request('GET', '/api/workspaces/dk1', { token })).status, 200);
  }
  assert.equal((await stop('dk1', scoped)).status, 200);
  assert.equal((await stop('dk1', granted)).status, 200);

  assert.equal((await srv.request('DELETE', '/api/workspaces/dk1')).status, 200);
  await eventually(async () => (await srv.request('GET', '/api/workspaces/dk1')).status === 404, 20_000, 'dk1 to be gone');
  assert.equal((await create('dk1')).status, 201);
  const second = (await srv.request('GET', '/api/workspaces/dk1')).body.workspace;
  assert.match(second.uid, /^[0-9a-f-]{36}$/);
  assert.notEqual(second.uid, first.uid, 'another workspace');

  // The token made for the first dk1 was revoked with it.
  const get = await srv.request('GET', '/api/workspaces/dk1', { token: scoped });
  assert.equal(get.status, 401, JSON.stringify(get.body));
  assert.match(get.body.error.message, /revoked/);
  assert.equal((await stop('dk1', scoped)).status, 401);
  const listed = (await srv.request('GET', '/api/tokens')).body.tokens as typeof tokens;
  assert.ok(listed.find((t) => t.workspace === 'dk1')?.revoked_at, 'GET /api/tokens shows the scoped token revoked');

  // The grant went with the first dk1: the token keeps its own workspace and nothing else.
  assert.equal((await srv.request('GET', '/api/workspaces/dk1', { token: granted })).status, 403);
  assert.equal((await stop('dk1', granted)).status, 403);
  const visible = await srv.request('GET', '/api/workspaces', { token: granted });
  assert.deepEqual(visible.body.workspaces.map((w: { name: string }) => w.name), ['elsewhere']);
  assert.equal((await srv.request('GET', '/api/workspaces/elsewhere', { token: granted })).status, 200);
  const who = await srv.request('GET', '/api/whoami', { token: granted });
  assert.deepEqual(who.body.grants, [{ workspace: 'elsewhere', role: 'viewer' }]);

  // The new dk1 is untouched by the attempts.
  const now = (await srv.request('GET', '/api/workspaces/dk1')).body.workspace;
  assert.equal(now.desired_state, 'running');
});

test('a token made for a name before its workspace exists works on it, and dies with it', async () => {
  const early = await srv.token('editor', { workspace: 'dk2' });
  assert.equal((await create('dk2')).status, 201);
  assert.equal((await srv.request('GET', '/api/workspaces/dk2', { token: early })).status, 200);
  assert.equal((await srv.request('DELETE', '/api/workspaces/dk2')).status, 200);
  await eventually(async () => (await srv.request('GET', '/api/workspaces/dk2')).status === 404, 20_000, 'dk2 to be gone');
  assert.equal((await create('dk2')).status, 201);
  assert.equal((await srv.request('GET', '/api/workspaces/dk2', { token: early })).status, 401);
});
