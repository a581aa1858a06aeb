// The console shows a workspace's schedule (its next start and stop) and whether it is dormant, and
// edits the schedule in the lifecycle form, with the server's error shown for a bad one. Real Chromium,
// real server; the server's clock is injected to make a workspace dormant without waiting days.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { eventually, localContainerConfig, startTestServer, type TestServer } from '../support/server.js';
import { WAIT, buildConsole, launchChromium, signIn, watchedPage } from './browser.js';

let srv: TestServer;
let browser: Browser;
let clock = Date.now();

before(async () => {
  buildConsole();
  srv = await startTestServer({ clock: () => clock });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

async function openDetail(page: Page, name: string): Promise<void> {
  await page.goto(`${srv.url}/apps/workspaces#/w/${name}`);
  await page.getByLabel('container_config (YAML)').waitFor(WAIT);
}

const fact = (page: Page, term: string) => page.locator(`dl.facts dt:text-is("${term}") + dd`);

describe('the console and the lifecycle', () => {
  test('the schedule is set in the lifecycle form and its next start and stop are shown; a bad one is refused at its field', async () => {
    const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'con-sch', container_config: localContainerConfig() } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const w = await watchedPage(browser);
    try {
      await signIn(w.page, srv.url, srv.adminToken);
      await openDetail(w.page, 'con-sch');
      assert.equal(await fact(w.page, 'Schedule').innerText(), 'none');
      await w.page.getByLabel('Start on schedule (cron)').fill('0 25 * * *');
      await w.page.getByLabel('Schedule time zone').fill('UTC');
      await w.page.getByRole('button', { name: 'Save lifecycle' }).click();
      const box = w.page.locator('form:has(fieldset.lifecycle) .form-errors');
      await box.waitFor(WAIT);
      assert.match(await box.innerText(), /^lifecycle_config\.schedule\.autostart: .*hour/);

      await w.page.getByLabel('Start on schedule (cron)').fill('30 7 * * *');
      await w.page.getByLabel('Stop on schedule (cron)').fill('45 18 * * *');
      await w.page.getByRole('button', { name: 'Save lifecycle' }).click();
      await eventually(async () => (await srv.request('GET', '/api/workspaces/con-sch')).body.workspace.lifecycle_config.schedule, 20_000, 'the schedule saved');
      const saved = (await srv.request('GET', '/api/workspaces/con-sch')).body.workspace;
      assert.deepEqual(saved.lifecycle_config.schedule, { autostart: '30 7 * * *', autostop: '45 18 * * *', timezone: 'UTC' });
      const shown = await eventually(async () => {
        const text = await fact(w.page, 'Schedule').innerText();
        return text.includes('starts') && text;
      }, 20_000, 'the schedule shown');
      assert.match(shown, /^starts .+, stops .+ · 30 7 \* \* \* \/ 45 18 \* \* \* UTC$/);
    } finally {
      await w.close();
    }
  });

  test('a dormant workspace says so in the list and on its page', async () => {
    assert.equal((await srv.request('PUT', '/api/cluster_settings', { body: { cluster_settings: { dormant_after_days: 1, delete_dormant_after_days: 2 } } })).status, 200);
    const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'con-old', container_config: localContainerConfig() } } });
    assert.equal(res.status, 201);
    assert.equal((await srv.request('PUT', '/api/workspaces/con-old', { body: { workspace: { action: 'stop' } } })).status, 200);
    await eventually(async () => (await srv.request('GET', '/api/workspaces/con-old')).body.workspace.instance.status === 'STOPPED', 20_000, 'stopped');
    clock = Date.now() + 2 * 86_400_000;
    const w = await watchedPage(browser);
    try {
      await signIn(w.page, srv.url, srv.adminToken);
      const row = w.page.locator('tr[data-name="con-old"]');
      await row.waitFor(WAIT);
      assert.match(await row.locator('td[data-label="Status"]').innerText(), /dormant/);
      assert.doesNotMatch(await w.page.locator('tr[data-name="con-sch"] td[data-label="Status"]').innerText(), /dormant/);
      await openDetail(w.page, 'con-old');
      assert.match(await fact(w.page, 'Dormant').innerText(), /^since .+; deleted .+ unless resumed$/);
    } finally {
      await w.close();
      clock = Date.now();
    }
  });
});
