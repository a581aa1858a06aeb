// "Preview changes" in the console's edit form, in a real headless Chromium against a real wsm server:
// the plan of the edited container_config is shown, nothing is saved, and a refusal lands at its line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { eventually, localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WAIT = { timeout: 20_000 };
let srv: TestServer;
let browser: Browser;

before(async () => {
  execFileSync(process.execPath, ['scripts/build-console.mjs'], { cwd: ROOT, stdio: 'pipe' });
  srv = await startTestServer();
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'preview', container_config: localContainerConfig('env:\n  - name: TEAM\n    value: data\n') } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await eventually(async () => (await srv.request('GET', '/api/workspaces/preview')).body.workspace.instance.status === 'RUNNING');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

test('Preview changes shows the plan per field and saves nothing; a refused edit is marked at its line', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${srv.url}/apps/workspaces`);
  await page.getByLabel('API token').fill(srv.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('table.workspaces tbody tr').first().waitFor(WAIT);
  await page.goto(`${srv.url}/apps/workspaces#/w/preview`);
  const editor = page.getByLabel('container_config (YAML)');
  await editor.waitFor(WAIT);
  const before = (await srv.request('GET', '/api/workspaces/preview')).body.workspace;

  await editor.fill('env:\n  - name: TEAM\n    value: platform\n');
  await page.getByRole('button', { name: 'Preview changes' }).click();
  const row = page.locator('table.plan-changes tr[data-field="container_config.env"]');
  await row.waitFor(WAIT);
  assert.deepEqual(await row.locator('td').allInnerTexts(), ['container_config.env', 'restart', 'restarts the process']);
  assert.match(await page.locator('.plan .notice').innerText(), /the workspace is interrupted: this restarts the process/);
  assert.match(await page.locator('.plan-panel').innerText(), /Nothing has been changed yet/);
  mkdirSync(`${ROOT}test-artifacts`, { recursive: true });
  await page.screenshot({ path: `${ROOT}test-artifacts/console-change-preview.png`, fullPage: true });

  const after = (await srv.request('GET', '/api/workspaces/preview')).body.workspace;
  assert.deepEqual([after.resource_version, after.container_config], [before.resource_version, before.container_config], 'the preview saved nothing');
  assert.equal((await srv.request('GET', '/api/workspaces/preview/operations')).body.operations.length, 1, 'only the create');

  await editor.fill('env:\n  - name: TEAM\n    value: platform\nimagePullPolicy: Always\n');
  await page.getByRole('button', { name: 'Preview changes' }).click();
  await page.locator('.editor .ln.err[data-line="4"]').waitFor(WAIT);
  assert.equal(await page.locator('table.plan-changes').count(), 0, 'no plan for a refused edit');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  await context.close();
});
