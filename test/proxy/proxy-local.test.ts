// The workspace proxy in front of real local workspaces, through a real `wsm serve` (in process) and
// real HTTP and WebSocket clients: forwarding with the path kept, wsm's credentials never reaching the
// workspace, who may pass, activity, and wake on request (one resume for many waiting requests).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eventually, type TestServer } from '../support/server.js';
import { REPORTING_WORKSPACE, openSocket, proxyGet, startProxiedServer } from './helpers.js';

const run = Math.random().toString(36).slice(2, 8);
const name = `px-${run}`;
const other = `px-${run}-b`;
let server: TestServer & { proxyUrl: string };

async function createRunning(workspace: string, lifecycle?: Record<string, unknown>): Promise<any> {
  const res = await server.request('POST', '/api/workspaces', { body: { workspace: { name: workspace, cluster_type: 'local', container_config: REPORTING_WORKSPACE, lifecycle_config: lifecycle } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  // The workspace's program listens a moment after its process runs: the proxy answering 200 is the sign.
  return eventually(async () => (await proxyGet(`${server.proxyUrl}/${workspace}/`, { 'OAUTH-TOKEN': server.adminToken })).status === 200, 30_000, `${workspace} to answer`);
}

async function act(workspace: string, body: Record<string, unknown>): Promise<void> {
  const res = await server.request('PUT', `/api/workspaces/${workspace}`, { body: { workspace: body } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function stopped(workspace: string): Promise<void> {
  await act(workspace, { action: 'stop' });
  await eventually(async () => (await server.request('GET', `/api/workspaces/${workspace}`)).body.workspace.instance.status === 'STOPPED', 30_000, `${workspace} to stop`);
}

async function resumeOperations(workspace: string): Promise<any[]> {
  const res = await server.request('GET', `/api/workspaces/${workspace}/operations`);
  return res.body.operations.filter((op: any) => op.action === 'resume');
}

describe('the workspace proxy with local workspaces', () => {
  before(async () => {
    server = await startProxiedServer({ env: { WSM_PROXY_WAKE_TIMEOUT_SECONDS: '60' } });
    await createRunning(name);
    await createRunning(other);
  });

  after(async () => {
    await server?.close();
  });

  test('each workspace shows its proxy_url on the proxy\'s own origin', async () => {
    const ws = (await server.request('GET', `/api/workspaces/${name}`)).body.workspace;
    assert.equal(ws.proxy_url, `${server.proxyUrl}/${name}/`);
    assert.notEqual(new URL(ws.proxy_url).origin, new URL(server.url).origin);
    // The list answers the same, kept pages included (asked twice: the second answer is the kept one).
    for (let i = 0; i < 2; i++) {
      const listed = (await server.request('GET', '/api/workspaces')).body.workspaces.find((w: { name: string }) => w.name === name);
      assert.equal(listed.proxy_url, ws.proxy_url);
    }
  });

  test('`wsm workspaces get` shows the proxy url', async () => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const env = { ...process.env, WSM_URL: server.url, WSM_TOKEN: server.adminToken };
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', main, 'workspaces', 'get', name], { env, timeout: 60_000 });
    assert.match(stdout, new RegExp(`^proxy url: +${server.proxyUrl}/${name}/$`, 'm'));
  });

  test('HTTP reaches the workspace with the /<name> prefix kept, without wsm\'s token or cookies', async () => {
    const res = await proxyGet(`${server.proxyUrl}/${name}/some/page?x=1`, {
      'OAUTH-TOKEN': server.adminToken,
      cookie: 'oauth_token=console-secret; theirs=1; wsm_proxy_session=proxy-secret',
      'x-custom': 'kept',
    });
    assert.equal(res.status, 200, res.text);
    const seen = res.json();
    assert.equal(seen.workspace, name);
    assert.equal(seen.path, `/${name}/some/page?x=1`);
    assert.equal(seen.headers['oauth-token'], undefined);
    assert.equal(seen.headers.cookie, 'theirs=1');
    assert.equal(seen.headers['x-custom'], 'kept');
    assert.doesNotMatch(JSON.stringify(seen.headers), new RegExp(server.adminToken));
  });

  test('a bearer token is stripped too; a Basic Authorization of the workspace\'s own is passed on', async () => {
    const bearer = await proxyGet(`${server.proxyUrl}/${name}/`, { authorization: `Bearer ${server.adminToken}` });
    assert.equal(bearer.status, 200, bearer.text);
    assert.equal(bearer.json().headers.authorization, undefined);
    const basic = await proxyGet(`${server.proxyUrl}/${name}/`, { 'OAUTH-TOKEN': server.adminToken, authorization: 'Basic dXNlcjpwdw==' });
    assert.equal(basic.json().headers.authorization, 'Basic dXNlcjpwdw==');
  });

  test('a WebSocket is forwarded both ways, without wsm\'s token or cookies', async () => {
    const socket = await openSocket(`${server.proxyUrl.replace('http', 'ws')}/${name}/socket`, {
      'OAUTH-TOKEN': server.adminToken,
      cookie: 'oauth_token=console-secret; theirs=2',
    });
    try {
      const handshake = JSON.parse(await socket.next());
      assert.equal(handshake.path, `/${name}/socket`);
      assert.equal(handshake.headers['oauth-token'], undefined);
      assert.equal(handshake.headers.cookie, 'theirs=2');
      socket.send('hello');
      assert.equal(await socket.next(), 'echo:hello');
    } finally {
      socket.close();
    }
  });

  test('no token: 401; a token without a grant on the workspace: 403; a grant on it: 200', async () => {
    const none = await proxyGet(`${server.proxyUrl}/${name}/`);
    assert.equal(none.status, 401);
    assert.equal(none.json().error.type, 'invalid_oauth_token');
    const elsewhere = await server.token('editor', { workspace: other });
    const refused = await proxyGet(`${server.proxyUrl}/${name}/`, { 'OAUTH-TOKEN': elsewhere });
    assert.equal(refused.status, 403);
    assert.match(refused.json().error.message, new RegExp(name));
    const ws = await socketRefusal(`${server.proxyUrl.replace('http', 'ws')}/${name}/socket`, elsewhere);
    assert.equal(ws, 'the upgrade was answered 403');
    const allowed = await proxyGet(`${server.proxyUrl}/${other}/`, { 'OAUTH-TOKEN': elsewhere });
    assert.equal(allowed.status, 200);
  });

  test('a browser without a proxy session is sent to the API to sign in, with where it was going', async () => {
    const res = await proxyGet(`${server.proxyUrl}/${name}/deep/path`, { accept: 'text/html' });
    assert.equal(res.status, 302);
    const to = new URL(res.headers.get('location')!);
    assert.equal(to.origin, new URL(server.url).origin);
    assert.equal(to.pathname, '/api/proxy/session');
    assert.equal(to.searchParams.get('workspace'), name);
    assert.equal(to.searchParams.get('path'), `/${name}/deep/path`);
  });

  test('the API\'s sign-in step: a grant is needed, and the ticket only ever leads back into the proxy', async () => {
    const elsewhere = await server.token('viewer', { workspace: other });
    const refused = await server.request('GET', `/api/proxy/session?workspace=${name}`, { token: elsewhere });
    assert.equal(refused.status, 403);
    const hop = async (path: string) => {
      const res = await fetch(`${server.url}/api/proxy/session?workspace=${name}&path=${encodeURIComponent(path)}`, { headers: { 'OAUTH-TOKEN': server.adminToken }, redirect: 'manual' });
      assert.equal(res.status, 302);
      const toProxy = res.headers.get('location')!;
      assert.ok(toProxy.startsWith(`${server.proxyUrl}/_wsm/session?`), toProxy);
      return proxyGet(toProxy);
    };
    const inside = await hop(`/${name}/lab?x=1`);
    assert.equal(inside.status, 302);
    assert.equal(inside.headers.get('location'), `/${name}/lab?x=1`);
    assert.match(inside.headers.get('set-cookie') ?? '', /^wsm_proxy_session=[^;]+;.*HttpOnly/i);
    const offsite = await hop('//evil.example/');
    assert.equal(offsite.status, 400);
    // A ticket is good for the workspace it was asked for: with host routing, that one workspace's origin.
    const elsewherePath = await hop(`/${other}/`);
    assert.equal(elsewherePath.status, 400);
    assert.equal(elsewherePath.headers.get('set-cookie'), null);
  });

  test('proxied traffic counts as activity', async () => {
    await proxyGet(`${server.proxyUrl}/${other}/`, { 'OAUTH-TOKEN': server.adminToken });
    await eventually(async () => (await server.request('GET', `/api/workspaces/${other}`)).body.workspace.activity.last_activity_source === 'proxy', 15_000, 'activity from the proxy');
  });

  test('wake_on_request is validated: a value that is not true or false is refused, naming the field', async () => {
    const res = await server.request('PUT', `/api/workspaces/${name}`, { body: { workspace: { action: 'patch', lifecycle_config: { wake_on_request: 'yes' } } } });
    assert.equal(res.status, 400);
    assert.ok(res.body.error.errors.some((e: any) => e.field.includes('wake_on_request')), JSON.stringify(res.body));
  });

  test('wake off: a stopped workspace answers 409 saying how to start it, and stays stopped', async () => {
    await stopped(other);
    const before = (await resumeOperations(other)).length;
    const res = await proxyGet(`${server.proxyUrl}/${other}/`, { 'OAUTH-TOKEN': server.adminToken });
    assert.equal(res.status, 409);
    assert.match(res.json().error.message, /wake_on_request/);
    assert.equal((await resumeOperations(other)).length, before);
    assert.equal((await server.request('GET', `/api/workspaces/${other}`)).body.workspace.desired_state, 'stopped');
  });

  test('wake on: 50 concurrent requests to a stopped workspace make one resume and are all answered by it', async () => {
    await act(name, { action: 'patch', lifecycle_config: { wake_on_request: true } });
    const ws = (await server.request('GET', `/api/workspaces/${name}`)).body.workspace;
    assert.equal(ws.lifecycle_config.wake_on_request, true);
    await stopped(name);
    const before = (await resumeOperations(name)).length;
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => proxyGet(`${server.proxyUrl}/${name}/req-${i}`, { 'OAUTH-TOKEN': server.adminToken })));
    answers.forEach((res, i) => {
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json().path, `/${name}/req-${i}`);
      assert.match(res.headers.get('x-wsm-cold-start') ?? '', /^waited_ms=\d+$/);
    });
    const resumes = await resumeOperations(name);
    assert.equal(resumes.length, before + 1, 'exactly one resume');
    assert.match(resumes[0].actor, /woken by a request/);
  });

  test('a POST with a body and a WebSocket each wake a stopped workspace, and arrive whole once it runs', async () => {
    await stopped(name);
    const res = await fetch(`${server.proxyUrl}/${name}/submit`, { method: 'POST', headers: { 'OAUTH-TOKEN': server.adminToken, 'content-type': 'application/json' }, body: '{"cell":1}' });
    assert.equal(res.status, 200);
    const seen = await res.json();
    assert.equal(seen.method, 'POST');
    assert.equal(seen.body, '{"cell":1}');

    await stopped(name);
    const socket = await openSocket(`${server.proxyUrl.replace('http', 'ws')}/${name}/kernel`, { 'OAUTH-TOKEN': server.adminToken });
    try {
      assert.equal(JSON.parse(await socket.next()).path, `/${name}/kernel`);
      socket.send('after-wake');
      assert.equal(await socket.next(), 'echo:after-wake');
    } finally {
      socket.close();
    }
  });

  test('a viewer cannot wake a stopped workspace; a browser gets a page that reloads while it starts', async () => {
    await stopped(name);
    const viewer = await server.token('viewer');
    const refused = await proxyGet(`${server.proxyUrl}/${name}/`, { 'OAUTH-TOKEN': viewer });
    assert.equal(refused.status, 403);
    assert.match(refused.json().error.message, /editor role/);

    const page = await proxyGet(`${server.proxyUrl}/${name}/`, { 'OAUTH-TOKEN': server.adminToken, accept: 'text/html' });
    assert.equal(page.status, 503);
    assert.ok(Number(page.headers.get('retry-after')) > 0);
    assert.match(page.text, /is starting/);
    assert.match(page.text, /http-equiv="refresh"/);
    await eventually(async () => (await proxyGet(`${server.proxyUrl}/${name}/`, { 'OAUTH-TOKEN': server.adminToken, accept: 'text/html' })).status === 200, 30_000, 'the page to land on the workspace');
  });
});

async function socketRefusal(url: string, token: string): Promise<string> {
  try {
    const socket = await openSocket(url, { 'OAUTH-TOKEN': token });
    socket.close();
    return 'opened';
  } catch (err) {
    return (err as Error).message;
  }
}
