// The console in a real headless Chromium against a real wsm server on the local runtime.
// Screenshots of the list and the detail view go to test-artifacts/ for a person to look at.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = `${ROOT}test-artifacts`;
const WAIT = { timeout: 20_000 };

let srv: TestServer;
let browser: Browser;

before(async () => {
  // Always rebuild, so the test never runs against a stale bundle.
  execFileSync(process.execPath, ['scripts/build-console.mjs'], { cwd: ROOT, stdio: 'pipe' });
  mkdirSync(ARTIFACTS, { recursive: true });
  srv = await startTestServer();
  for (const name of ['alpha', 'beta']) {
    const res = await srv.request('POST', '/api/workspaces', {
      body: { workspace: { name, container_config: localContainerConfig('env:\n  - name: TEAM\n    value: data\n'), lifecycle_config: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 3600 } } } },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

async function signIn(token: string, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${srv.url}/apps/workspaces`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('table.workspaces tbody tr').first().waitFor(WAIT);
  return { context, page };
}

const row = (page: Page, name: string) => page.locator(`tr[data-name="${name}"]`);
const statusIn = (page: Page, name: string, status: string) => row(page, name).locator(`[data-status="${status}"]`);

describe('the console', () => {
  let admin: { context: BrowserContext; page: Page };

  test('the page is served by wsm, small, and without external resources', async () => {
    const res = await fetch(`${srv.url}/apps/workspaces`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.doesNotMatch(html, /https?:\/\//);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const js = await fetch(`${srv.url}/apps/workspaces/assets/console.js`);
    assert.equal(js.status, 200);
    assert.ok((await js.arrayBuffer()).byteLength < 200 * 1024);
  });

  test('a bad token is refused with the API message; a good one shows the list', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${srv.url}/apps/workspaces`);
    await page.getByLabel('API token').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The token is not valid.').waitFor(WAIT);
    await context.close();

    admin = await signIn(srv.adminToken);
    const { page: p, context: c } = admin;
    await statusIn(p, 'alpha', 'RUNNING').waitFor(WAIT);
    await statusIn(p, 'beta', 'RUNNING').waitFor(WAIT);
    const cells = await row(p, 'alpha').locator('td').allInnerTexts();
    assert.equal(cells[1], 'local');
    assert.equal(cells[2], 'default');
    assert.match(cells[3]!, /^127\.0\.0\.1:\d+$/);
    assert.match(cells[5]!, /^in (59|60) min$/);
    assert.match(await row(p, 'alpha').locator('a[target=_blank]').getAttribute('href') ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    const cookie = (await c.cookies()).find((k) => k.name === 'oauth_token');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.equal(await p.evaluate(() => document.cookie), '');
    await p.screenshot({ path: `${ARTIFACTS}/console-list.png`, fullPage: true });
  });

  test('filter by text and status, sort by name', async () => {
    const { page } = admin;
    await page.getByLabel('Filter').fill('bet');
    assert.deepEqual(await page.locator('table.workspaces tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name)), ['beta']);
    await page.getByLabel('Filter').fill('');
    await page.getByLabel('Status').selectOption('STOPPED');
    await page.getByText('No workspace matches the filter.').waitFor(WAIT);
    await page.getByLabel('Status').selectOption('');
    assert.deepEqual(await page.locator('table.workspaces tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name)), ['alpha', 'beta']);
  });

  test('stop and resume: the status changes without a reload, also when someone else acts', async () => {
    const { page } = admin;
    await page.evaluate(() => ((window as any).__noReload = true));
    await page.getByRole('button', { name: 'Stop alpha' }).click();
    await statusIn(page, 'alpha', 'STOPPED').waitFor(WAIT);
    await page.getByText('Stop alpha: done.').waitFor(WAIT);
    await page.getByRole('button', { name: 'Resume alpha' }).click();
    await statusIn(page, 'alpha', 'RUNNING').waitFor(WAIT);
    // A change made through the API, not the page, arrives over the event stream.
    const res = await srv.request('PUT', '/api/workspaces/beta', { body: { workspace: { action: 'stop' } } });
    assert.equal(res.status, 200);
    await statusIn(page, 'beta', 'STOPPED').waitFor(WAIT);
    assert.equal(await page.evaluate(() => (window as any).__noReload), true);
    assert.equal(await page.locator('.live').textContent(), 'live');
  });

  test('an action the API refuses shows the API\'s message', async () => {
    const created = await srv.request('POST', '/api/tokens', { body: { role: 'editor', name: 'short-lived' } });
    assert.equal(created.status, 201);
    const editor = await signIn(created.body.token.secret);
    const { page } = editor;
    await page.getByRole('button', { name: 'Stop alpha' }).waitFor(WAIT);
    assert.equal((await srv.request('DELETE', `/api/tokens/${created.body.token.id}`)).status, 200);
    await page.getByRole('button', { name: 'Stop alpha' }).click();
    await page.locator('.notice.bad', { hasText: 'Stopping alpha failed: The token has been revoked.' }).waitFor(WAIT);
    assert.equal((await srv.request('GET', '/api/workspaces/alpha')).body.workspace.desired_state, 'running');
    await editor.context.close();
  });

  test('detail view: a validation error is shown at its line in the YAML editor', async () => {
    const { page } = admin;
    await page.goto(`${srv.url}/apps/workspaces#/w/alpha`);
    const editor = page.getByLabel('container_config (YAML)');
    await editor.waitFor(WAIT);
    assert.match(await editor.inputValue(), /name: TEAM/);
    await page.getByRole('heading', { name: 'Recent operations' }).waitFor(WAIT);
    await page.locator('table.ops tbody tr').first().waitFor(WAIT);
    await page.getByText('Stops when idle').waitFor(WAIT);
    await editor.fill('env:\n  - name: A\n    value: b\nimagePullPolicy: Always\n');
    await page.getByRole('button', { name: 'Save container_config' }).click();
    const marked = page.locator('.gutter .ln.err');
    await marked.first().waitFor(WAIT);
    assert.deepEqual(await marked.allInnerTexts(), ['4']);
    assert.match((await page.locator('.editor-errors li').allInnerTexts()).join('\n'), /^Line 4: container_config\.imagePullPolicy: is not a container_config key/);
    await page.getByRole('button', { name: 'Line 4' }).click();
    assert.equal(await editor.evaluate((t: HTMLTextAreaElement) => t.value.slice(t.selectionStart, t.selectionEnd)), 'imagePullPolicy: Always');
    await page.screenshot({ path: `${ARTIFACTS}/console-detail.png`, fullPage: true });

    // A good patch goes through and the operations list shows it.
    await editor.fill('env:\n  - name: A\n    value: b\n');
    await page.getByRole('button', { name: 'Save container_config' }).click();
    await page.getByText('Patch alpha: done.').waitFor(WAIT);
    assert.equal(await marked.count(), 0);
    await page.locator('table.ops tbody tr', { hasText: 'patch' }).first().waitFor(WAIT);
    await page.getByRole('button', { name: 'Sync cluster env' }).click();
    await page.locator('table.ops tbody tr', { hasText: 'patch' }).nth(1).waitFor(WAIT);
  });

  test('the create form checks the name and shows the server\'s errors at their line', async () => {
    const { page } = admin;
    await page.goto(`${srv.url}/apps/workspaces#/`);
    await page.getByRole('link', { name: 'Create workspace' }).click();
    await page.getByLabel('Name').fill('Bad_Name');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText(/may contain only lower-case letters/).waitFor(WAIT);
    await page.getByLabel('Name').fill('gamma');
    await page.getByLabel('container_config (YAML)').fill(`${localContainerConfig()}resources:\n  limits:\n    cpu: lots\n`);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('.gutter .ln.err').first().waitFor(WAIT);
    assert.deepEqual(await page.locator('.gutter .ln.err').allInnerTexts(), ['4']);
    await page.getByLabel('container_config (YAML)').fill(localContainerConfig());
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'gamma' }).waitFor(WAIT);
    assert.equal((await srv.request('GET', '/api/workspaces/gamma')).status, 200);
  });

  test('delete asks first, naming the workspace; Escape cancels; confirming deletes', async () => {
    const { page } = admin;
    await page.goto(`${srv.url}/apps/workspaces#/`);
    await page.getByRole('button', { name: 'Delete beta' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete workspace beta?' });
    await dialog.waitFor(WAIT);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', ...WAIT });
    assert.equal((await srv.request('GET', '/api/workspaces/beta')).status, 200);

    await page.getByRole('button', { name: 'Delete beta' }).click();
    await dialog.getByLabel('Delete the volume too').check();
    await dialog.getByRole('button', { name: 'Delete beta' }).click();
    await row(page, 'beta').waitFor({ state: 'detached', ...WAIT });
    assert.equal((await srv.request('GET', '/api/workspaces/beta')).status, 404);
    await page.getByText('Delete beta: done.').waitFor(WAIT);
  });

  test('a viewer sees the list but no action buttons and no create', async () => {
    const viewer = await signIn(await srv.token('viewer'));
    const { page } = viewer;
    await statusIn(page, 'alpha', 'RUNNING').waitFor(WAIT);
    assert.equal(await page.locator('button[data-action]').count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Create workspace' }).count(), 0);
    await page.getByRole('link', { name: 'alpha', exact: true }).click();
    await page.getByLabel('container_config (YAML)').waitFor(WAIT);
    assert.equal(await page.locator('button[data-action]').count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Save/ }).count(), 0);
    assert.equal(await page.getByLabel('container_config (YAML)').getAttribute('readonly'), '');
    await viewer.context.close();
  });

  test('an editor acts but may not delete or create', async () => {
    const editor = await signIn(await srv.token('editor'));
    const { page } = editor;
    await page.getByRole('button', { name: 'Stop alpha' }).waitFor(WAIT);
    assert.equal(await page.getByRole('button', { name: 'Delete alpha' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Create workspace' }).count(), 0);
    await editor.context.close();
  });

  test('on a narrow screen the list stacks; sign-out clears the cookie', async () => {
    const narrow = await signIn(srv.adminToken, { width: 390, height: 800 });
    const { page, context } = narrow;
    await statusIn(page, 'alpha', 'RUNNING').waitFor(WAIT);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `page is ${width}px wide on a 390px screen`);
    await page.screenshot({ path: `${ARTIFACTS}/console-list-narrow.png`, fullPage: true });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor(WAIT);
    assert.equal((await context.cookies()).find((k) => k.name === 'oauth_token'), undefined);
    await page.reload();
    await page.getByLabel('API token').waitFor(WAIT);
    await context.close();
    await admin.context.close();
  });
});
