// PUT with "dry_run": true: the plan and the workspace as the patch would make it, and nothing changed:
// not the store, not the operations, not the audit log, not the running process. A bad dry run is
// refused exactly as the real patch would be.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
const NAME = 'dry';

/** Serves its own pid on $PORT. */
const COMMAND = JSON.stringify([process.execPath, '-e', "require('http').createServer((q,s)=>s.end(String(process.pid))).listen(Number(process.env.PORT),'127.0.0.1')"]);

async function pid(): Promise<string> {
  return eventually(async () => {
    const ws = (await srv.request('GET', `/api/workspaces/${NAME}`)).body.workspace;
    if (ws.instance.status !== 'RUNNING') return undefined;
    try {
      return await (await fetch(`http://${ws.instance.ip}/`)).text();
    } catch {
      return undefined;
    }
  }, 20_000, `${NAME} to serve its pid`);
}

/** Everything a dry run must leave as it was. */
async function snapshot() {
  const ws = await srv.request('GET', `/api/workspaces/${NAME}`);
  const ops = await srv.request('GET', `/api/workspaces/${NAME}/operations`);
  const audit = await srv.request('GET', `/api/audit?workspace=${NAME}`);
  const { activity, ...rest } = ws.body.workspace;
  return { etag: ws.headers.get('etag'), workspace: rest, last_activity_at: activity.last_activity_at, operations: ops.body.operations, audit: audit.body.events, pid: await pid() };
}

const put = (workspace: Record<string, unknown>, headers: Record<string, string> = {}) => srv.request('PUT', `/api/workspaces/${NAME}`, { body: { workspace }, headers });

before(async () => {
  srv = await startTestServer({ clusterType: 'local' });
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: NAME, cluster_type: 'local', container_config: `command: ${COMMAND}` } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await pid();
  // Settled first: the controller's look that turns Listening True must not land between two snapshots.
  await eventually(async () => {
    const ws = (await srv.request('GET', `/api/workspaces/${NAME}`)).body.workspace;
    return ws.conditions.some((c: { type: string; status: string }) => c.type === 'Listening' && c.status === 'True');
  }, 20_000, `${NAME} to be seen listening`);
});
after(async () => {
  await srv?.close();
});

describe('dry run', () => {
  test('answers the plan and the resulting container_config and spec, and changes nothing', async () => {
    const before = await snapshot();
    const res = await put({
      action: 'patch',
      dry_run: true,
      container_config: 'env:\n  - name: DRY\n    value: "1"',
      lifecycle_config: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 600 } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.dry_run, true);
    assert.equal(res.body.operation, null, 'no operation');
    assert.equal(res.headers.get('etag'), before.etag, 'the ETag of the workspace as it stays, for If-Match on the real patch');
    const plan = res.body.plan;
    assert.equal(plan.cluster_type, 'local');
    assert.equal(plan.effect, 'restart');
    assert.equal(plan.interrupts, true);
    assert.deepEqual(
      plan.changes.map((c: any) => [c.field, c.effect]),
      [['container_config.env', 'restart'], ['lifecycle_config.termination_policy', 'live']],
    );
    assert.match(plan.summary, /restarts the process/);
    const would = res.body.workspace;
    assert.match(would.container_config, /name: DRY\n\s+value: "1"/);
    assert.deepEqual(would.lifecycle_config.termination_policy, { enable_auto_termination: true, max_idle_seconds: 600 });
    assert.equal(would.generation, before.workspace.generation + 1);

    assert.deepEqual(await snapshot(), before, 'store, operations, audit, activity and the process are as they were');
  });

  test('the real patch then does what the dry run said, and its operation carries the same plan', async () => {
    const patch = { action: 'patch', container_config: 'env:\n  - name: REAL\n    value: "1"' };
    const dry = await put({ ...patch, dry_run: true });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    const pidBefore = await pid();
    const real = await put(patch, { 'if-match': dry.headers.get('etag')! });
    assert.equal(real.status, 200, JSON.stringify(real.body));
    assert.equal(real.body.dry_run, undefined);
    assert.deepEqual(real.body.plan, dry.body.plan);
    assert.deepEqual(real.body.workspace.container_config, dry.body.workspace.container_config);
    const op = await eventually(async () => {
      const o = (await srv.request('GET', `/api/operations/${real.body.operation.id}`)).body.operation;
      return o.state === 'succeeded' && o;
    });
    assert.deepEqual(op.details.plan, dry.body.plan, 'the operation shows the plan it followed');
    assert.notEqual(await pid(), pidBefore, 'restarted, as planned');
  });

  test('bad input gets the same 400 as the real patch, and a refused dry run is not audited', async () => {
    for (const bad of [
      { container_config: 'env:\n  - name: 1BAD\n    value: x' },
      { container_config: 'imagePullPolicy: Always' },
      { lifecycle_config: { pre_start_script_path: '../../etc/passwd' } },
      { lifecycle_config: { termination_policy: { max_idle_seconds: -1 } } },
    ]) {
      const auditBefore = (await srv.request('GET', `/api/audit?workspace=${NAME}`)).body.events;
      const dry = await put({ action: 'patch', dry_run: true, ...bad });
      assert.equal(dry.status, 400, JSON.stringify(dry.body));
      assert.deepEqual((await srv.request('GET', `/api/audit?workspace=${NAME}`)).body.events, auditBefore, `${JSON.stringify(bad)}: not audited`);
      const real = await put({ action: 'patch', ...bad });
      assert.deepEqual(dry.body, real.body, `${JSON.stringify(bad)}: the same answer`);
    }
    const notBool = await put({ action: 'patch', dry_run: 'yes' });
    assert.equal(notBool.status, 400);
    assert.deepEqual(notBool.body.error.errors.map((e: any) => e.field), ['dry_run']);
    const onStop = await put({ action: 'stop', dry_run: true });
    assert.equal(onStop.status, 400);
    assert.match(onStop.body.error.errors[0].message, /only taken by the patch action/);
    const stale = await put({ action: 'patch', dry_run: true, container_config: 'env:\n  - name: X\n    value: "1"' }, { 'if-match': '"1"' });
    assert.equal(stale.status, 412, JSON.stringify(stale.body));
    const missing = await srv.request('PUT', '/api/workspaces/nope', { body: { workspace: { action: 'patch', dry_run: true } } });
    assert.equal(missing.status, 404);
  });

  test('a dry run keeps no Idempotency-Key: the same key on the real patch acts', async () => {
    const headers = { 'idempotency-key': 'dry-then-real' };
    const dry = await put({ action: 'patch', dry_run: true, container_config: 'env:\n  - name: KEYED\n    value: "1"' }, headers);
    assert.equal(dry.status, 200);
    const real = await put({ action: 'patch', container_config: 'env:\n  - name: KEYED\n    value: "1"' }, headers);
    assert.equal(real.status, 200, JSON.stringify(real.body));
    assert.equal(real.headers.get('idempotent-replayed'), null);
    assert.ok(real.body.operation, 'the real patch made an operation');
  });

  test('an editor scoped to the workspace is refused a dry run of an owner-only key, as for the real patch', async () => {
    const token = await srv.token('editor', { workspace: NAME });
    const body = { workspace: { action: 'patch', dry_run: true, container_config: 'labels:\n  team: x' } };
    const dry = await srv.request('PUT', `/api/workspaces/${NAME}`, { body, token });
    assert.equal(dry.status, 403, JSON.stringify(dry.body));
    const { dry_run: _, ...realBody } = body.workspace;
    const real = await srv.request('PUT', `/api/workspaces/${NAME}`, { body: { workspace: realBody }, token });
    assert.deepEqual(dry.body, real.body);
  });

  test('the OpenAPI document shows dry_run and the plan', async () => {
    const doc = (await srv.request('GET', '/api/openapi.json', { token: null })).body;
    const put = doc.paths['/api/workspaces/{name}'].put;
    const body = put.requestBody.content['application/json'].schema.properties.workspace.properties;
    assert.equal(body.dry_run.type, 'boolean');
    assert.match(body.dry_run.description, /changing nothing/);
    const answer = put.responses['200'].content['application/json'].schema.properties;
    assert.deepEqual(answer.plan.properties.effect.enum, ['none', 'live', 'deferred', 'restart', 'recreate']);
    assert.equal(answer.dry_run.type, 'boolean');
  });
});
