// The console's rough edges a new user met, each checked in a real Chromium against a real wsm server
// on the local runtime: the icon, Retry on a FAILED workspace, long names and messages on a phone, no
// focus frame around the page after sign-in, errors said once, the env inherited from the cluster
// settings, and a workspace made again under a deleted one's name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { eventually, localContainerConfig, startTestServer, type TestServer } from '../support/server.js';
import { writeHook } from '../lifecycle/helpers.js';
import { PHONE, WAIT, assertNoProblems, buildConsole, launchChromium, signIn, watchedPage } from './browser.js';

let srv: TestServer;
let browser: Browser;
const scratch = mkdtempSync(join(tmpdir(), 'wsm-console-polish-'));
// Run as root, wsm starts a local workspace (and its pre-start script) as a user of its own, which must see in here.
chmodSync(scratch, 0o755);
// The longest name wsm takes: 55 characters, no place to break.
const LONG_NAME = 'x'.repeat(20) + '-retry-me-' + 'y'.repeat(25);
const LONG_REASON = 'the warehouse connection string points at a host that does not answer: connection refused after 3 attempts (see https://wiki.example.invalid/runbooks/warehouse-connection-refused-after-attempts)';

before(async () => {
  buildConsole();
  srv = await startTestServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await srv?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function create(name: string, extra: Record<string, unknown> = {}, env = '') {
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: localContainerConfig(env), ...extra } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

const workspaceStatus = async (name: string) => (await srv.request('GET', `/api/workspaces/${name}`)).body.workspace?.instance.status;

async function openDetail(page: Page, name: string): Promise<void> {
  await page.goto(`${srv.url}/apps/workspaces#/w/${name}`);
  await page.getByLabel('container_config (YAML)').waitFor(WAIT);
}

describe('the console', () => {
  test('the page has an icon: nothing on a page load answers 404', async () => {
    const w = await watchedPage(browser);
    try {
      await w.page.goto(`${srv.url}/apps/workspaces`);
      await w.page.getByLabel('API token').waitFor(WAIT);
      const href = await w.page.evaluate(() => document.querySelector('link[rel="icon"]')?.getAttribute('href'));
      assert.ok(href, 'the page declares an icon');
      const icon = await fetch(new URL(href, srv.url));
      assert.equal(icon.status, 200);
      assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
      assert.match(await icon.text(), /^<svg /);
      // A browser asks for /favicon.ico on pages that declare none (an API answer opened in a tab).
      const ico = await fetch(`${srv.url}/favicon.ico`);
      assert.equal(ico.status, 200);
      assert.equal(ico.headers.get('content-type'), 'image/svg+xml');
      assertNoProblems(w.problems, 'loading the sign-in page');
    } finally {
      await w.close();
    }
  });

  test('after signing in with the keyboard, no focus frame is drawn around the page', async () => {
    const w = await watchedPage(browser);
    try {
      await signIn(w.page, srv.url, srv.adminToken);
      const focused = await w.page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        return { tag: el.tagName, outline: getComputedStyle(el).outlineStyle };
      });
      assert.deepEqual(focused, { tag: 'MAIN', outline: 'none' });
      // Controls keep their frame: the filter, reached with Tab, is outlined.
      await w.page.getByLabel('Filter').focus();
      await w.page.keyboard.press('Shift+Tab');
      await w.page.keyboard.press('Tab');
      assert.notEqual(await w.page.getByLabel('Filter').evaluate((el) => getComputedStyle(el).outlineStyle), 'none');
      assertNoProblems(w.problems, 'signing in');
    } finally {
      await w.close();
    }
  });

  test('a FAILED workspace offers Retry, which starts it again once what failed is fixed', async () => {
    const fixed = join(scratch, 'fixed');
    await writeHook(srv, 'pre/flaky.sh', `#!/bin/sh\n[ -f ${JSON.stringify(fixed)} ] && exit 0\necho ${JSON.stringify(LONG_REASON)} >&2\nexit 3\n`);
    await create(LONG_NAME, { lifecycle_config: { pre_start_script_path: 'pre/flaky.sh' } });
    await eventually(async () => (await workspaceStatus(LONG_NAME)) === 'FAILED', 20_000, `${LONG_NAME} FAILED`);

    const w = await watchedPage(browser);
    try {
      await signIn(w.page, srv.url, srv.adminToken);
      const row = w.page.locator(`tr[data-name="${LONG_NAME}"]`);
      await row.locator('[data-status="FAILED"]').waitFor(WAIT);
      assert.deepEqual(await row.locator('button[data-action]').allInnerTexts(), ['Retry', 'Stop', 'Delete']);
      writeFileSync(fixed, '');
      await w.page.getByRole('button', { name: `Retry ${LONG_NAME}` }).click();
      await row.locator('[data-status="RUNNING"]').waitFor(WAIT);
      assert.deepEqual(await row.locator('button[data-action]').allInnerTexts(), ['Stop', 'Delete']);
    } finally {
      await w.close();
      await srv.request('DELETE', `/api/workspaces/${LONG_NAME}`);
    }
  });

  test('on a phone, the longest name and a long status message wrap inside the screen', async () => {
    const name = 'z'.repeat(55);
    await writeHook(srv, 'pre/fails.sh', `#!/bin/sh\necho ${JSON.stringify(LONG_REASON.replaceAll(' ', '_'))} >&2\nexit 3\n`);
    await create(name, { lifecycle_config: { pre_start_script_path: 'pre/fails.sh' } });
    await eventually(async () => (await workspaceStatus(name)) === 'FAILED', 20_000, `${name} FAILED`);
    const w = await watchedPage(browser, PHONE);
    const fits = async (what: string) => {
      const { scrollWidth, wide } = await w.page.evaluate((limit) => ({
        scrollWidth: document.documentElement.scrollWidth,
        // Any element whose right edge is past the screen (text clipped by an overflow: hidden parent included).
        wide: Array.from(document.querySelectorAll('body *')).filter((el) => el.getBoundingClientRect().right > limit + 0.5).map((el) => `${el.tagName}.${el.className}`).slice(0, 5),
      }), PHONE.width);
      assert.deepEqual({ scrollWidth: Math.min(scrollWidth, PHONE.width), wide }, { scrollWidth: PHONE.width, wide: [] }, `${what}: page ${scrollWidth}px wide`);
    };
    try {
      await signIn(w.page, srv.url, srv.adminToken);
      await w.page.locator(`tr[data-name="${name}"] [data-status="FAILED"]`).waitFor(WAIT);
      await fits('the list');
      await openDetail(w.page, name);
      await w.page.getByRole('heading', { name }).waitFor(WAIT);
      await w.page.locator('table.conditions').waitFor(WAIT);
      await fits('the detail view');
    } finally {
      await w.close();
      await srv.request('DELETE', `/api/workspaces/${name}`);
    }
  });

  test('a refused change says each error once', async () => {
    await create('errs');
    const w = await watchedPage(browser);
    try {
      await signIn(w.page, srv.url, srv.adminToken);
      await openDetail(w.page, 'errs');
      await w.page.getByLabel('container_config (YAML)').fill('env:\n  - name: A\n    value: b\nimagePullPolicy: Always\n');
      await w.page.getByRole('button', { name: 'Save container_config' }).click();
      const item = w.page.locator('.editor-errors li');
      await item.first().waitFor(WAIT);
      const text = await item.first().innerText();
      assert.match(text, /^Line 4: container_config\.imagePullPolicy: is not a container_config key; the allowed keys are /);
      assert.equal(text.match(/line 4/gi)?.length, 1, text);

      await w.page.getByLabel('Pre-start script').fill('../outside.sh');
      await w.page.getByRole('button', { name: 'Save lifecycle' }).click();
      const box = w.page.locator('form:has(fieldset.lifecycle) .form-errors');
      await box.waitFor(WAIT);
      const said = await box.innerText();
      assert.match(said, /^lifecycle_config\.pre_start_script_path: /);
      assert.equal(said.match(/pre_start_script_path/g)?.length, 1, said);
    } finally {
      await w.close();
    }
  });

  test('the env inherited from the cluster settings is shown as such, and which of it the workspace replaces', async () => {
    const settings = await srv.request('PUT', '/api/cluster_settings', { body: { cluster_settings: { env: [{ name: 'DEV_ENV_REGION', value: 'eu-west' }, { name: 'DEV_ENV_TEAM', value: 'core' }, { name: 'OTHER', value: 'x' }], inherit_patterns: ['DEV_ENV_*'] } } });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    await create('heir', {}, 'env:\n  - name: DEV_ENV_TEAM\n    value: mine\n');
    const ws = (await srv.request('GET', '/api/workspaces/heir')).body.workspace;
    assert.deepEqual(ws.inherited_env, [{ name: 'DEV_ENV_REGION', overridden: false }, { name: 'DEV_ENV_TEAM', overridden: true }]);
    assert.doesNotMatch(ws.container_config, /DEV_ENV_REGION/);

    const w = await watchedPage(browser);
    try {
      await signIn(w.page, srv.url, srv.adminToken);
      await openDetail(w.page, 'heir');
      const inherited = w.page.getByRole('region', { name: 'Inherited from the cluster settings' });
      await inherited.waitFor(WAIT);
      assert.deepEqual(await inherited.locator('li').allInnerTexts(), ['DEV_ENV_REGION\nfrom cluster settings', 'DEV_ENV_TEAM\nreplaced by env above']);
    } finally {
      await w.close();
      await srv.request('PUT', '/api/cluster_settings', { body: { cluster_settings: { env: [], inherit_patterns: [] } } });
    }
  });

  test('a workspace made again under a deleted one\'s name shows only its own operations', async () => {
    await create('again');
    assert.equal((await srv.request('PUT', '/api/workspaces/again', { body: { workspace: { action: 'stop' } } })).status, 200);
    assert.equal((await srv.request('DELETE', '/api/workspaces/again')).status, 200);
    await eventually(async () => (await srv.request('GET', '/api/workspaces/again')).status === 404, 20_000, 'the first "again" deleted');
    const second = await create('again');

    const w = await watchedPage(browser);
    try {
      await signIn(w.page, srv.url, srv.adminToken);
      await openDetail(w.page, 'again');
      await w.page.locator(`table.ops tbody tr[data-op="${second.operation.id}"]`).waitFor(WAIT);
      assert.deepEqual(await w.page.locator('table.ops tbody tr td[data-label="Action"]').allInnerTexts(), ['create']);
    } finally {
      await w.close();
    }
  });
});
