// The workspace proxy in front of a real Docker workspace (wsm-test/busybox:1 running httpd), through
// a real `wsm serve`: a page reaches the container, and a stopped container is woken by requests (one
// resume for all of them) when wake_on_request is on, and refused with a clear 409 when it is off.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, type TestServer } from '../support/server.js';
import { TEST_IMAGE, dockerSkipReason, ensureDocker } from '../support/docker.js';
import { e2eName, removeWorkspaceObjects } from '../e2e/docker/helpers.js';
import { proxyGet, startProxiedServer } from './helpers.js';

const name = e2eName('proxy');
let server: TestServer & { proxyUrl: string };

/**
 * httpd serves /home/src; the page lives under /<name>/, the path the proxy passes on whole, and
 * /<name>/env.sh runs as CGI (httpd's *.sh interpreter), printing the headers it received as HTTP_* variables.
 */
const startScript = [
  `mkdir -p /home/src/${name}`,
  `echo served-by-container > /home/src/${name}/index.html`,
  `printf '%s\\n' '#!/bin/sh' 'printf "Content-Type: text/plain\\r\\n\\r\\n"' env > /home/src/${name}/env.sh`,
  `chmod +x /home/src/${name}/env.sh`,
  `echo '*.sh:/bin/sh' > /etc/httpd.conf`,
  'exec httpd -f -p 6789 -h /home/src -c /etc/httpd.conf',
].join(' && ');
const containerConfig = `image: ${TEST_IMAGE}\ncommand: ${JSON.stringify(['sh', '-c', startScript])}\n`;

async function act(body: Record<string, unknown>): Promise<void> {
  const res = await server.request('PUT', `/api/workspaces/${name}`, { body: { workspace: body } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function stopped(): Promise<void> {
  await act({ action: 'stop' });
  await eventually(async () => (await server.request('GET', `/api/workspaces/${name}`)).body.workspace.instance.status === 'STOPPED', 60_000, `${name} to stop`);
}

async function resumes(): Promise<number> {
  const res = await server.request('GET', `/api/workspaces/${name}/operations`);
  return res.body.operations.filter((op: any) => op.action === 'resume').length;
}

const page = () => proxyGet(`${server.proxyUrl}/${name}/`, { 'OAUTH-TOKEN': server.adminToken });

describe('the workspace proxy with a Docker workspace', { skip: dockerSkipReason() }, () => {
  before(async () => {
    await ensureDocker();
    server = await startProxiedServer({ clusterType: 'docker', env: { WSM_PROXY_WAKE_TIMEOUT_SECONDS: '90' } });
    const res = await server.request('POST', '/api/workspaces', { body: { workspace: { name, cluster_type: 'docker', container_config: containerConfig, lifecycle_config: { wake_on_request: true } } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  after(async () => {
    await server?.close().catch(() => undefined);
    await removeWorkspaceObjects([name]);
  });

  test('a request through the proxy reaches the container\'s page', async () => {
    const body = await eventually(async () => {
      const res = await page();
      return res.status === 200 ? res.text : undefined;
    }, 60_000, 'the page through the proxy');
    assert.equal(body.trim(), 'served-by-container');
  });

  test('the container does not receive wsm\'s cookies (its CGI environment shows the Cookie header it got)', async () => {
    const res = await proxyGet(`${server.proxyUrl}/${name}/env.sh`, { 'OAUTH-TOKEN': server.adminToken, cookie: `oauth_token=${server.adminToken}; theirs=1; wsm_proxy_session=s` });
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /^REQUEST_URI=\/.+\/env\.sh$/m);
    assert.match(res.text, /^HTTP_COOKIE=theirs=1$/m);
    assert.doesNotMatch(res.text, new RegExp(server.adminToken));
  });

  test('5 concurrent requests to the stopped container make one resume and all get its page', async () => {
    await stopped();
    const before = await resumes();
    const answers = await Promise.all(Array.from({ length: 5 }, () => page()));
    for (const res of answers) {
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text.trim(), 'served-by-container');
      assert.match(res.headers.get('x-wsm-cold-start') ?? '', /^waited_ms=\d+$/);
    }
    assert.equal(await resumes(), before + 1, 'exactly one resume');
  });

  test('with wake_on_request off the stopped container is not started: 409 naming the setting', async () => {
    await act({ action: 'patch', lifecycle_config: { wake_on_request: false } });
    await stopped();
    const before = await resumes();
    const res = await page();
    assert.equal(res.status, 409);
    assert.match(res.json().error.message, /wake_on_request is off/);
    assert.equal(await resumes(), before);
  });
});
