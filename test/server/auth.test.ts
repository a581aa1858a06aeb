// The auth matrix: no token, bad token, expired token, viewer, editor, per-workspace grant, owner,
// through each of the three ways to send a token; and the audit log that records what happened.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
let viewer: string;
let editor: string;
let owner: string;
let scopedEditor: string;
let expired: string;

before(async () => {
  srv = await startTestServer();
  for (const name of ['one', 'two']) {
    const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: localContainerConfig() } } });
    assert.equal(res.status, 201);
  }
  viewer = await srv.token('viewer');
  editor = await srv.token('editor');
  owner = await srv.token('owner');
  scopedEditor = await srv.token('editor', { workspace: 'one' });
  expired = await srv.token('viewer', { expires_in_seconds: 1 });
  await new Promise((r) => setTimeout(r, 1100));
});
after(async () => {
  await srv?.close();
});

describe('who may do what', () => {
  test('/api/status needs no token', async () => {
    const res = await srv.request('GET', '/api/status', { token: null });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
  });

  test('no token is a 401 invalid_oauth_token', async () => {
    const res = await srv.request('GET', '/api/workspaces', { token: null });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.type, 'invalid_oauth_token');
  });

  test('a wrong token is a 401', async () => {
    const res = await srv.request('GET', '/api/workspaces', { token: 'wsm_not-a-real-token' });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.type, 'invalid_oauth_token');
  });

  test('an expired token is a 401 expired_oauth_token', async () => {
    const res = await srv.request('GET', '/api/workspaces', { token: expired });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.type, 'expired_oauth_token');
  });

  test('a token is accepted from Authorization: Bearer and from the oauth_token cookie', async () => {
    const bearer = await srv.request('GET', '/api/workspaces', { token: null, headers: { authorization: `Bearer ${viewer}` } });
    assert.equal(bearer.status, 200);
    const cookie = await srv.request('GET', '/api/workspaces', { token: null, headers: { cookie: `theme=dark; oauth_token=${encodeURIComponent(viewer)}` } });
    assert.equal(cookie.status, 200);
  });

  test('a cookie that is not valid %-encoding is a 401 like a wrong token, not a server error', async () => {
    const res = await srv.request('GET', '/api/workspaces', { token: null, headers: { cookie: 'oauth_token=%E0%A4%A' } });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.type, 'invalid_oauth_token');
    assert.match(res.body.error.message, /oauth_token cookie/);
  });

  test('a viewer reads but cannot act, create or delete', async () => {
    assert.equal((await srv.request('GET', '/api/workspaces/one', { token: viewer })).status, 200);
    const act = await srv.request('PUT', '/api/workspaces/one', { token: viewer, body: { workspace: { action: 'stop' } } });
    assert.equal(act.status, 403);
    assert.equal(act.body.error.type, 'unauthorized_access');
    assert.equal((await srv.request('POST', '/api/workspaces', { token: viewer, body: { workspace: { name: 'nope' } } })).status, 403);
    assert.equal((await srv.request('DELETE', '/api/workspaces/one', { token: viewer })).status, 403);
    const still = await srv.request('GET', '/api/workspaces/one');
    assert.equal(still.body.workspace.desired_state, 'running');
  });

  test('an editor acts on workspaces but cannot create, delete or make tokens', async () => {
    const act = await srv.request('PUT', '/api/workspaces/two', { token: editor, body: { workspace: { action: 'stop' } } });
    assert.equal(act.status, 200);
    assert.equal(act.body.operation.actor, 'token:test-editor');
    assert.equal((await srv.request('POST', '/api/workspaces', { token: editor, body: { workspace: { name: 'nope' } } })).status, 403);
    assert.equal((await srv.request('DELETE', '/api/workspaces/two', { token: editor })).status, 403);
    assert.equal((await srv.request('POST', '/api/tokens', { token: editor, body: { role: 'owner' } })).status, 403);
  });

  test('a per-workspace grant works on that workspace only, and the list shows only it', async () => {
    const mine = await srv.request('PUT', '/api/workspaces/one', { token: scopedEditor, body: { workspace: { action: 'stop' } } });
    assert.equal(mine.status, 200);
    const other = await srv.request('PUT', '/api/workspaces/two', { token: scopedEditor, body: { workspace: { action: 'resume' } } });
    assert.equal(other.status, 403);
    assert.equal((await srv.request('GET', '/api/workspaces/two', { token: scopedEditor })).status, 403);
    const list = await srv.request('GET', '/api/workspaces', { token: scopedEditor });
    assert.deepEqual(list.body.workspaces.map((w: { name: string }) => w.name), ['one']);
  });

  test('a grant given later through the API takes effect', async () => {
    const viewerTokens = await srv.request('GET', '/api/tokens');
    const v = viewerTokens.body.tokens.find((t: { name: string; role: string }) => t.name === 'test-viewer');
    const before = await srv.request('PUT', '/api/workspaces/two', { token: viewer, body: { workspace: { action: 'resume' } } });
    assert.equal(before.status, 403);
    const grant = await srv.request('PUT', `/api/tokens/${v.id}/grants/two`, { body: { role: 'editor' } });
    assert.equal(grant.status, 200);
    const after = await srv.request('PUT', '/api/workspaces/two', { token: viewer, body: { workspace: { action: 'resume' } } });
    assert.equal(after.status, 200);
  });

  test('an owner token does everything, and a revoked token stops working', async () => {
    const created = await srv.request('POST', '/api/workspaces', { token: owner, body: { workspace: { name: 'owned', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201);
    const deleted = await srv.request('DELETE', '/api/workspaces/owned', { token: owner });
    assert.equal(deleted.status, 200);
    const tokens = await srv.request('GET', '/api/tokens', { token: owner });
    assert.ok(tokens.body.tokens.every((t: Record<string, unknown>) => !('secret' in t) && !('hash' in t)), 'secrets are never listed');
    const target = tokens.body.tokens.find((t: { name: string }) => t.name === 'test-owner');
    const revoke = await srv.request('DELETE', `/api/tokens/${target.id}`, { token: owner });
    assert.equal(revoke.status, 200);
    const after = await srv.request('GET', '/api/workspaces', { token: owner });
    assert.equal(after.status, 401);
  });

  test('tokens are stored hashed', async () => {
    const secret = await srv.token('viewer', {});
    const tokens = await srv.server.store.listTokens();
    assert.ok(tokens.every((t) => t.hash !== secret && /^[0-9a-f]{64}$/.test(t.hash)));
  });
});

describe('the audit log', () => {
  test('records changes and refusals with actor, action, workspace, generations and result', async () => {
    await srv.request('PUT', '/api/workspaces/one', { body: { workspace: { action: 'patch', container_config: 'env:\n  - name: AUDIT\n    value: "1"' } } });
    await srv.request('PUT', '/api/workspaces/one', { token: viewer, body: { workspace: { action: 'stop' } } });
    const res = await srv.request('GET', '/api/audit?workspace=one');
    assert.equal(res.status, 200);
    const patch = res.body.events.find((e: { action: string; result: string }) => e.action === 'patch' && e.result === 'ok');
    assert.ok(patch, JSON.stringify(res.body.events));
    assert.equal(patch.actor, 'admin');
    assert.equal(patch.generation_after, patch.generation_before + 1);
    const refused = res.body.events.find((e: { result: string; actor: string }) => e.result === 'error' && e.actor === 'token:test-viewer');
    assert.ok(refused, 'the refused stop is in the log');
    assert.match(refused.detail, /403/);
  });
});
