// The start deadline (container_config.start_timeout_seconds) on the local runtime, through the HTTP
// API: a workspace whose process never listens, with post-start waiting for its port, is not ready;
// at the deadline its create operation fails with the reason, and the restart policy decides.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, startTestServer, type TestServer } from '../support/server.js';
import { condition, localHome, waitForWs } from './helpers.js';

let srv: TestServer;

before(async () => {
  // Post-start would wait 60 s for the port: the 2 s deadline comes first.
  srv = await startTestServer({ env: { WSM_POST_START_TIMEOUT_SECONDS: '60' } });
});
after(async () => {
  await srv?.close();
});

const neverListens = (policy: string) => `command: ["sh", "-c", "sleep 3600"]\nstart_timeout_seconds: 2\nrestart_policy: ${policy}\n`;
const waitsForPort = { post_start: { command: ['true'], wait_for_port: true } };

async function create(name: string, containerConfig: string): Promise<void> {
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: containerConfig, lifecycle_config: waitsForPort } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

async function createOperation(name: string): Promise<any> {
  const res = await srv.request('GET', `/api/workspaces/${name}/operations`);
  assert.equal(res.status, 200);
  return res.body.operations.find((o: any) => o.action === 'create');
}

describe('start_timeout_seconds', () => {
  test('never: the create fails with NotListening at the deadline, the process is ended, the workspace FAILED', async () => {
    await create('deadline-never', neverListens('never'));
    const ws = await waitForWs(srv, 'deadline-never', (w) => w.instance.status === 'FAILED', 'FAILED at the deadline', 30_000);
    const op = await createOperation('deadline-never');
    assert.equal(op.state, 'failed');
    assert.match(op.error, /^NotListening: not ready within start_timeout_seconds \(2 s\)/);
    assert.equal(op.details.reason, 'NotListening');
    assert.equal(op.details.waiting_for, undefined);
    assert.equal(ws.last_termination.reason, 'NotListening');
    assert.equal(ws.restart_count, 0);
    assert.equal(condition(ws, 'Ready').reason, 'NotListening');
    assert.match(condition(ws, 'Ready').message, /not restarted \(restart_policy never\)/);
    assert.equal(ws.desired_state, 'running');
    const state = JSON.parse(readFileSync(join(localHome(srv, 'deadline-never'), '..', 'state.json'), 'utf8'));
    assert.equal(state.status, 'stopped', 'the process was ended');
    const gone = () => {
      try {
        process.kill(-state.pgid, 0);
        return undefined;
      } catch {
        return true;
      }
    };
    await eventually(async () => gone(), 10_000, 'no process of the group left');
  });

  test('always: the create fails the same way, and the run counts as a failed one: restarted, counted', async () => {
    await create('deadline-always', neverListens('always'));
    const ws = await waitForWs(srv, 'deadline-always', (w) => w.restart_count >= 1 && w.instance.status === 'RUNNING', 'restarted after the deadline', 30_000);
    const op = await createOperation('deadline-always');
    assert.equal(op.state, 'failed');
    assert.equal(op.details.reason, 'NotListening');
    assert.equal(ws.last_termination.reason, 'NotListening');
  });

  test('a bad value is a 400 naming the field, and nothing is created', async () => {
    const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'deadline-bad', container_config: 'command: [sleep, "1"]\nstart_timeout_seconds: 0\n' } } });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.ok(res.body.error.errors.some((e: any) => e.field.includes('start_timeout_seconds') && /1 to 86400/.test(e.message)), JSON.stringify(res.body));
    assert.equal((await srv.request('GET', '/api/workspaces/deadline-bad')).status, 404);
  });
});
