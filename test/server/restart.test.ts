// The server is killed with SIGKILL in the middle of an action; started again on the same data, it
// converges to what was asked. Also: SIGTERM shuts down gracefully and leaves workspaces running.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, request } from '../support/server.js';

const ADMIN = 'restart-admin-token';
const dirs: string[] = [];
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startChild(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data-dir', dataDir, '--port', String(port), '--cluster-type', 'local'], {
    env: { ...process.env, WSM_ADMIN_TOKEN: ADMIN, WSM_STOP_GRACE_SECONDS: '3', WSM_LOG_LEVEL: 'warn', WSM_ACTION_WAIT_MS: '20000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  await eventually(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/api/status`)).ok;
    } catch {
      return false;
    }
  }, 30_000, 'the server to be ready');
  return child;
}

/** The pid the workspace serves, once it listens. */
function servedPid(ip: string): Promise<number> {
  return eventually(async () => {
    try {
      return Number(await (await fetch(`http://${ip}/`)).text());
    } catch {
      return undefined;
    }
  }, 10_000, `${ip} to answer`);
}

/** Alive means it exists and is not a zombie (PID 1 here may not reap orphans). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

// Ignores SIGTERM, so a stop takes the whole grace period: a window to kill the server in.
const STUBBORN = [
  process.execPath,
  '-e',
  "process.on('SIGTERM',()=>{});require('http').createServer((q,s)=>s.end(String(process.pid))).listen(Number(process.env.PORT),'127.0.0.1')",
];

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('restarts', () => {
  test('SIGKILL during a stop: after a restart the workspace converges to stopped', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wsm-restart-'));
    dirs.push(dataDir);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let child = await startChild(dataDir, port);
    const created = await request(base, 'POST', '/api/workspaces', {
      defaultToken: ADMIN,
      body: { workspace: { name: 'survivor', container_config: `command: ${JSON.stringify(STUBBORN)}` } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const running = await eventually(async () => {
      const r = await request(base, 'GET', '/api/workspaces/survivor', { defaultToken: ADMIN });
      return r.body.workspace.instance.status === 'RUNNING' && r.body.workspace;
    });
    const pid = await servedPid(running.instance.ip);

    // The stop waits out the grace period; kill the server while it does.
    const stopping = request(base, 'PUT', '/api/workspaces/survivor', { defaultToken: ADMIN, body: { workspace: { action: 'stop' } } }).catch(() => undefined);
    await eventually(async () => {
      const r = await request(base, 'GET', '/api/workspaces/survivor', { defaultToken: ADMIN });
      return r.body.workspace.desired_state === 'stopped';
    });
    child.kill('SIGKILL');
    await exited(child);
    await stopping;
    assert.ok(alive(pid), 'the workspace process outlived the killed server');

    child = await startChild(dataDir, port);
    const final = await eventually(async () => {
      const r = await request(base, 'GET', '/api/workspaces/survivor', { defaultToken: ADMIN });
      return r.body.workspace.instance.status === 'STOPPED' && r.body.workspace;
    }, 30_000, 'the workspace to be stopped after the restart');
    assert.equal(final.desired_state, 'stopped');
    assert.equal(final.last_operation.action, 'stop');
    assert.equal(final.last_operation.state, 'succeeded');
    assert.ok(!alive(pid), 'the process is gone');

    // And it still works: resume after the restart.
    const resumed = await request(base, 'PUT', '/api/workspaces/survivor', { defaultToken: ADMIN, body: { workspace: { action: 'resume' } } });
    assert.equal(resumed.status, 200);
    assert.equal(resumed.body.workspace.instance.status, 'RUNNING');
    await request(base, 'DELETE', '/api/workspaces/survivor?delete_volume=true', { defaultToken: ADMIN });
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
  });

  test('SIGTERM stops the server gracefully and leaves workspaces running', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wsm-restart-'));
    dirs.push(dataDir);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let child = await startChild(dataDir, port);
    const created = await request(base, 'POST', '/api/workspaces', {
      defaultToken: ADMIN,
      body: { workspace: { name: 'keeps-running', container_config: `command: ${JSON.stringify(STUBBORN)}` } },
    });
    assert.equal(created.status, 201);
    const ws = await eventually(async () => {
      const r = await request(base, 'GET', '/api/workspaces/keeps-running', { defaultToken: ADMIN });
      return r.body.workspace.instance.status === 'RUNNING' && r.body.workspace;
    });
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
    const pid = await servedPid(ws.instance.ip);
    assert.ok(pid > 0, 'the workspace still serves after the server stopped');
    child = await startChild(dataDir, port);
    const again = await request(base, 'GET', '/api/workspaces/keeps-running', { defaultToken: ADMIN });
    assert.equal(again.body.workspace.instance.status, 'RUNNING');
    assert.equal(await servedPid(again.body.workspace.instance.ip), pid, 'adopted, not started twice');
    await request(base, 'DELETE', '/api/workspaces/keeps-running?delete_volume=true', { defaultToken: ADMIN });
    child.kill('SIGTERM');
    await exited(child);
  });
});
