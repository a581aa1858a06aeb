// A workspace whose process exits on its own is FAILED with its exit code — not RUNNING, and not
// restarted behind the user's back — until someone asks for it again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv?.close();
});

test('an exit on its own is FAILED with the exit code, and resume starts it again', async () => {
  const created = await srv.request('POST', '/api/workspaces', {
    body: { workspace: { name: 'quitter', container_config: 'command: ["sh", "-c", "sleep 0.5; echo bye; exit 3"]' } },
  });
  assert.equal(created.status, 201);
  const failed = await eventually(async () => {
    const r = await srv.request('GET', '/api/workspaces/quitter');
    return r.body.workspace.instance.status === 'FAILED' && r.body.workspace;
  }, 20_000, 'FAILED');
  assert.equal(failed.exit_code, 3);
  assert.equal(failed.success, false);
  assert.match(failed.status_message, /exited with code 3/);
  const ready = failed.conditions.find((c: { type: string }) => c.type === 'Ready');
  assert.equal(ready.status, 'False');
  // A whole reconcile of it (resync looks at every workspace) leaves it FAILED: nothing restarts it.
  await srv.server.controller.resync();
  await srv.server.controller.drained();
  const later = await srv.request('GET', '/api/workspaces/quitter');
  assert.equal(later.body.workspace.instance.status, 'FAILED');
  assert.equal(later.body.workspace.observed_generation, failed.observed_generation);
  const log = join(srv.dataDir, 'workspaces', 'quitter', 'output.log');
  assert.equal(((await readFile(log, 'utf8')).match(/^bye$/gm) ?? []).length, 1, 'it ran once');
  const resumed = await srv.request('PUT', '/api/workspaces/quitter', { body: { workspace: { action: 'resume' } } });
  assert.equal(resumed.status, 200);
  assert.equal(resumed.body.operation.action, 'resume');
  // The process ran a second time: its output shows two goodbyes.
  await eventually(async () => ((await readFile(log, 'utf8')).match(/^bye$/gm) ?? []).length === 2, 10_000, 'a second run');
});
