// The proxy on the API's own origin: refused at start-up unless --unsafe-proxy-on-api-origin is given
// (the real CLI, its exit code and message); with it, one port serves the API and the workspaces. This
// server also wakes by the cluster default (WSM_WAKE_ON_REQUEST_DEFAULT), which a workspace's own
// lifecycle_config.wake_on_request overrides.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually, startTestServer, type TestServer } from '../support/server.js';
import { REPORTING_WORKSPACE, openSocket, proxyGet } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const run = Math.random().toString(36).slice(2, 8);
const woken = `pxa-${run}`;
const kept = `pxa-${run}-off`;
let server: TestServer;

function serveExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args], { timeout: 60_000, env: { ...process.env, WSM_ADMIN_TOKEN: 'x-start-up-check' } }, (err, _stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr });
    });
  });
}

async function stopped(workspace: string): Promise<void> {
  const res = await server.request('PUT', `/api/workspaces/${workspace}`, { body: { workspace: { action: 'stop' } } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await eventually(async () => (await server.request('GET', `/api/workspaces/${workspace}`)).body.workspace.instance.status === 'STOPPED', 30_000, `${workspace} to stop`);
}

test('`wsm serve` with the proxy on the API\'s port and no unsafe flag stops at once, saying why and which flag would allow it', async () => {
  const { code, stderr } = await serveExit(['--port', '6901', '--proxy-port', '6901', '--data-dir', '/nonexistent/never-made']);
  assert.equal(code, 2);
  assert.match(stderr, /wsm serve: --proxy-port\/WSM_PROXY_PORT must differ from the API's port \(6901\): the proxy needs an origin of its own .*--unsafe-proxy-on-api-origin/);
});

describe('the proxy on the API\'s origin (--unsafe-proxy-on-api-origin)', () => {
  before(async () => {
    server = await startTestServer({ env: { WSM_UNSAFE_PROXY_ON_API_ORIGIN: 'true', WSM_WAKE_ON_REQUEST_DEFAULT: 'true' } });
    for (const [workspace, lifecycle] of [[woken, undefined], [kept, { wake_on_request: false }]] as const) {
      const res = await server.request('POST', '/api/workspaces', { body: { workspace: { name: workspace, cluster_type: 'local', container_config: REPORTING_WORKSPACE, lifecycle_config: lifecycle } } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await eventually(async () => (await proxyGet(`${server.url}/${workspace}/`, { 'OAUTH-TOKEN': server.adminToken })).status === 200, 30_000, `${workspace} to answer`);
    }
  });

  after(async () => {
    await server?.close();
  });

  test('one port serves both: the API at /api, each workspace at /<name>/ with its proxy_url there', async () => {
    assert.equal(server.server.proxy?.port, undefined, 'no listener of its own');
    const ws = (await server.request('GET', `/api/workspaces/${woken}`)).body.workspace;
    assert.equal(ws.proxy_url, `${server.url}/${woken}/`);
    const res = await proxyGet(`${server.url}/${woken}/page?x=1`, { 'OAUTH-TOKEN': server.adminToken, cookie: 'oauth_token=console; theirs=1' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().path, `/${woken}/page?x=1`);
    assert.equal(res.json().headers.cookie, 'theirs=1', 'the console cookie, sent to this origin, is still stripped');
    assert.equal((await proxyGet(`${server.url}/api/status`)).status, 200);
    const socket = await openSocket(`${server.url.replace('http', 'ws')}/${woken}/ws`, { 'OAUTH-TOKEN': server.adminToken });
    try {
      assert.equal(JSON.parse(await socket.next()).path, `/${woken}/ws`);
      socket.send('hi');
      assert.equal(await socket.next(), 'echo:hi');
    } finally {
      socket.close();
    }
  });

  test('the cluster default wakes a workspace that leaves wake_on_request unset; one that says false is not woken', async () => {
    await stopped(woken);
    const res = await proxyGet(`${server.url}/${woken}/after-sleep`, { 'OAUTH-TOKEN': server.adminToken });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().path, `/${woken}/after-sleep`);
    assert.match(res.headers.get('x-wsm-cold-start') ?? '', /^waited_ms=\d+$/);

    await stopped(kept);
    const refused = await proxyGet(`${server.url}/${kept}/`, { 'OAUTH-TOKEN': server.adminToken });
    assert.equal(refused.status, 409);
    assert.match(refused.json().error.message, /wake_on_request is off/);
    assert.equal((await server.request('GET', `/api/workspaces/${kept}`)).body.workspace.desired_state, 'stopped');
  });
});
