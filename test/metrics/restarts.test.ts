// Restarts and crash loops as a scrape shows them: a local process that exits at once is started again
// by wsm, then backed off; the counter over this server's only workspace equals its restart_count.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sumOf } from '../support/prom-text.js';
import { eventually, startTestServer, type TestServer } from '../support/server.js';
import { METRICS_TOKEN, scrape } from './helpers.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({
    env: { WSM_METRICS_TOKEN: METRICS_TOKEN, WSM_RESTART_BACKOFF_INITIAL_SECONDS: '1', WSM_RESTART_BACKOFF_MAX_SECONDS: '2' },
  });
});
after(async () => {
  await srv?.close();
});

const restartCount = async () => (await srv.request('GET', '/api/workspaces/crasher')).body.workspace.restart_count as number;

test('wsm_workspace_restarts_total counts what restart_count shows, by how it ended; a crash loop counts its back-offs', async () => {
  const empty = await scrape(srv.url);
  assert.equal(sumOf(empty, 'wsm_workspace_restarts_total', {}), 0);
  const created = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'crasher', container_config: 'command: ["sh", "-c", "exit 1"]' } } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await eventually(async () => (await restartCount()) >= 3, 30_000, 'three restarts');

  const [low, scraped, high] = [await restartCount(), await scrape(srv.url), await restartCount()];
  const counted = sumOf(scraped, 'wsm_workspace_restarts_total', { cluster_type: 'local' });
  assert.ok(counted >= low && counted <= high, `counted ${counted}, restart_count went ${low} -> ${high}`);
  assert.equal(sumOf(scraped, 'wsm_workspace_restarts_total', { cluster_type: 'local', reason: 'Exited' }), counted, 'every end was an exit');
  assert.ok(sumOf(scraped, 'wsm_workspace_crash_loop_backoffs_total', { cluster_type: 'local' }) >= 1, 'the loop backed off');

  assert.equal((await srv.request('PUT', '/api/workspaces/crasher', { body: { workspace: { action: 'stop' } } })).status, 200);
});
