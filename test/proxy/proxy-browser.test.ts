// The browser's way through the workspace proxy, in real Chromium against a real `wsm serve`: signed in
// on the console's origin, opening a workspace's proxy_url goes API -> one-time ticket -> a cookie of the
// proxy's own origin -> the workspace, which sees none of wsm's cookies; a stopped workspace with
// wake_on_request shows the starting page, which lands on the workspace by itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { eventually, type TestServer } from '../support/server.js';
import { WAIT, buildConsole, launchChromium, signIn } from '../console/browser.js';
import { REPORTING_WORKSPACE, proxyGet, startProxiedServer } from './helpers.js';

const name = `pxb-${Math.random().toString(36).slice(2, 8)}`;
let server: TestServer & { proxyUrl: string };
let browser: Browser;

describe('the workspace proxy in a browser', () => {
  before(async () => {
    server = await startProxiedServer();
    const res = await server.request('POST', '/api/workspaces', { body: { workspace: { name, cluster_type: 'local', container_config: REPORTING_WORKSPACE, lifecycle_config: { wake_on_request: true } } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await eventually(async () => (await proxyGet(`${server.proxyUrl}/${name}/`, { 'OAUTH-TOKEN': server.adminToken })).status === 200, 30_000, 'the workspace to answer');
    buildConsole();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('signed in on the console, the proxy_url opens the workspace through a cookie of the proxy\'s own', async () => {
    const context = await browser.newContext();
    try {
      const signIn = await context.request.post(`${server.url}/api/session`, { data: { token: server.adminToken } });
      assert.equal(signIn.status(), 200);
      const page = await context.newPage();
      const proxyUrl = (await server.request('GET', `/api/workspaces/${name}`)).body.workspace.proxy_url;
      const visited: string[] = [];
      page.on('request', (req) => {
        if (req.isNavigationRequest()) visited.push(new URL(req.url()).pathname);
      });
      const res = await page.goto(`${proxyUrl}notebooks?tab=2`);
      assert.equal(res?.status(), 200);
      assert.equal(page.url(), `${proxyUrl}notebooks?tab=2`);
      assert.deepEqual(visited, [`/${name}/notebooks`, '/api/proxy/session', '/_wsm/session', `/${name}/notebooks`]);
      const seen = JSON.parse(await page.locator('body').innerText());
      assert.equal(seen.workspace, name);
      assert.equal(seen.path, `/${name}/notebooks?tab=2`);
      // Cookies are kept per host, not per port: the console's cookie travels to the proxy too, and is stripped.
      assert.doesNotMatch(seen.headers.cookie ?? '', /oauth_token|wsm_proxy_session/);
      const cookies = await context.cookies(server.proxyUrl);
      const session = cookies.find((c) => c.name === 'wsm_proxy_session');
      assert.ok(session, 'the proxy set its session cookie');
      assert.equal(session.httpOnly, true);
      assert.notEqual(session.value, server.adminToken, 'the cookie holds a session id, not the token');
    } finally {
      await context.close();
    }
  });

  test('the console shows the proxy address, and following it opens the workspace in a new tab', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signIn(page, server.url, server.adminToken);
      await page.goto(`${server.url}/apps/workspaces#/w/${name}`);
      const link = page.getByRole('link', { name: `${server.proxyUrl}/${name}/` });
      await link.waitFor(WAIT);
      const [opened] = await Promise.all([context.waitForEvent('page'), link.click()]);
      await opened.waitForFunction((workspace) => document.body.innerText.includes(`"workspace":"${workspace}"`), name, WAIT);
      assert.equal(opened.url(), `${server.proxyUrl}/${name}/`);
    } finally {
      await context.close();
    }
  });

  test('a sign-in link is good once: opened again it is refused', async () => {
    const context = await browser.newContext();
    try {
      await context.request.post(`${server.url}/api/session`, { data: { token: server.adminToken } });
      const redirect = await context.request.get(`${server.url}/api/proxy/session?workspace=${name}`, { maxRedirects: 0 });
      assert.equal(redirect.status(), 302);
      const link = redirect.headers().location!;
      const page = await context.newPage();
      assert.equal((await page.goto(link))?.status(), 200);
      const again = await page.goto(link);
      assert.equal(again?.status(), 400);
      assert.match(await page.locator('h1').innerText(), /not valid/);
    } finally {
      await context.close();
    }
  });

  test('a stopped workspace with wake_on_request shows the starting page, which lands on the workspace', async () => {
    const stop = await server.request('PUT', `/api/workspaces/${name}`, { body: { workspace: { action: 'stop' } } });
    assert.equal(stop.status, 200);
    await eventually(async () => (await server.request('GET', `/api/workspaces/${name}`)).body.workspace.instance.status === 'STOPPED', 30_000, 'the stop');
    const context = await browser.newContext();
    try {
      await context.request.post(`${server.url}/api/session`, { data: { token: server.adminToken } });
      const page = await context.newPage();
      const first = await page.goto(`${server.proxyUrl}/${name}/`);
      assert.equal(first?.status(), 503);
      assert.match(await page.locator('h1').innerText(), new RegExp(`Workspace ${name} is starting`));
      // The page reloads itself; no click or script of the test's.
      await page.waitForFunction((workspace) => document.body.innerText.includes(`"workspace":"${workspace}"`), name, { timeout: 30_000 });
      assert.equal(page.url(), `${server.proxyUrl}/${name}/`);
    } finally {
      await context.close();
    }
  });
});
