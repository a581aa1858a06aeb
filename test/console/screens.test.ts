// Every page of the console at desktop and phone width, in a real Chromium against a real wsm server:
// a screenshot of each (kept in a temp dir for a person to look at), no console error and no failed
// request on the way, and no serious or critical accessibility violation that axe-core finds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';
import { writeHook } from '../lifecycle/helpers.js';
import { DESKTOP, PHONE, WAIT, buildConsole, launchChromium, seriousViolations, signIn, watchedPage } from './browser.js';

let srv: TestServer;
let browser: Browser;
const shots = mkdtempSync(join(tmpdir(), 'wsm-console-screens-'));
const LONG_NAME = 'a-workspace-with-a-name-as-long-as-wsm-allows-it-to-be1';

before(async () => {
  buildConsole();
  srv = await startTestServer();
  const settings = await srv.request('PUT', '/api/cluster_settings', { body: { cluster_settings: { env: [{ name: 'DEV_ENV_REGION', value: 'eu-west' }], inherit_patterns: [] } } });
  assert.equal(settings.status, 200, JSON.stringify(settings.body));
  await writeHook(srv, 'pre/fails.sh', '#!/bin/sh\necho "the warehouse connection string in DEV_ENV_REGION points at a host that does not answer: connection refused after 3 attempts"\nexit 3\n');
  const create = async (name: string, lifecycle_config?: Record<string, unknown>) => {
    const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: localContainerConfig('env:\n  - name: TEAM\n    value: data\n'), lifecycle_config } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  };
  await create('alpha', { termination_policy: { enable_auto_termination: true, max_idle_seconds: 3600 } });
  await create(LONG_NAME, { pre_start_script_path: 'pre/fails.sh' });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

const PAGES = [
  { page: 'list', hash: '#/', ready: 'table.workspaces tbody tr[data-name="alpha"] [data-status="RUNNING"]' },
  { page: 'detail', hash: '#/w/alpha', ready: 'table.ops tbody tr' },
  { page: 'failed-detail', hash: `#/w/${LONG_NAME}`, ready: '[data-status="FAILED"]' },
  { page: 'create', hash: '#/new', ready: 'form.create' },
];

for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
  describe(`the console at ${width} width`, () => {
    for (const { page: which, hash, ready } of PAGES) {
      test(`${which}: no console error, no failed request, no serious accessibility violation`, async (t) => {
        const w = await watchedPage(browser, viewport);
        try {
          await signIn(w.page, srv.url, srv.adminToken);
          await w.page.goto(`${srv.url}/apps/workspaces${hash}`);
          await w.page.locator(ready).first().waitFor(WAIT);
          const path = join(shots, `${which}-${width}.png`);
          await w.page.screenshot({ path, fullPage: true });
          t.diagnostic(`screenshot: ${path}`);
          const scrollWidth = await w.page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(scrollWidth <= viewport.width, `the page is ${scrollWidth}px wide in a ${viewport.width}px window`);
          assert.deepEqual({ problems: w.problems, violations: await seriousViolations(w.page) }, { problems: [], violations: [] });
        } finally {
          await w.close();
        }
      });
    }
  });
}
