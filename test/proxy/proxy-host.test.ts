// Host routing (--proxy-host-domain): each workspace at <name>.<domain>, an origin of its own, against a
// real `wsm serve` and real local workspaces. The host names resolve nowhere: HTTP and WebSocket clients
// are given a resolver that sends them to 127.0.0.1 with the real Host header, and Chromium is started
// with --host-resolver-rules. The API is reached as wsm.example.test, the same site as the workspaces
// (as wsm.example.com and *.ws.example.com would be), so the console's SameSite=Strict cookie reaches it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer, type LookupFunction } from 'node:net';
import WebSocket from 'ws';
import type { Browser } from 'playwright-core';
import { eventually, type TestServer } from '../support/server.js';
import { buildConsole, launchChromium, signIn } from '../console/browser.js';
import { REPORTING_WORKSPACE, startProxiedServer, type ProxyAnswer } from './helpers.js';

const DOMAIN = 'ws.example.test';
const run = Math.random().toString(36).slice(2, 8);
const name = `pxh-${run}`;
const other = `pxh-${run}-b`;
let server: TestServer & { proxyUrl: string };
let apiPublic: string;
let browser: Browser | undefined;

/** Every host name is 127.0.0.1, as a DNS wildcard record for the domain would make it. */
const loopback = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
  options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)) as unknown as LookupFunction;

function hostGet(url: string, headers: Record<string, string> = {}): Promise<ProxyAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, lookup: loopback }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode!, headers: h, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const workspaceOrigin = (workspace: string) => `http://${workspace}.${DOMAIN}:${new URL(server.proxyUrl).port}`;

describe('the workspace proxy with host routing', () => {
  before(async () => {
    const apiPort = await freePort();
    apiPublic = `http://wsm.example.test:${apiPort}`;
    server = await startProxiedServer({ port: apiPort, env: { WSM_PROXY_HOST_DOMAIN: DOMAIN, WSM_PUBLIC_URL: apiPublic } });
    for (const workspace of [name, other]) {
      const res = await server.request('POST', '/api/workspaces', { body: { workspace: { name: workspace, cluster_type: 'local', container_config: REPORTING_WORKSPACE } } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await eventually(async () => (await hostGet(`${workspaceOrigin(workspace)}/`, { 'OAUTH-TOKEN': server.adminToken })).status === 200, 30_000, `${workspace} to answer`);
    }
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('proxy_url is the workspace\'s own host name, and the path reaches it as it was asked, without wsm\'s credentials', async () => {
    const ws = (await server.request('GET', `/api/workspaces/${name}`)).body.workspace;
    assert.equal(ws.proxy_url, `${workspaceOrigin(name)}/`);
    const res = await hostGet(`${workspaceOrigin(name)}/some/page?x=1`, { 'OAUTH-TOKEN': server.adminToken, cookie: 'oauth_token=console; theirs=1; wsm_proxy_session=s' });
    assert.equal(res.status, 200, res.text);
    const seen = res.json();
    assert.equal(seen.workspace, name);
    assert.equal(seen.path, '/some/page?x=1', 'no /<name> prefix is added or kept: the host names the workspace');
    assert.equal(seen.headers['oauth-token'], undefined);
    assert.equal(seen.headers.cookie, 'theirs=1');
    const second = (await hostGet(`${workspaceOrigin(other)}/`, { 'OAUTH-TOKEN': server.adminToken })).json();
    assert.equal(second.workspace, other);
  });

  test('a host name that names no workspace of the domain answers 404 saying how workspaces are named', async () => {
    const port = new URL(server.proxyUrl).port;
    for (const host of [`${DOMAIN}`, `a.${name}.${DOMAIN}`, `${name}.elsewhere.test`, `Not_A_Label.${DOMAIN}`]) {
      const res = await hostGet(`http://${host}:${port}/${name}/`, { 'OAUTH-TOKEN': server.adminToken });
      assert.equal(res.status, 404, host);
      assert.match(res.json().error.message, new RegExp(`<workspace name>\\.${DOMAIN.replaceAll('.', '\\.')}`), host);
    }
  });

  test('a WebSocket reaches the workspace named by its host', async () => {
    const socket = new WebSocket(`ws://${name}.${DOMAIN}:${new URL(server.proxyUrl).port}/socket`, { headers: { 'OAUTH-TOKEN': server.adminToken }, lookup: loopback });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        socket.once('message', (data) => resolve(String(data)));
        socket.once('error', reject);
        socket.once('unexpected-response', (_req, res) => reject(new Error(`the upgrade was answered ${res.statusCode}`)));
      });
      const hello = JSON.parse(first);
      assert.equal(hello.path, '/socket');
      assert.equal(hello.headers['oauth-token'], undefined);
    } finally {
      socket.close();
    }
  });

  test('a sign-in ticket asked for one workspace sets no cookie on another\'s host', async () => {
    const res = await fetch(`${server.url}/api/proxy/session?workspace=${name}`, { headers: { 'OAUTH-TOKEN': server.adminToken }, redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin, workspaceOrigin(name), 'the ticket is sent to the workspace\'s own host');
    assert.equal(location.searchParams.get('path'), '/');
    location.hostname = `${other}.${DOMAIN}`;
    const refused = await hostGet(location.href);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('set-cookie'), null);
    const offsite = await fetch(`${server.url}/api/proxy/session?workspace=${name}&path=${encodeURIComponent('//evil.example/')}`, { headers: { 'OAUTH-TOKEN': server.adminToken }, redirect: 'manual' });
    const landed = await hostGet(offsite.headers.get('location')!);
    assert.equal(landed.status, 302);
    assert.equal(landed.headers.get('location'), '/', 'a path that would leave the host is replaced by the workspace\'s home');
    const odd = await fetch(`${server.url}/api/proxy/session?workspace=${encodeURIComponent('evil.example#')}`, { headers: { 'OAUTH-TOKEN': server.adminToken }, redirect: 'manual' });
    assert.equal(odd.status, 400);
    assert.match((await odd.json()).error.message, /workspace must be a workspace name/);
  });

  test('in Chromium: signed in on the console, a workspace\'s host opens it through a cookie of that host alone', async () => {
    buildConsole();
    browser = await launchChromium(['--host-resolver-rules=MAP *.example.test 127.0.0.1']);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // Signed in through the console's form, in the browser (which alone resolves the test's host names).
      await signIn(page, apiPublic, server.adminToken);
      const visited: string[] = [];
      page.on('request', (req) => {
        if (req.isNavigationRequest()) visited.push(`${new URL(req.url()).host}${new URL(req.url()).pathname}`);
      });
      const target = `${workspaceOrigin(name)}/notebooks?tab=2`;
      const res = await page.goto(target);
      assert.equal(res?.status(), 200);
      assert.equal(page.url(), target);
      const proxyHost = new URL(workspaceOrigin(name)).host;
      assert.deepEqual(visited, [`${proxyHost}/notebooks`, `${new URL(apiPublic).host}/api/proxy/session`, `${proxyHost}/_wsm/session`, `${proxyHost}/notebooks`]);
      const seen = JSON.parse(await page.locator('body').innerText());
      assert.equal(seen.workspace, name);
      assert.equal(seen.path, '/notebooks?tab=2');
      assert.doesNotMatch(seen.headers.cookie ?? '', /oauth_token|wsm_proxy_session/);
      const session = (await context.cookies()).find((c) => c.name === 'wsm_proxy_session');
      assert.ok(session, 'the proxy set its session cookie');
      assert.equal(session.domain, `${name}.${DOMAIN}`, 'a host-only cookie: not the parent domain, which every workspace host shares');
      assert.equal(session.httpOnly, true);
      // The other workspace's host has no cookie yet: the browser is sent through the sign-in once more.
      visited.length = 0;
      await page.goto(`${workspaceOrigin(other)}/`);
      assert.equal(JSON.parse(await page.locator('body').innerText()).workspace, other);
      assert.ok(visited.some((v) => v.endsWith('/api/proxy/session')), visited.join(' '));
      assert.equal((await context.cookies()).filter((c) => c.name === 'wsm_proxy_session').length, 2);
    } finally {
      await context.close();
    }
  });
});
