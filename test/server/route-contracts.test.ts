// Routes declare their contract: a response schema and who may call them. A route that forgets either
// is refused as it is added, and every route that is not declared public refuses a caller without a token.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { requireRouteContracts } from '../../src/server/route-policy.js';
import { startTestServer, type TestServer } from '../support/server.js';

const answers = { response: { 200: { type: 'object' } } };

test('a route without a response schema, or without a valid config.auth, is refused when it is added', async () => {
  const app = Fastify();
  requireRouteContracts(app);
  assert.throws(() => app.get('/no-schema', { config: { auth: 'public' } }, async () => ({})), /GET \/no-schema: no response schema/);
  assert.throws(() => app.get('/no-auth', { schema: answers }, async () => ({})), /GET \/no-auth: config.auth is undefined; declare one of public, signed-in, viewer, editor, owner/);
  assert.throws(() => app.get('/bad-auth', { schema: answers, config: { auth: 'admin' as 'owner' } }, async () => ({})), /config.auth is "admin"/);
  app.get('/declared', { schema: answers, config: { auth: 'public' } }, async () => ({}));
  await app.ready();
  assert.equal((await app.inject({ method: 'GET', url: '/declared' })).statusCode, 200);
  await app.close();
});

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv?.close();
});

test('every documented route but the public ones answers 401 to a caller without a token, whatever it sends', async () => {
  const doc = (await srv.request('GET', '/api/openapi.json', { token: null })).body as { paths: Record<string, Record<string, unknown>> };
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
  const publicOnes = new Set(['GET /api/status', 'GET /api/session', 'POST /api/session', 'DELETE /api/session']);
  const guarded = operations.filter((o) => !publicOnes.has(`${o.method} ${o.path}`));
  assert.ok(guarded.length > 15, `only ${guarded.length} guarded routes`);
  for (const { method, path } of guarded) {
    const url = path.replace(/\{\w+\}/g, 'conf-x');
    // A body the route would refuse: authentication comes first, so it is never looked at.
    const body = method === 'GET' || method === 'DELETE' ? undefined : { nonsense: true };
    const res = await srv.request(method, url, { token: null, body });
    assert.equal(res.status, 401, `${method} ${path}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.type, 'invalid_oauth_token');
  }
  for (const key of publicOnes) {
    const [method, path] = key.split(' ') as [string, string];
    const res = await srv.request(method, path, { token: null, body: method === 'POST' ? { token: srv.adminToken } : undefined });
    assert.ok(res.status < 300, `${key} is public: ${res.status}`);
  }
});
