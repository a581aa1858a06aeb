import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalRuntime } from '../../../src/runtimes/local/index.js';
import { httpGet, pidAlive, readJson, sandbox, waitFor, workspace, type Sandbox } from './helpers.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'control-plane.ts');

/** Runs the stand-in control plane until it has started its workspaces, then SIGKILLs it. */
async function startAndKillControlPlane(box: Sandbox): Promise<{ web: { url: string } }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fixture, box.root, box.serverScript], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const line = await waitFor(() => out.includes('\n') && out.split('\n')[0], 'the control plane to start workspaces', 60_000);
    return JSON.parse(line);
  } finally {
    child.kill('SIGKILL');
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, 'the control plane to die');
  }
}

describe('LocalRuntime: a restarted control plane adopts what an earlier one started', () => {
  let box: Sandbox;
  let rt: LocalRuntime;
  let first: { web: { url: string } };
  before(async () => {
    box = sandbox();
    first = await startAndKillControlPlane(box);
    rt = new LocalRuntime({ rootDir: box.root, stopGraceMs: 2000 });
  });
  after(async () => {
    await rt?.close();
    box.cleanup();
  });

  const web = (generation = 1) => workspace('adopted', { command: [process.execPath, box.serverScript] }, { generation });
  const webHome = () => join(box.root, 'adopted', 'home');

  test('the workspace outlives a SIGKILLed control plane and is adopted, not started twice', async () => {
    const res = await waitFor(() => httpGet(first.web.url), 'the workspace to serve');
    assert.equal(res.body, 'hello from adopted');
    assert.deepEqual(await rt.listInstances(), ['adopted', 'waiter']);

    const observed = await rt.observe(web());
    assert.equal(observed.status, 'RUNNING');
    assert.equal(observed.url, first.web.url);

    const applied = await rt.apply(web(2));
    assert.equal(applied.status, 'RUNNING');
    assert.equal(applied.url, first.web.url);
    assert.equal(applied.generation, 2);
    const starts = readFileSync(join(webHome(), 'starts.log'), 'utf8').trim().split('\n');
    assert.equal(starts.length, 1);
    assert.ok(pidAlive(Number(starts[0])));
  });

  test('the exit code of a process this instance did not spawn is known, and watch reports it', async () => {
    const changed: string[] = [];
    const unwatch = rt.watch((name) => changed.push(name));
    try {
      const waiter = workspace('waiter', { command: ['/bin/sh', '-c', 'true'] });
      assert.equal((await rt.observe(waiter)).status, 'RUNNING');
      writeFileSync(join(box.root, 'waiter', 'home', 'stop-now'), '');
      const seen = await waitFor(async () => {
        const o = await rt.observe(waiter);
        return o.status === 'FAILED' ? o : undefined;
      }, 'FAILED');
      assert.equal(seen.exit_code, 7);
      assert.equal(seen.message, 'exited with code 7');
      await waitFor(() => changed.includes('waiter'), 'watch to report the exit of an adopted process');
      assert.ok(!changed.includes('adopted'));
    } finally {
      unwatch();
    }
  });

  test('stopping an adopted workspace ends its process group', async () => {
    const pid = Number(readFileSync(join(webHome(), 'starts.log'), 'utf8').trim());
    const stopped = await rt.apply({ ...web(2), desired: 'stopped' });
    assert.equal(stopped.status, 'STOPPED');
    assert.equal(pidAlive(pid), false);
    await assert.rejects(httpGet(first.web.url));
  });

  test('a recorded pid that now belongs to another process is neither adopted nor killed', async () => {
    const dir = join(box.root, 'reused');
    mkdirSync(join(dir, 'home'), { recursive: true });
    // This test process plays the stranger that got the pid; its start time differs from the recorded one.
    writeFileSync(
      join(dir, 'state.json'),
      JSON.stringify({ version: 1, status: 'running', pid: process.pid, pgid: process.pid, start_ticks: '1', generation: 1 }),
    );
    const ws = workspace('reused', { command: [process.execPath, box.serverScript] });
    const seen = await rt.observe(ws);
    assert.equal(seen.status, 'FAILED');
    assert.equal(seen.exit_code, undefined);

    const started = await rt.apply(ws);
    assert.equal(started.status, 'RUNNING');
    assert.ok(pidAlive(process.pid));
    const state = readJson<{ pid: number }>(join(dir, 'state.json'))!;
    assert.notEqual(state.pid, process.pid);
    assert.equal((await waitFor(() => httpGet(started.url!), 'the new process')).body, 'hello from reused');
    await rt.remove(ws, { deleteVolume: true });
  });
});
