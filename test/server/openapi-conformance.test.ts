// The OpenAPI document against real answers. Every documented route is called over HTTP on a real
// server, with requests that succeed and requests that fail; each answer's status must be declared
// for its route, and its JSON body must validate against the schema declared for that status. Fastify
// serializes with the same schemas, so a field left out of a schema would silently vanish from the
// API: the answers are also compared with what the store holds (through the presenter), field by field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv, type ValidateFunction } from 'ajv';
import { presentActivity, presentOperation, presentWorkspace } from '../../src/server/presenter.js';
import { eventually, localContainerConfig, startTestServer, type TestResponse, type TestServer, type RequestOptions } from '../support/server.js';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}

let srv: TestServer;
let doc: { paths: Record<string, Record<string, Operation>> };
let viewer: string;
const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<object, ValidateFunction>();
/** `GET /api/workspaces/{name}` -> statuses it answered. */
const answered = new Map<string, Set<number>>();

function declaredFor(method: string, template: string, status: number) {
  const operation = doc.paths[template]?.[method.toLowerCase()];
  assert.ok(operation, `${method} ${template} is not in the OpenAPI document`);
  return operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
}

/** Asserts the answer is one the document declares, and records that the route answered it. */
function conforms(method: string, template: string, status: number, contentType: string | null, body: unknown): void {
  const where = `${method} ${template} answered ${status}`;
  const declared = declaredFor(method, template, status);
  assert.ok(declared, `${where}, a status its response schemas do not declare`);
  const key = `${method} ${template}`;
  answered.set(key, (answered.get(key) ?? new Set()).add(status));
  if (status === 204) {
    assert.equal(body, undefined, `${where} with a body`);
    return;
  }
  const type = (contentType ?? '').split(';')[0]!.trim();
  const content = declared.content?.[type];
  assert.ok(content, `${where} as ${type}; declared: ${Object.keys(declared.content ?? {}).join(', ')}`);
  if (type !== 'application/json') return;
  let validate = validators.get(content.schema);
  if (!validate) {
    validate = ajv.compile(content.schema);
    validators.set(content.schema, validate);
  }
  assert.ok(validate(body), `${where}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
}

/** Calls a route by its documented path, with `{param}`s filled in, and checks the answer against the document. */
async function call<T = any>(method: string, template: string, options: RequestOptions & { params?: Record<string, string>; query?: string } = {}): Promise<TestResponse<T>> {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(options.params?.[name] ?? assert.fail(`no value for {${name}}`)));
  const res = await srv.request<T>(method, path + (options.query ?? ''), options);
  conforms(method, template, res.status, res.headers.get('content-type'), res.body);
  return res;
}

/** idle_seconds moves with the clock between the answer and the presenter's run. */
function withoutClock<T>(workspace: T): T {
  const copy = structuredClone(workspace) as { activity: { idle_seconds: unknown } };
  copy.activity.idle_seconds = 'clock';
  return copy as T;
}

/** Every key path of a JSON value, so two values of the same shape compare equal whatever their data. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => keyPaths(item, `${prefix}[]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keyPaths(v, `${prefix}.${k}`)]);
}
const shapeOf = (value: unknown) => [...new Set(keyPaths(value))].sort();

before(async () => {
  srv = await startTestServer();
  doc = (await srv.request('GET', '/api/openapi.json', { token: null })).body;
  viewer = await srv.token('viewer');
});
after(async () => {
  await srv?.close();
});

describe('every documented route answers as its schemas say', () => {
  test('/api/status', async () => {
    const res = await call('GET', '/api/status', { token: null });
    assert.deepEqual(Object.keys(res.body).sort(), ['cluster_types', 'status', 'version']);
  });

  test('workspaces: create, read, list, act, operations, heartbeat and delete, as the presenter shows them', async () => {
    const created = await call('POST', '/api/workspaces', { body: { workspace: { name: 'conf-a', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201);
    await call('POST', '/api/workspaces', { body: { workspace: { name: 'conf-a' } } }); // 409: taken
    await call('POST', '/api/workspaces', { body: { workspace: { name: 'conf-b', colour: 'red' } } }); // 400
    await call('POST', '/api/workspaces', { token: viewer, body: { workspace: { name: 'conf-b' } } }); // 403
    await eventually(async () => (await srv.request('GET', '/api/workspaces/conf-a')).body.workspace.instance.status === 'RUNNING', 20_000, 'conf-a running');

    const one = await call('GET', '/api/workspaces/{name}', { params: { name: 'conf-a' } });
    const record = (await srv.server.store.getWorkspace('conf-a'))!;
    const [lastOperation] = await srv.server.store.listWorkspaceOperations(record.uid, 1);
    assert.deepEqual(withoutClock(one.body.workspace), withoutClock(presentWorkspace(record, { access: 'owner', lastOperation })));
    assert.deepEqual(one.body.metadata, {});
    await call('GET', '/api/workspaces/{name}', { params: { name: 'conf-none' } }); // 404
    await call('GET', '/api/workspaces/{name}', { params: { name: 'conf-a' }, token: 'wsm_wrong' }); // 401

    const list = await call('GET', '/api/workspaces');
    const listed = list.body.workspaces.find((w: { name: string }) => w.name === 'conf-a');
    assert.deepEqual(withoutClock(listed), withoutClock(presentWorkspace((await srv.server.store.getWorkspace('conf-a'))!, { access: 'owner' })));
    assert.deepEqual(Object.keys(list.body.metadata).sort(), ['count', 'limit', 'next_offset', 'offset']);
    await call('GET', '/api/workspaces', { query: '?status=BOGUS' }); // 400
    await call('GET', '/api/workspaces', { token: null }); // 401

    const stopped = await call('PUT', '/api/workspaces/{name}', { params: { name: 'conf-a' }, body: { workspace: { action: 'stop' } } });
    assert.equal(stopped.status, 200);
    const op = (await srv.server.store.getOperation(stopped.body.operation.id))!;
    assert.deepEqual(shapeOf(stopped.body.operation), shapeOf(presentOperation(op)));
    assert.deepEqual(shapeOf(stopped.body.workspace), shapeOf(presentWorkspace((await srv.server.store.getWorkspace('conf-a'))!, { access: 'owner', lastOperation: op })));
    await call('PUT', '/api/workspaces/{name}', { params: { name: 'conf-a' }, body: { workspace: { action: 'explode' } } }); // 400
    await call('PUT', '/api/workspaces/{name}', { params: { name: 'conf-a' }, body: { workspace: { action: 'resume' } }, headers: { 'if-match': '"1"' } }); // 412
    await call('PUT', '/api/workspaces/{name}', { params: { name: 'conf-a' }, token: viewer, body: { workspace: { action: 'resume' } } }); // 403

    const ops = await call('GET', '/api/workspaces/{name}/operations', { params: { name: 'conf-a' } });
    const stored = await srv.server.store.listWorkspaceOperations(record.uid, 50);
    assert.deepEqual(ops.body.operations, stored.map((o) => presentOperation(o)));
    await call('GET', '/api/workspaces/{name}/operations', { params: { name: 'conf-a' }, token: null }); // 401

    const oneOp = await call('GET', '/api/operations/{id}', { params: { id: op.id } });
    assert.deepEqual(oneOp.body.operation, presentOperation((await srv.server.store.getOperation(op.id))!));
    await call('GET', '/api/operations/{id}', { params: { id: 'no-such-operation' } }); // 404

    const beat = await call('POST', '/api/workspaces/{name}/activity', { params: { name: 'conf-a' }, body: { source: 'heartbeat' } });
    assert.deepEqual(shapeOf(beat.body.activity), shapeOf(presentActivity((await srv.server.store.getWorkspace('conf-a'))!)));
    await call('POST', '/api/workspaces/{name}/activity', { params: { name: 'conf-a' }, token: viewer, body: {} }); // 403

    const removed = await call('DELETE', '/api/workspaces/{name}', { params: { name: 'conf-a' }, query: '?delete_volume=true' });
    assert.equal(removed.status, 200);
    assert.equal(removed.body.operation.action, 'delete');
    await call('DELETE', '/api/workspaces/{name}', { params: { name: 'conf-none' } }); // 404
  });

  test('tokens and grants, as the store keeps them (without the hash)', async () => {
    const created = await call('POST', '/api/tokens', { body: { role: 'editor', name: 'conf-token', expires_in_seconds: 3600 } });
    assert.equal(created.status, 201);
    const id: string = created.body.token.id;
    await call('POST', '/api/tokens', { body: { role: 'king' } }); // 400

    assert.equal(created.body.token.secret.startsWith('wsm_'), true);
    await call('GET', '/api/tokens', { token: viewer }); // 403

    const grant = await call('PUT', '/api/tokens/{id}/grants/{workspace}', { params: { id, workspace: 'conf-g' }, body: { role: 'viewer' } });
    assert.deepEqual(grant.body, { grant: { token_id: id, workspace: 'conf-g', role: 'viewer' } });
    await call('PUT', '/api/tokens/{id}/grants/{workspace}', { params: { id: 'no-such-token', workspace: 'conf-g' }, body: { role: 'viewer' } }); // 404
    await call('PUT', '/api/tokens/{id}/grants/{workspace}', { params: { id, workspace: 'Not_A_Name' }, body: { role: 'viewer' } }); // 400
    const ungrant = await call('DELETE', '/api/tokens/{id}/grants/{workspace}', { params: { id, workspace: 'conf-g' } });
    assert.deepEqual(ungrant.body, { removed: { token_id: id, workspace: 'conf-g' } });
    await call('DELETE', '/api/tokens/{id}/grants/{workspace}', { params: { id, workspace: 'conf-g' }, token: viewer }); // 403

    const revoked = await call('DELETE', '/api/tokens/{id}', { params: { id } });
    assert.deepEqual(revoked.body, { revoked: id });
    await call('DELETE', '/api/tokens/{id}', { params: { id: 'no-such-token' } }); // 404

    // Revoked, every field of the record has a value; the answer shows each one but the hash.
    const list = await call('GET', '/api/tokens');
    const { hash: _hash, ...visible } = (await srv.server.store.listTokens()).find((t) => t.id === id)!;
    const listed = list.body.tokens.find((t: { id: string }) => t.id === id);
    assert.deepEqual(listed, { ...visible, workspace: null });
    assert.deepEqual(Object.keys(created.body.token).sort(), [...Object.keys(listed), 'secret'].sort());
  });

  test('cluster settings and the audit log, as the store keeps them', async () => {
    const put = await call('PUT', '/api/cluster_settings', { body: { cluster_settings: { env: [{ name: 'CONF', value: '1' }], inherit_patterns: ['CONF'], default_image: 'busybox:1' } } });
    assert.deepEqual(put.body.cluster_settings, await srv.server.store.getClusterSettings());
    const get = await call('GET', '/api/cluster_settings');
    assert.deepEqual(get.body.cluster_settings, { env: [{ name: 'CONF', value: '1' }], inherit_patterns: ['CONF'], default_image: 'busybox:1' });
    await call('PUT', '/api/cluster_settings', { body: { cluster_settings: { env: [{ name: '1BAD', value: '' }] } } }); // 400
    await call('GET', '/api/cluster_settings', { token: viewer }); // 403

    const audit = await call('GET', '/api/audit', { query: '?limit=50' });
    assert.ok(audit.body.events.length > 0);
    assert.deepEqual(audit.body.events, await srv.server.store.listAudit({ limit: 50 }));
    await call('GET', '/api/audit', { query: '?limit=0' }); // 400
  });

  test('the dormancy dry run, as the settings and the store say', async () => {
    const off = await call('GET', '/api/dormancy');
    assert.deepEqual(off.body, { settings: { dormant_after_days: null, delete_dormant_after_days: null, delete_dormant_volume: false }, workspaces: [], metadata: { count: 0 } });
    await call('PUT', '/api/cluster_settings', { body: { cluster_settings: { dormant_after_days: 30, delete_dormant_after_days: 7 } } });
    assert.equal((await call('GET', '/api/dormancy')).body.settings.delete_dormant_after_days, 7);
    await call('GET', '/api/dormancy', { token: viewer }); // 403
    await call('PUT', '/api/cluster_settings', { body: { cluster_settings: { dormant_after_days: null, delete_dormant_after_days: null } } });
  });

  test('session: is there a cookie, sign in, whoami, sign out', async () => {
    assert.deepEqual((await call('GET', '/api/session', { token: null })).body, { has_cookie: false });
    // The cookie is only seen, not checked: a wrong one is for /api/whoami to refuse.
    assert.deepEqual((await call('GET', '/api/session', { token: null, headers: { cookie: 'oauth_token=wsm_wrong' } })).body, { has_cookie: true });
    const signIn = await call('POST', '/api/session', { token: null, body: { token: viewer } });
    assert.deepEqual(signIn.body, { actor: 'token:test-viewer', role: 'viewer', grants: [] });
    await call('POST', '/api/session', { token: null, body: { token: 'wsm_wrong' } }); // 401
    const who = await call('GET', '/api/whoami', { token: viewer });
    assert.deepEqual(who.body, signIn.body);
    await call('GET', '/api/whoami', { token: null }); // 401
    const out = await call('DELETE', '/api/session', { token: null });
    assert.equal(out.status, 204);
    // Signed in by the cookie, without the Origin a page of ours sends: refused as a possible forgery.
    await call('DELETE', '/api/session', { token: null, headers: { cookie: `oauth_token=${viewer}` } }); // 403
  });

  test('/api/events: an event stream, or an error body', async () => {
    const aborter = new AbortController();
    const res = await fetch(`${srv.url}/api/events`, { headers: { 'oauth-token': viewer }, signal: aborter.signal });
    conforms('GET', '/api/events', res.status, res.headers.get('content-type'), undefined);
    aborter.abort();
    await call('GET', '/api/events', { token: null }); // 401
    await call('GET', '/api/events', { query: `?last_event_id=${'9'.repeat(65)}` }); // 400
  });

  test('/healthz and /readyz', async () => {
    await call('GET', '/healthz', { token: null });
    await call('GET', '/readyz', { token: null });
  });

  test('each documented route was called, and answered both a success and an error', () => {
    // Nothing can be refused at the status, session and health routes: they are public and take no
    // input (test/metrics/readiness.test.ts makes /readyz answer 503).
    const noError = new Set(['GET /api/status', 'GET /api/session', 'GET /healthz', 'GET /readyz']);
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    assert.ok(operations.length >= 20, `only ${operations.length} operations documented`);
    for (const operation of operations) {
      const statuses = [...(answered.get(operation) ?? [])];
      assert.ok(statuses.some((s) => s < 300), `${operation} was not called successfully (${statuses.join(', ') || 'never called'})`);
      if (!noError.has(operation)) assert.ok(statuses.some((s) => s >= 400), `${operation} was not called with an error (${statuses.join(', ')})`);
    }
  });
});
