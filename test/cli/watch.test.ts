// `wsm ws watch`, `wsm ws list -w`, `wsm ws get -w` and `wsm ws wait`, built, against a real `wsm serve`:
// changes made through the API show up as they happen, and wait returns when the status comes, or
// fails when the timeout does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteAllWorkspaces, freePort, runWsm, startServeProcess, startWsm, type Run, type RunOptions, type ServeProcess } from '../support/built-cli.js';
import { localContainerConfig, request } from '../support/server.js';

let srv: ServeProcess;
let owner: string;
let dir: string;

const env = () => ({ WSM_URL: srv.url, WSM_TOKEN: owner, WSM_ADMIN_TOKEN: undefined });
const opts = (): RunOptions => ({ env: env(), cwd: dir });
const wsm = (args: string[]): Promise<Run> => runWsm(args, opts());
const api = (method: string, path: string, body?: unknown) => request(srv.url, method, path, { defaultToken: owner, body });

/**
 * Starts `wsm ws wait` and resolves once it has read the workspace, which it does after its event
 * stream is open (the server logs each request): a change made from then on must come to it as an event.
 */
async function startWait(name: string, args: string[]) {
  const mark = srv.run.stdout().length;
  const waiting = startWsm(['ws', 'wait', name, ...args], opts());
  await srv.run.waitFor(new RegExp(`"method":"GET","url":"/api/workspaces/${name}"`), 20_000, mark);
  return waiting;
}

async function settled(name: string, action: string): Promise<void> {
  const run = await wsm(['ws', action, name, '--wait']);
  assert.equal(run.code, 0, run.stderr);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsm-cli-watch-'));
  srv = await startServeProcess(join(dir, 'data'));
  owner = srv.ownerToken();
});
after(async () => {
  if (srv) {
    await deleteAllWorkspaces(srv.url, owner).catch(() => {});
    await srv.stop();
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('wsm ws watch', () => {
  test('prints the list, then each change as a row, until interrupted', async () => {
    assert.equal((await api('POST', '/api/workspaces', { workspace: { name: 'before', container_config: localContainerConfig() } })).status, 201);
    const watch = startWsm(['ws', 'watch'], opts());
    try {
      await watch.waitFor(/^NAME\s+STATUS\s+RESTARTS\s+CLUSTER\s+IMAGE\s+URL\s+LAST ACTIVITY\s+STOPS\n/);
      await watch.waitFor(/^before\s+(PENDING|RUNNING)\s/m);
      const created = await runWsm(['ws', 'create', 'w1', '--container-config', '-', '--wait'], { ...opts(), input: localContainerConfig() });
      assert.equal(created.code, 0, created.stderr);
      await watch.waitFor(/^w1\s+RUNNING\s+0\s+local\s/m);
      await settled('w1', 'stop');
      await watch.waitFor(/^w1\s+STOPPED\s/m);
      await settled('w1', 'delete');
      await watch.waitFor(/^w1\s+DELETED\s/m);
      const lines = watch.stdout().split('\n').filter((l) => l.startsWith('w1 '));
      const order = ['RUNNING', 'STOPPED', 'DELETED'].map((s) => lines.findIndex((l) => new RegExp(`^w1\\s+${s}\\s`).test(l)));
      assert.deepEqual([...order].sort((a, b) => a - b), order, `in the order they happened:\n${lines.join('\n')}`);
    } finally {
      assert.equal(await watch.stop(), 0, 'Ctrl-C ends a watch with exit 0');
    }
  });

  test('-o json prints one event per line; get -w follows one workspace only', async () => {
    const watch = startWsm(['ws', 'list', '-w', '-o', 'json'], opts());
    const one = startWsm(['ws', 'get', 'before', '-w', '-o', 'name'], opts());
    try {
      await watch.waitFor(/"name":"before"/);
      await one.waitFor(/^before\n/);
      assert.equal((await api('POST', '/api/workspaces', { workspace: { name: 'w2', container_config: localContainerConfig() } })).status, 201);
      await watch.waitFor(/"name":"w2".*"status":"RUNNING"/);
      await settled('before', 'stop');
      await one.waitFor(/^before\nbefore\n/);
      for (const line of watch.stdout().trimEnd().split('\n')) {
        const event = JSON.parse(line);
        assert.equal(event.event, 'workspace');
        assert.equal(typeof event.workspace.instance.status, 'string');
      }
      assert.doesNotMatch(one.stdout(), /w2/);
    } finally {
      await watch.stop();
      await one.stop();
    }
  });

  test('carries on across a restart of the server', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'restarting');
    let server = await startServeProcess(dataDir, {}, port);
    const token = server.ownerToken();
    const watch = startWsm(['ws', 'watch'], { env: { WSM_URL: server.url, WSM_TOKEN: token }, cwd: dir });
    try {
      await watch.waitFor(/^NAME\s/);
      assert.equal(await server.stop(), 0);
      server = await startServeProcess(dataDir, {}, port);
      const created = await request(server.url, 'POST', '/api/workspaces', { defaultToken: token, body: { workspace: { name: 'after-restart', container_config: localContainerConfig() } } });
      assert.equal(created.status, 201);
      await watch.waitFor(/^after-restart\s+(PENDING|RUNNING)\s/m, 60_000);
      assert.equal(watch.child.exitCode, null, watch.stderr());
    } finally {
      await watch.stop();
      await deleteAllWorkspaces(server.url, token).catch(() => {});
      await server.stop();
    }
  });
});

describe('wsm ws wait', () => {
  test('returns once the workspace reaches the status, and at once when it already has it', async () => {
    assert.equal((await wsm(['ws', 'wait', 'w2', '--for=status=RUNNING', '--timeout', '60s'])).stdout, 'w2: RUNNING\n');
    await settled('w2', 'stop');
    const waiting = await startWait('w2', ['--for', 'status=RUNNING', '--timeout', '60s', '-o', 'json']);
    assert.equal(waiting.child.exitCode, null, `still waiting while w2 is stopped: ${waiting.stderr()}`);
    assert.equal((await api('PUT', '/api/workspaces/w2', { workspace: { action: 'resume' } })).status, 200);
    assert.equal(await waiting.exited, 0, waiting.stderr());
    assert.equal(JSON.parse(waiting.stdout()).workspace.instance.status, 'RUNNING');
  });

  test('--for=delete returns once it is gone; a timeout exits 1 saying what the status is', async () => {
    const timedOut = await wsm(['ws', 'wait', 'w2', '--for=status=STOPPED,FAILED', '--timeout', '2s']);
    assert.equal(timedOut.code, 1, timedOut.stderr);
    assert.equal(timedOut.stderr, 'error: timed out after 2s waiting for w2 to be STOPPED or FAILED; it is RUNNING\n');
    const gone = await startWait('w2', ['--for=delete', '--timeout', '60s']);
    assert.equal((await api('DELETE', '/api/workspaces/w2?delete_volume=true')).status, 200);
    assert.equal(await gone.exited, 0, gone.stderr());
    assert.equal(gone.stdout(), 'w2: deleted\n');
  });

  test('a workspace that does not exist exits 3; a bad --for exits 2 naming what is allowed', async () => {
    const missing = await wsm(['ws', 'wait', 'nope', '--for=status=RUNNING', '--timeout', '5s']);
    assert.equal(missing.code, 3);
    assert.equal(missing.stderr, 'error: Workspace nope does not exist.\n');
    const bad = await wsm(['ws', 'wait', 'before', '--for=status=SLEEPING']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /SLEEPING: not a status; statuses are PENDING, .*RUNNING/);
    const shape = await wsm(['ws', 'wait', 'before', '--for=ready']);
    assert.equal(shape.code, 2);
    assert.match(shape.stderr, /must be status=<STATUS>/);
  });
});
