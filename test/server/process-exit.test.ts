// A workspace whose process exits on its own is started again under the default restart policy
// (always), with the exit shown; under `never` it is FAILED with its exit code until someone asks
// for it again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ env: { WSM_RESTART_BACKOFF_INITIAL_SECONDS: '1', WSM_RESTART_BACKOFF_MAX_SECONDS: '2' } });
});
after(async () => {
  await srv?.close();
});

const goodbyes = async (name: string) => ((await readFile(join(srv.dataDir, 'workspaces', name, 'output.log'), 'utf8')).match(/^bye$/gm) ?? []).length;

test('an exit on its own, restart_policy always (the default): run again, counted, the exit shown', async () => {
  const created = await srv.request('POST', '/api/workspaces', {
    body: { workspace: { name: 'comeback', container_config: 'command: ["sh", "-c", "sleep 0.5; echo bye; exit 3"]' } },
  });
  assert.equal(created.status, 201);
  const restarted = await eventually(async () => {
    const ws = (await srv.request('GET', '/api/workspaces/comeback')).body.workspace;
    return ws.restart_count >= 2 && ws;
  }, 30_000, 'two restarts');
  assert.equal(restarted.restart_policy, 'always');
  assert.equal(restarted.last_termination.exit_code, 3);
  assert.equal(restarted.last_termination.reason, 'Exited');
  assert.match(restarted.last_termination.log_tail, /bye/);
  assert.ok((await goodbyes('comeback')) >= 2, 'the process ran again');
});

test('an exit on its own, restart_policy never: FAILED with the exit code, and resume starts it again', async () => {
  const created = await srv.request('POST', '/api/workspaces', {
    body: { workspace: { name: 'quitter', container_config: 'restart_policy: never\ncommand: ["sh", "-c", "sleep 0.5; echo bye; exit 3"]' } },
  });
  assert.equal(created.status, 201);
  const failed = await eventually(async () => {
    const r = await srv.request('GET', '/api/workspaces/quitter');
    return r.body.workspace.instance.status === 'FAILED' && r.body.workspace;
  }, 20_000, 'FAILED');
  assert.equal(failed.exit_code, 3);
  assert.equal(failed.success, false);
  assert.match(failed.status_message, /exited with code 3; not restarted \(restart_policy never\)/);
  const ready = failed.conditions.filter((c: { type: string }) => c.type === 'Ready');
  assert.deepEqual(ready.map((c: any) => [c.status, c.reason]), [['False', 'Exited']]);
  // Still FAILED after a resync: nothing restarted it.
  await srv.server.controller.resync();
  await srv.server.controller.drained();
  const later = await srv.request('GET', '/api/workspaces/quitter');
  assert.equal(later.body.workspace.instance.status, 'FAILED');
  assert.equal(later.body.workspace.observed_generation, failed.observed_generation);
  assert.equal(later.body.workspace.restart_count, 0);
  assert.equal(await goodbyes('quitter'), 1, 'it ran once');
  const resumed = await srv.request('PUT', '/api/workspaces/quitter', { body: { workspace: { action: 'resume' } } });
  assert.equal(resumed.status, 200);
  assert.equal(resumed.body.operation.action, 'resume');
  // The process ran a second time: its output shows two goodbyes.
  await eventually(async () => (await goodbyes('quitter')) === 2, 10_000, 'a second run');
});
