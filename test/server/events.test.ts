// GET /api/events: the server-sent event stream the console listens to.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';
import { readSse, type SseEvent } from '../support/sse.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv?.close();
});

/** Opens the stream and collects its events; waitFor() polls the collection. */
async function listen(headers: Record<string, string>) {
  const controller = new AbortController();
  const res = await fetch(`${srv.url}/api/events`, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  const reading = readSse(res, (_id, event) => {
    if (event) events.push(event);
  });
  return {
    res,
    events,
    async waitFor(match: (e: SseEvent) => boolean, what: string, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const found = events.find(match);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${what} event; got ${events.map((e) => `${e.event}:${e.data.name ?? e.data.action}:${e.data.instance?.status ?? e.data.state}`).join(', ')}`);
    },
    async close() {
      controller.abort();
      await reading;
    },
  };
}

describe('GET /api/events', () => {
  test('without a token it is a 401 with the API error body', async () => {
    const res = await fetch(`${srv.url}/api/events`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as any).error.type, 'invalid_oauth_token');
  });

  // Releasing a closed stream (its place among the token's streams, its memory) is proven in
  // test/security/events.test.ts.
  test('every event carries an id from one increasing sequence', async () => {
    const created = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'counted', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201);
    const stream = await listen({ 'OAUTH-TOKEN': srv.adminToken });
    try {
      const stop = await srv.request('PUT', '/api/workspaces/counted', { body: { workspace: { action: 'stop' } } });
      await stream.waitFor((e) => e.event === 'operation' && e.data.id === stop.body.operation.id && e.data.state === 'succeeded', 'succeeded stop');
      const seqs = stream.events.map((e) => Number(/^[0-9a-f]+-(\d+)$/.exec(e.id ?? '')?.[1]));
      assert.ok(seqs.length >= 2 && seqs.every((n, i) => Number.isInteger(n) && (i === 0 || n > seqs[i - 1]!)), `ids ${stream.events.map((e) => e.id).join(', ')}`);
    } finally {
      await stream.close();
    }
  });

  test('a stop is seen as an operation and a workspace event with the new status', async () => {
    const created = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'watched', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201);
    const stream = await listen({ 'OAUTH-TOKEN': srv.adminToken });
    try {
      assert.equal(stream.res.status, 200);
      assert.match(stream.res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const stop = await srv.request('PUT', '/api/workspaces/watched', { body: { workspace: { action: 'stop' } } });
      assert.equal(stop.status, 200);
      const ws = await stream.waitFor((e) => e.event === 'workspace' && e.data.name === 'watched' && e.data.instance.status === 'STOPPED', 'STOPPED workspace');
      assert.equal(ws.data.desired_state, 'stopped');
      assert.equal(ws.data.access, 'owner');
      assert.equal(typeof ws.data.container_config, 'string');
      const op = await stream.waitFor((e) => e.event === 'operation' && e.data.id === stop.body.operation.id && e.data.state === 'succeeded', 'succeeded stop operation');
      assert.equal(op.data.workspace, 'watched');
      assert.equal(op.data.action, 'stop');
    } finally {
      await stream.close();
    }
  });

  test('the cookie authenticates, and a token scoped to one workspace hears nothing of another', async () => {
    for (const name of ['mine', 'theirs']) {
      const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: localContainerConfig() } } });
      assert.equal(res.status, 201);
    }
    const scoped = await srv.token('viewer', { workspace: 'mine' });
    const stream = await listen({ cookie: `oauth_token=${encodeURIComponent(scoped)}` });
    try {
      assert.equal(stream.res.status, 200);
      await srv.request('PUT', '/api/workspaces/theirs', { body: { workspace: { action: 'stop' } } });
      await srv.request('PUT', '/api/workspaces/mine', { body: { workspace: { action: 'stop' } } });
      await stream.waitFor((e) => e.event === 'workspace' && e.data.name === 'mine' && e.data.instance.status === 'STOPPED', 'mine STOPPED');
      // theirs was stopped first, so its events would have arrived by now.
      assert.deepEqual(stream.events.filter((e) => (e.data.name ?? e.data.workspace) === 'theirs'), []);
      assert.equal(stream.events.find((e) => e.event === 'workspace')?.data.access, 'viewer');
    } finally {
      await stream.close();
    }
  });

  test('a deleted workspace is announced as deleted', async () => {
    const created = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'doomed', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201);
    const stream = await listen({ 'OAUTH-TOKEN': srv.adminToken });
    try {
      const res = await srv.request('DELETE', '/api/workspaces/doomed?delete_volume=true');
      assert.equal(res.status, 200);
      const gone = await stream.waitFor((e) => e.event === 'deleted', 'deleted');
      assert.deepEqual(gone.data, { name: 'doomed' });
    } finally {
      await stream.close();
    }
  });

});

describe('POST /api/session and GET /api/whoami', () => {
  test('a good token sets an HttpOnly SameSite=Strict cookie that /api/whoami accepts; DELETE clears it', async () => {
    const editor = await srv.token('editor');
    const res = await fetch(`${srv.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: editor }) });
    assert.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^oauth_token=[^;]+;/);
    const attributes = cookie.split('; ').slice(1);
    for (const attribute of ['HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(attributes.includes(attribute), `${attribute} in ${cookie}`);
    const who = await fetch(`${srv.url}/api/whoami`, { headers: { cookie: cookie.split(';')[0]! } });
    assert.deepEqual(await who.json(), { actor: 'token:test-editor', role: 'editor', grants: [] });
    const out = await fetch(`${srv.url}/api/session`, { method: 'DELETE' });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^oauth_token=; .*Max-Age=0/);
  });

  test('a bad token is a 401 and sets no cookie', async () => {
    const res = await fetch(`${srv.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'nope' }) });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('set-cookie'), null);
  });

  test('a scoped token lists its grants', async () => {
    const scoped = await srv.token('editor', { workspace: 'mine' });
    const who = await srv.request('GET', '/api/whoami', { token: scoped });
    assert.deepEqual(who.body, { actor: 'token:test-editor', role: null, grants: [{ workspace: 'mine', role: 'editor' }] });
  });
});
