// A client that gives up on a PUT while it waits for its operation: the server stops waiting for it
// (no listener on the change feed, no timer left), and the operation, committed before the wait,
// carries on to its end without the client. A real server over HTTP; the runtime is the local one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;

before(async () => {
  // The workspace ignores SIGTERM, so a stop takes the whole grace period: long enough to give up in.
  srv = await startTestServer({ env: { WSM_STOP_GRACE_SECONDS: '5', WSM_ACTION_WAIT_MS: '60000' } });
});
after(async () => {
  await srv?.close();
});

const STUBBORN_SERVER = [
  process.execPath,
  '-e',
  "process.on('SIGTERM',()=>{});require('http').createServer((q,s)=>s.end('ok')).listen(Number(process.env.PORT),'127.0.0.1')",
];

test('a PUT whose client disconnects stops waiting at once; its operation still finishes', async () => {
  const created = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'given-up', container_config: `command: ${JSON.stringify(STUBBORN_SERVER)}` } } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await eventually(async () => (await srv.request('GET', '/api/workspaces/given-up')).body.workspace.instance.status === 'RUNNING', 20_000, 'RUNNING');
  const feed = srv.server.store.changes;
  const listenersBefore = feed.listenerCount;
  assert.equal(srv.server.actions.waiting, 0);

  const client = new AbortController();
  const put = fetch(`${srv.url}/api/workspaces/given-up`, {
    method: 'PUT',
    headers: { 'OAUTH-TOKEN': srv.adminToken, 'content-type': 'application/json' },
    body: JSON.stringify({ workspace: { action: 'stop' } }),
    signal: client.signal,
  }).then(
    (res) => `answered ${res.status}`,
    (err: Error) => err.name,
  );
  await eventually(async () => srv.server.actions.waiting === 1, 10_000, 'the PUT to wait for its operation');
  assert.equal(feed.listenerCount, listenersBefore + 1, 'the wait listens on the change feed');

  client.abort();
  assert.equal(await put, 'AbortError');
  await eventually(async () => srv.server.actions.waiting === 0 && feed.listenerCount === listenersBefore, 10_000, 'the wait to end with its client');
  // The wait ended because the client left, not because the runtime took the stop: that takes the grace period.
  const [op] = (await srv.request('GET', '/api/workspaces/given-up/operations')).body.operations;
  assert.equal(op.action, 'stop');
  assert.equal(op.attempts, 0, `the stop is still being carried out: ${JSON.stringify(op)}`);
  assert.notEqual(op.state, 'succeeded');

  const done = await eventually(async () => {
    const { body } = await srv.request('GET', `/api/operations/${op.id}`);
    return body.operation.state !== 'pending' && body.operation.state !== 'running' && body.operation;
  }, 20_000, 'the stop to finish without its client');
  assert.equal(done.state, 'succeeded', JSON.stringify(done));
  const ws = (await srv.request('GET', '/api/workspaces/given-up')).body.workspace;
  assert.equal(ws.instance.status, 'STOPPED');
  assert.equal(ws.desired_state, 'stopped');
  const audit = await srv.request('GET', '/api/audit?workspace=given-up');
  assert.deepEqual(audit.body.events.filter((e: any) => e.action === 'stop').map((e: any) => e.result), ['ok'], 'audited once, as carried out');
});
