// ETag / If-Match, Idempotency-Key, and concurrent requests on one workspace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer();
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'conc', container_config: localContainerConfig() } } });
  assert.equal(res.status, 201);
});
after(async () => {
  await srv?.close();
});

describe('optimistic concurrency', () => {
  test('If-Match with a stale ETag is a 412 and changes nothing; with the current one it succeeds', async () => {
    const got = await srv.request('GET', '/api/workspaces/conc');
    const etag = got.headers.get('etag')!;
    assert.ok(etag);
    const first = await srv.request('PUT', '/api/workspaces/conc', { headers: { 'if-match': etag }, body: { workspace: { action: 'patch', container_config: 'env:\n  - name: A\n    value: "1"' } } });
    assert.equal(first.status, 200);
    assert.notEqual(first.headers.get('etag'), etag);
    const stale = await srv.request('PUT', '/api/workspaces/conc', { headers: { 'if-match': etag }, body: { workspace: { action: 'patch', container_config: 'env:\n  - name: A\n    value: "2"' } } });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.error.type, 'precondition_failed');
    const now = await srv.request('GET', '/api/workspaces/conc');
    assert.match(now.body.workspace.container_config, /value: "?1"?/);
    const staleDelete = await srv.request('DELETE', '/api/workspaces/conc', { headers: { 'if-match': etag } });
    assert.equal(staleDelete.status, 412);
    assert.equal((await srv.request('GET', '/api/workspaces/conc')).status, 200);
  });

  test('a retried request with the same Idempotency-Key acts once and returns the first answer', async () => {
    const body = { workspace: { action: 'patch', container_config: 'env:\n  - name: IDEM\n    value: once' } };
    const key = `key-${Math.random()}`;
    const first = await srv.request('PUT', '/api/workspaces/conc', { headers: { 'idempotency-key': key }, body });
    assert.equal(first.status, 200);
    const again = await srv.request('PUT', '/api/workspaces/conc', { headers: { 'idempotency-key': key }, body });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
    const ops = await srv.request('GET', '/api/workspaces/conc/operations');
    assert.equal(ops.body.operations.filter((o: { id: string }) => o.id === first.body.operation.id).length, 1);
    const patches = ops.body.operations.filter((o: { request: unknown; action: string }) => o.action === 'patch');
    assert.equal(new Set(patches.map((o: { id: string }) => o.id)).size, patches.length);
    const other = await srv.request('PUT', '/api/workspaces/conc', { headers: { 'idempotency-key': key }, body: { workspace: { action: 'stop' } } });
    assert.equal(other.status, 409, 'the same key with another request is refused');
  });

  test('POST with an Idempotency-Key creates once', async () => {
    const key = `create-${Math.random()}`;
    const body = { workspace: { name: 'idem-create', container_config: localContainerConfig() } };
    const [a, b] = await Promise.all([
      srv.request('POST', '/api/workspaces', { headers: { 'idempotency-key': key }, body }),
      srv.request('POST', '/api/workspaces', { headers: { 'idempotency-key': key }, body }),
    ]);
    assert.deepEqual([a.status, b.status], [201, 201]);
    assert.equal(a.body.workspace.project_uuid, b.body.workspace.project_uuid);
  });

  test('concurrent patches on one workspace never interleave: every change lands, generations are distinct', async () => {
    const start = (await srv.request('GET', '/api/workspaces/conc')).body.workspace.generation;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        srv.request('PUT', '/api/workspaces/conc', { body: { workspace: { action: 'patch', container_config: `env:\n  - name: V${i}\n    value: "${i}"` } } }),
      ),
    );
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
    const generations = results.map((r) => r.body.operation.target_generation).sort((a, b) => a - b);
    assert.deepEqual(generations, Array.from({ length: 8 }, (_, i) => start + i + 1));
    const final = await srv.request('GET', '/api/workspaces/conc');
    for (let i = 0; i < 8; i++) assert.match(final.body.workspace.container_config, new RegExp(`name: V${i}`));
    assert.equal(final.body.workspace.generation, start + 8);
  });
});
