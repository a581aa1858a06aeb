// Every route of the API, driven with random headers, cookies, query strings and bodies over real HTTP:
// nothing answers 5xx, and nothing a viewer (or nobody) sends changes anything. The random requests carry
// no token, a wrong one, or a viewer's token (in a header or in the cookie), so every change of state the
// snapshot sees after them is a bug. A second property sends the owner's token to the routes whose changes
// are harmless here (tokens, grants, cluster settings, reads) and asserts only that nothing answers 5xx.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

interface Route {
  method: string;
  /** OpenAPI form: /api/workspaces/{name} */
  path: string;
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

let srv: TestServer;
let routes: Route[];
let viewer: string;
let viewerTokenId: string;
const WORKSPACES = ['fz-one', 'fz-two'];

/** Sends one request; a server-sent event stream is cut off once its headers arrived. */
async function send(req: Sent): Promise<{ status: number; body: string }> {
  const res = await fetch(srv.url + req.path, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual' });
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, body: '(event stream)' };
  }
  return { status: res.status, body: await res.text() };
}

/** What a change would show: workspaces, activity, tokens, grants, successful audit events, cluster settings. */
async function snapshot(): Promise<unknown> {
  const { store, controller } = srv.server;
  const workspaces = (await store.listWorkspaces({ limit: 1000, offset: 0 })).workspaces.map((w) => ({
    name: w.name,
    desired: w.desired_state,
    generation: w.generation,
    spec: w.spec,
    deletion: w.deletion ?? null,
    last_activity: w.activity.last_activity_at ?? null,
    heartbeat: controller.activity.peek(w.name) ?? null,
  }));
  const tokens = await store.listTokens();
  const grants = await Promise.all(tokens.map(async (t) => ({ token: t.id, grants: await store.listGrants(t.id) })));
  const audit = (await store.listAudit({ limit: 10_000 })).filter((e) => e.result === 'ok');
  return { workspaces, tokens, grants, audit, settings: await store.getClusterSettings() };
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const escapes = fc.constantFrom('%E0%A4%A', '%', '%zz', '%00', '%C0%AF', '%2F..%2F', '%ED%A0%80', '%FF');
const textish = fc.oneof(printable, escapes, fc.tuple(printable, escapes, printable).map((p) => p.join('')));
const hugeNumber = fc.constantFrom('1e300', '-1e300', '1e999', '99999999999999999999', '-0', 'NaN', 'Infinity', '0x10', '1.5', '-1', '0');

const pathParam = fc.oneof(
  fc.constantFrom(...WORKSPACES, 'nope', '..%2F..%2FNOT%20A%20NAME', '%2e%2e', 'UPPER', 'a'.repeat(60), '-x-'),
  escapes,
  printable.map((s) => encodeURIComponent(s)).filter((s) => s.length > 0),
);

const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom('limit', 'offset', 'status', 'q', 'cluster_type', 'delete_volume', 'workspace', 'namespace', 'namespace[]', 'user_id', '__proto__', 'constructor'), printable),
      fc.oneof(textish, hugeNumber, fc.constantFrom('RUNNING,STOPPED', 'true', 'false', 'k8s', 'local')),
      fc.boolean(),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v, raw]) => (raw ? `${k}=${v}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&')}`));

/** A token to create, mostly valid (a name of any printable text may be refused). */
const tokenBody = fc.record({ role: fc.constantFrom('owner', 'editor', 'viewer'), name: printable, expires_in_seconds: fc.integer({ min: 1, max: 1e6 }) }, { requiredKeys: ['role'] });

/** Bodies shaped like the API's, with wrong, missing and extreme values. */
const shapedBody = fc.oneof(
  // Valid ones too, so the handlers behind the schemas are reached.
  { arbitrary: tokenBody, weight: 2 },
  fc.record({ cluster_settings: fc.record({ inherit_patterns: fc.array(printable, { maxLength: 2 }) }) }),
  fc.record({ role: fc.oneof(fc.constantFrom('owner', 'editor', 'viewer'), printable), expires_in_seconds: fc.oneof(fc.double(), fc.integer(), fc.constant(1e300)), workspace: textish, name: printable }, { requiredKeys: [] }),
  fc.record({ workspace: fc.record({ name: fc.oneof(fc.constantFrom(...WORKSPACES), textish), action: fc.oneof(fc.constantFrom('stop', 'resume', 'patch', 'add_to_ingress'), printable), container_config: fc.oneof(textish, fc.jsonValue()), lifecycle_config: fc.jsonValue(), update_workspace_settings: fc.jsonValue() }, { requiredKeys: [] }) }),
  fc.record({ cluster_settings: fc.record({ env: fc.jsonValue(), inherit_patterns: fc.array(textish), default_image: fc.oneof(printable, fc.constant(null)) }, { requiredKeys: [] }) }),
  fc.record({ token: fc.oneof(textish, fc.jsonValue()), source: printable, at: fc.oneof(textish, hugeNumber) }, { requiredKeys: [] }),
);

const body = fc.option(
  fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    { arbitrary: shapedBody.map((v) => JSON.stringify(v)), weight: 4 },
    shapedBody.map((v) => JSON.stringify(v).replace(/"expires_in_seconds":[^,}]+/, '"expires_in_seconds":1e300')),
    fc.constantFrom('{', '{"role":', '[1,', 'null', '""', '', '%E0%A4%A', '{"a":1}{"b":2}', '\u0000', '{"__proto__":{"x":1}}', '['.repeat(5000), `${'['.repeat(3000)}${']'.repeat(3000)}`),
    hugeNumber,
  ),
  { nil: undefined },
);

type Principal = 'none' | 'wrong' | 'viewer-header' | 'viewer-bearer' | 'viewer-cookie' | 'bad-cookie';
const principal = fc.constantFrom<Principal>('none', 'wrong', 'viewer-header', 'viewer-bearer', 'viewer-cookie', 'bad-cookie');

const extraHeaders = fc.record(
  {
    'content-type': fc.oneof({ arbitrary: fc.constant('application/json'), weight: 3 }, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/merge-patch+json', '*/*'), printable),
    origin: fc.oneof(fc.constantFrom('null', 'http://127.0.0.1:1', 'https://evil.example'), printable),
    'if-match': textish,
    'idempotency-key': textish,
    'x-forwarded-proto': fc.oneof(fc.constantFrom('https', 'http', 'javascript', 'https, http'), printable),
    'x-forwarded-for': fc.oneof(fc.constantFrom('203.0.113.9', 'not-an-ip', '::1', '2001:db8::1, 10.0.0.1', '::ffff:1.2.3.4'), printable),
    'x-forwarded-host': printable,
    'x-request-id': printable,
    accept: fc.constantFrom('text/event-stream', 'application/json', '*/*', 'text/html'),
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', 'x'),
    'extra-cookie': printable,
  },
  { requiredKeys: [] },
);

function principalHeaders(who: Principal, ownOrigin: boolean): Record<string, string> {
  switch (who) {
    case 'none':
      return {};
    case 'wrong':
      return { 'OAUTH-TOKEN': 'wsm_definitely-not-a-token' };
    case 'viewer-header':
      return { 'OAUTH-TOKEN': viewer };
    case 'viewer-bearer':
      return { authorization: `Bearer ${viewer}` };
    case 'viewer-cookie':
      return { cookie: `oauth_token=${encodeURIComponent(viewer)}`, ...(ownOrigin ? { origin: srv.url } : {}) };
    case 'bad-cookie':
      return { cookie: 'oauth_token=%E0%A4%A' };
  }
}

function requestFor(route: Route, params: string[], query: string, who: Principal, ownOrigin: boolean, headers: Record<string, string>, payload: string | undefined): Sent {
  let i = 0;
  const path = route.path.replace(/\{[^}]+\}/g, () => params[i++ % params.length]!) + query;
  const all: Record<string, string> = { ...headers };
  const extraCookie = all['extra-cookie'];
  delete all['extra-cookie'];
  Object.assign(all, principalHeaders(who, ownOrigin));
  if (extraCookie !== undefined) all.cookie = all.cookie ? `${extraCookie}; ${all.cookie}` : extraCookie;
  const withBody = route.method !== 'GET' && route.method !== 'HEAD' && payload !== undefined;
  return { method: route.method, path, headers: all, body: withBody ? payload : undefined };
}

const requestArb = (choices: Route[], who: fc.Arbitrary<Principal>) =>
  // Writes weigh more than reads: they are where a change of state could slip through.
  fc.tuple(fc.oneof(...choices.map((r) => ({ arbitrary: fc.constant(r), weight: r.method === 'GET' ? 1 : 3 }))), fc.array(pathParam, { minLength: 1, maxLength: 3 }), queryString, who, fc.boolean(), extraHeaders, body)
    .map(([route, params, query, p, ownOrigin, headers, payload]) => requestFor(route, params, query, p, ownOrigin, headers, payload));

/** Statuses seen, so a run that only ever met one early refusal is noticed. */
const statuses = new Map<number, number>();

async function assertNoServerError(req: Sent): Promise<void> {
  const res = await send(req);
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  assert.ok(res.status < 500, `${req.method} ${req.path} ${JSON.stringify(req.headers)} ${JSON.stringify(req.body)?.slice(0, 200)} -> ${res.status} ${res.body.slice(0, 300)}`);
}

before(async () => {
  // Wrong tokens are most of what is sent: a limit that is never reached keeps the rest from being 429s
  // while its code still runs. The test connects as a declared proxy, so the random X-Forwarded-* are believed.
  srv = await startTestServer({ env: { WSM_AUTH_FAILURE_LIMIT: '1000000', WSM_TRUSTED_PROXIES: '127.0.0.1' } });
  for (const name of WORKSPACES) {
    const created = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: localContainerConfig() } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // Stopped: no probe or usage sample moves their activity while the snapshot is compared.
    const stopped = await srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace: { action: 'stop' } } });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
  }
  await srv.server.controller.drained();
  viewer = await srv.token('viewer');
  viewerTokenId = (await srv.request('GET', '/api/tokens')).body.tokens.find((t: { name: string }) => t.name === 'test-viewer').id;
  const doc = (await srv.request('GET', '/api/openapi.json', { token: null })).body as { paths: Record<string, Record<string, unknown>> };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
  routes.push({ method: 'GET', path: '/api/openapi.json' }, { method: 'PATCH', path: '/api/workspaces/{name}' }, { method: 'POST', path: '/api/nowhere/{name}' });
});
after(async () => {
  await srv?.close();
});

describe('random requests', () => {
  test('the route list comes from the server and covers the API', () => {
    const seen = new Set(routes.map((r) => `${r.method} ${r.path}`));
    for (const r of ['GET /api/workspaces', 'POST /api/workspaces', 'PUT /api/workspaces/{name}', 'DELETE /api/workspaces/{name}', 'POST /api/tokens', 'PUT /api/tokens/{id}/grants/{workspace}', 'PUT /api/cluster_settings', 'POST /api/workspaces/{name}/activity', 'POST /api/session', 'GET /api/events']) {
      assert.ok(seen.has(r), `${r} is enumerated`);
    }
  });

  test('the requests once answered 500 are 4xx naming what is wrong, and change nothing', async () => {
    const before = await snapshot();
    const cookie = await send({ method: 'GET', path: '/api/workspaces', headers: { cookie: 'oauth_token=%E0%A4%A' } });
    assert.equal(cookie.status, 401, cookie.body);
    assert.equal(JSON.parse(cookie.body).error.type, 'invalid_oauth_token');
    const expiry = await send({ method: 'POST', path: '/api/tokens', headers: { 'OAUTH-TOKEN': srv.adminToken, 'content-type': 'application/json' }, body: '{"role":"viewer","expires_in_seconds":1e300}' });
    assert.equal(expiry.status, 400, expiry.body);
    assert.deepEqual(JSON.parse(expiry.body).error.errors.map((e: { field: string }) => e.field), ['expires_in_seconds']);
    // Found by this test: a fractional audit limit and an offset past SQLite's integers were 500s too,
    // and a broken %-escape in the path was a 400 in Fastify's shape instead of the API's.
    const owner = { 'OAUTH-TOKEN': srv.adminToken };
    const found = [
      { path: '/api/audit?limit=1.5', field: 'limit' },
      { path: '/api/workspaces?offset=99999999999999999999', field: 'offset' },
      { path: '/api/workspaces/%E0%A4%A', field: 'path' },
    ];
    for (const { path, field } of found) {
      const res = await send({ method: 'GET', path, headers: owner });
      assert.equal(res.status, 400, `${path}: ${res.body}`);
      assert.deepEqual(JSON.parse(res.body).error.errors.map((e: { field: string }) => e.field), [field], path);
    }
    assert.deepEqual(await snapshot(), before);
  });

  test('no token, a wrong token or a viewer\'s: never 5xx, and nothing changes', async () => {
    const before = await snapshot();
    statuses.clear();
    await fc.assert(fc.asyncProperty(requestArb(routes, principal), assertNoServerError), { numRuns: 2000 });
    for (const status of [200, 400, 401, 403, 404, 415]) assert.ok(statuses.has(status), `some random requests got ${status}: ${JSON.stringify([...statuses])}`);
    await srv.server.controller.drained();
    assert.deepEqual(await snapshot(), before);
    // The viewer's token still works: the property did not pass by locking itself out.
    assert.equal((await srv.request('GET', '/api/workspaces', { token: viewer })).status, 200);
  });

  test('the owner\'s token on tokens, grants, cluster settings and reads: never 5xx', async () => {
    const harmless = routes
      .filter((r) => r.method === 'GET' || /^\/api\/(tokens|cluster_settings|session)/.test(r.path))
      // Half of the token routes aim at a real token (the viewer's; never the caller's own, which is not stored).
      .flatMap((r) => (r.path.includes('{id}') ? [r, { ...r, path: r.path.replace('{id}', viewerTokenId) }] : [r]));
    // Among them, a share of token creations sent as JSON (with random other headers and query), so that
    // the handlers behind the schemas are reached in every run, not only when chance lines the fields up.
    const tokenCreation = fc
      .tuple(queryString, extraHeaders, tokenBody)
      .map(([query, headers, token]) => requestFor({ method: 'POST', path: '/api/tokens' }, [], query, 'none', false, { ...headers, 'content-type': 'application/json' }, JSON.stringify(token)));
    const ownerRequests = fc
      .oneof({ arbitrary: requestArb(harmless, fc.constant<Principal>('none')), weight: 4 }, { arbitrary: tokenCreation, weight: 1 })
      .map((req) => ({ ...req, headers: { ...req.headers, 'OAUTH-TOKEN': srv.adminToken } }));
    statuses.clear();
    await fc.assert(fc.asyncProperty(ownerRequests, assertNoServerError), { numRuns: 1000 });
    for (const status of [200, 201, 400, 404]) assert.ok(statuses.has(status), `some owner requests got ${status}: ${JSON.stringify([...statuses])}`);
  });
});
