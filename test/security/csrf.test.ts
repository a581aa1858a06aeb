// Cross-site request forgery, in a real Chromium: a user signed in to the console (cookie set) opens a
// page served from another port of the same host, which is same-site, so the SameSite=Strict cookie goes
// along. That page submits forms and no-cors fetches at wsm. The server must refuse every one of them,
// and the console itself must keep working. Then the same rule over plain HTTP, header by header.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WAIT = { timeout: 20_000 };

let srv: TestServer;
let browser: Browser;
let attacker: Server;
let attackerUrl: string;

/** The attacker's page: every way a foreign page can send a credentialed POST without a preflight. */
function attackPage(wsm: string): string {
  const heartbeat = `${wsm}/api/workspaces/target/activity`;
  // text/plain forms can carry a JSON-looking body: name + "=" + value.
  const createJson = '{"workspace":{"name":"pwned","cluster_type":"local","container_config":"command: [sleep, \\"600\\"]\\n#';
  const tokenJson = '{"role":"owner","name":"pwned';
  return `<!doctype html><html><body>
<iframe name="f1"></iframe><iframe name="f2"></iframe><iframe name="f3"></iframe><iframe name="f4"></iframe>
<form target="f1" method="POST" enctype="text/plain" action="${heartbeat}"><input name='{"source":"heartbeat","x":"' value='"}'></form>
<form target="f2" method="POST" enctype="application/x-www-form-urlencoded" action="${heartbeat}"><input name="source" value="heartbeat"></form>
<form target="f3" method="POST" enctype="text/plain" action="${wsm}/api/workspaces"><input name='${createJson}' value='"}}'></form>
<form target="f4" method="POST" enctype="text/plain" action="${wsm}/api/tokens"><input name='${tokenJson}' value='"}'></form>
<script>
  const frames = [...document.querySelectorAll('iframe')];
  const loaded = frames.map((f) => new Promise((resolve) => f.addEventListener('load', resolve, { once: true })));
  for (const form of document.forms) form.submit();
  const fetches = [
    fetch(${JSON.stringify(heartbeat)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{}' }),
    // no-cors drops a non-safelisted content type: this one arrives as text/plain too.
    fetch(${JSON.stringify(heartbeat)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}' }),
    fetch(${JSON.stringify(`${wsm}/api/workspaces`)}, { method: 'POST', mode: 'no-cors', credentials: 'include', body: new URLSearchParams({ workspace: 'pwned' }) }),
  ];
  Promise.allSettled([...loaded, ...fetches]).then((results) => {
    document.title = 'done ' + results.filter((r) => r.status === 'fulfilled').length;
  });
</script></body></html>`;
}

before(async () => {
  // The console test's bundle: rebuilt so the console checked here is the current one.
  execFileSync(process.execPath, ['scripts/build-console.mjs'], { cwd: ROOT, stdio: 'pipe' });
  srv = await startTestServer();
  for (const name of ['target', 'spare']) {
    const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: localContainerConfig() } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  // Stopped, the target has no probe or usage sample that would record activity: only heartbeats can.
  assert.equal((await srv.request('PUT', '/api/workspaces/target', { body: { workspace: { action: 'stop' } } })).status, 200);
  attacker = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(attackPage(srv.url));
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => attacker?.close(resolve));
  await srv?.close();
});

async function signIn(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${srv.url}/apps/workspaces`);
  await page.getByLabel('API token').fill(srv.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('tr[data-name="target"]').waitFor(WAIT);
  return { context, page };
}

async function state() {
  const tokens = await srv.server.store.listTokens();
  const audit = (await srv.server.store.listAudit({ limit: 10_000 })).filter((e) => e.result === 'ok');
  const names = (await srv.server.store.listWorkspaces({ limit: 1000, offset: 0 })).workspaces.map((w) => w.name);
  return { tokens: tokens.map((t) => t.id), audit: audit.length, names, heartbeat: srv.server.controller.activity.peek('target') ?? null };
}

describe('a page on another port of the same host', () => {
  test('cannot use the console\'s cookie: heartbeat, create and token forms and no-cors fetches are all refused', async () => {
    const { context, page } = await signIn();
    const cookie = (await context.cookies(srv.url)).find((c) => c.name === 'oauth_token');
    assert.ok(cookie, 'signed in: the cookie is set');
    const before = await state();
    assert.equal(before.heartbeat, null);

    const evil = await context.newPage();
    await evil.goto(attackerUrl);
    // Every form answered (its frame loaded) and every fetch settled: the requests reached wsm.
    await evil.waitForFunction(() => document.title === 'done 7', undefined, WAIT);

    const after = await state();
    assert.deepEqual(after, before, 'nothing was recorded, created or granted');
    assert.equal((await srv.request('GET', '/api/workspaces/pwned')).status, 404);
    const target = await srv.request('GET', '/api/workspaces/target');
    assert.notEqual(target.body.workspace.activity?.last_activity_source, 'heartbeat');
    await context.close();
  });

  test('the console on wsm\'s own origin still acts with the same cookie', async () => {
    const { context, page } = await signIn();
    // A heartbeat as the console would send one: same origin, JSON.
    const status = await page.evaluate(async () => (await fetch('/api/workspaces/target/activity', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
    assert.equal(status, 200);
    assert.equal(srv.server.controller.activity.peek('target')?.source, 'heartbeat');
    // Its own buttons: stop (PUT with a body) and delete (DELETE without one).
    await page.getByRole('button', { name: 'Stop spare' }).click();
    await page.locator('tr[data-name="spare"] [data-status="STOPPED"]').waitFor(WAIT);
    await page.getByRole('button', { name: 'Delete spare' }).click();
    await page.getByRole('dialog', { name: 'Delete workspace spare?' }).getByRole('button', { name: 'Delete spare' }).click();
    await page.locator('tr[data-name="spare"]').waitFor({ state: 'detached', ...WAIT });
    assert.equal((await srv.request('GET', '/api/workspaces/spare')).status, 404);
    await context.close();
  });
});

describe('the rule, header by header', () => {
  let cookie: string;
  before(async () => {
    const res = await srv.request('POST', '/api/session', { token: null, body: { token: srv.adminToken } });
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    assert.match(cookie, /^oauth_token=/);
  });
  const heartbeat = (headers: Record<string, string>, rawBody?: string) => srv.request('POST', '/api/workspaces/target/activity', { token: null, rawBody, headers: { cookie, ...headers } });

  test('cookie, JSON, and this server\'s Origin: accepted', async () => {
    assert.equal((await heartbeat({ origin: srv.url, 'content-type': 'application/json' }, '{}')).status, 200);
  });

  test('cookie without Origin: 403 csrf_rejected naming origin', async () => {
    const res = await heartbeat({ 'content-type': 'application/json' }, '{}');
    assert.equal(res.status, 403);
    assert.equal(res.body.error.type, 'csrf_rejected');
    assert.deepEqual(res.body.error.errors.map((e: { field: string }) => e.field), ['origin']);
  });

  test('cookie with another origin (another port, null, another host): 403', async () => {
    const port = Number(new URL(srv.url).port);
    for (const origin of [`http://127.0.0.1:${port + 1}`, 'null', 'http://localhost:' + port, 'https://127.0.0.1:' + port]) {
      const res = await heartbeat({ origin, 'content-type': 'application/json' }, '{}');
      assert.equal(res.status, 403, origin);
      assert.equal(res.body.error.type, 'csrf_rejected', origin);
    }
  });

  test('cookie with this Origin but a text/plain body: 403 naming content-type', async () => {
    const res = await heartbeat({ origin: srv.url, 'content-type': 'text/plain' }, '{}');
    assert.equal(res.status, 403);
    assert.deepEqual(res.body.error.errors.map((e: { field: string }) => e.field), ['content-type']);
  });

  test('a DELETE without a body needs only the Origin', async () => {
    const created = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'gone', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201);
    const refused = await srv.request('DELETE', '/api/workspaces/gone', { token: null, headers: { cookie } });
    assert.equal(refused.status, 403);
    const done = await srv.request('DELETE', '/api/workspaces/gone', { token: null, headers: { cookie, origin: srv.url } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
  });

  test('a malformed cookie is still the cookie: it needs the Origin, and does not stop a new sign-in', async () => {
    const broken = { cookie: 'oauth_token=%E0%A4%A', 'content-type': 'application/json' };
    const foreign = await srv.request('POST', '/api/session', { token: null, rawBody: JSON.stringify({ token: srv.adminToken }), headers: broken });
    assert.equal(foreign.status, 403);
    const signIn = await srv.request('POST', '/api/session', { token: null, rawBody: JSON.stringify({ token: srv.adminToken }), headers: { ...broken, origin: srv.url } });
    assert.equal(signIn.status, 200);
    assert.match(signIn.headers.get('set-cookie') ?? '', /^oauth_token=admin-/);
  });

  test('reads with the cookie need nothing more', async () => {
    assert.equal((await srv.request('GET', '/api/workspaces', { token: null, headers: { cookie } })).status, 200);
  });

  test('a token in a header is not affected: scripts send no Origin and any content type', async () => {
    const res = await srv.request('POST', '/api/workspaces/target/activity', { rawBody: 'ping', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 200);
    const bearer = await srv.request('POST', '/api/workspaces/target/activity', { token: null, headers: { authorization: `Bearer ${srv.adminToken}`, cookie } });
    assert.equal(bearer.status, 200);
  });
});
