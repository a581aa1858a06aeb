import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PermanentRuntimeError } from '../../../src/core/runtime.js';
import { LocalRuntime } from '../../../src/runtimes/local/index.js';
import { httpGet, pidAlive, readJson, sandbox, waitFor, workspace, type Sandbox } from './helpers.js';

describe('LocalRuntime: a workspace as a process group', () => {
  let box: Sandbox;
  let rt: LocalRuntime;
  before(() => {
    box = sandbox();
    rt = new LocalRuntime({ rootDir: box.root, stopGraceMs: 1000 });
  });
  after(async () => {
    await rt.close();
    box.cleanup();
  });

  const server = (env: { name: string; value: string }[] = [], generation = 1) =>
    workspace('web', { command: [process.execPath, box.serverScript] }, { env, generation });
  const home = () => join(box.root, 'web', 'home');
  const envFile = () => readJson<{ env: Record<string, string>; cwd: string; pid: number }>(join(home(), 'env.json'));

  test('create: RUNNING, serving HTTP on its port, with a clean environment', async () => {
    process.env.WSM_TEST_SECRET = 'control-plane-only';
    try {
      const ws = server([{ name: 'GREETING', value: 'one' }]);
      const seen = await rt.apply(ws);
      assert.equal(seen.status, 'RUNNING');
      assert.equal(seen.generation, 1);
      assert.match(seen.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(seen.ip, seen.url!.replace('http://', ''));
      const res = await waitFor(() => httpGet(seen.url!), 'the workspace to serve HTTP');
      assert.deepEqual(res, { status: 200, body: 'hello from web' });

      const { env, cwd } = (await waitFor(envFile, 'env.json'))!;
      assert.equal(cwd, home());
      assert.equal(env.GREETING, 'one');
      assert.equal(env.HOME, home());
      assert.equal(env.WSM_HOME, home());
      assert.equal(env.WSM_WORKSPACE, 'web');
      assert.equal(env.PORT, new URL(seen.url!).port);
      assert.equal(env.PATH, process.env.PATH);
      assert.equal(env.WSM_TEST_SECRET, undefined);

      const observed = await rt.observe(ws);
      assert.equal(observed.status, 'RUNNING');
      assert.equal(observed.url, seen.url);
      assert.deepEqual(await rt.listInstances(), ['web']);
      assert.match(readFileSync(join(box.root, 'web', 'output.log'), 'utf8'), /wsm: .* start of generation 1/);
    } finally {
      delete process.env.WSM_TEST_SECRET;
    }
  });

  test('apply again with the same config does not start a second process', async () => {
    const before = envFile()!.pid;
    const seen = await rt.apply(server([{ name: 'GREETING', value: 'one' }], 2));
    assert.equal(seen.status, 'RUNNING');
    assert.equal(seen.generation, 2);
    assert.equal(envFile()!.pid, before);
    assert.ok(pidAlive(before));
    assert.equal(readFileSync(join(home(), 'starts.log'), 'utf8').trim().split('\n').length, 1);
  });

  test('stop ends the process group and reports STOPPED; resume keeps home files and the port', async () => {
    const running = await rt.observe(server());
    writeFileSync(join(home(), 'note.txt'), 'kept across stop');
    const pid = envFile()!.pid;

    const stopped = await rt.apply({ ...server([{ name: 'GREETING', value: 'one' }], 2), desired: 'stopped' });
    assert.equal(stopped.status, 'STOPPED');
    assert.equal(pidAlive(pid), false);
    await assert.rejects(httpGet(running.url!));
    assert.equal((await rt.observe(server())).status, 'STOPPED');
    // stopping twice is fine
    assert.equal((await rt.apply({ ...server([], 2), desired: 'stopped' })).status, 'STOPPED');

    const resumed = await rt.apply(server([{ name: 'GREETING', value: 'one' }], 2));
    assert.equal(resumed.status, 'RUNNING');
    assert.equal(resumed.url, running.url);
    const res = await waitFor(() => httpGet(`${resumed.url}/note.txt`), 'the resumed workspace to serve');
    assert.deepEqual(res, { status: 200, body: 'kept across stop' });
    assert.notEqual(envFile()!.pid, pid);
  });

  test('patch: a changed env restarts the process with the new env', async () => {
    const oldPid = (await waitFor(envFile, 'env.json'))!.pid;
    const seen = await rt.apply(server([{ name: 'GREETING', value: 'two' }], 3));
    assert.equal(seen.status, 'RUNNING');
    assert.equal(seen.generation, 3);
    const env = await waitFor(() => {
      const e = envFile();
      return e && e.pid !== oldPid ? e : undefined;
    }, 'the restarted process');
    assert.equal(env.env.GREETING, 'two');
    assert.equal(pidAlive(oldPid), false);
    assert.equal((await rt.observe(server([], 3))).generation, 3);
  });

  test('exec runs in the workspace with its env and cwd; a timeout kills what it started', async () => {
    const ws = server([{ name: 'GREETING', value: 'two' }], 3);
    const ok = await rt.exec(ws, ['sh', '-c', 'echo "$WSM_WORKSPACE $GREETING $PORT"; pwd; echo oops >&2; exit 4'], 10_000);
    const port = new URL((await rt.observe(ws)).url!).port;
    assert.equal(ok.exit_code, 4);
    assert.equal(ok.timed_out, false);
    // stdout and stderr come through separate pipes, so only their lines, not their order, are certain
    assert.deepEqual(ok.output.split('\n').sort(), ['', home(), 'oops', `web two ${port}`].sort());

    const slow = await rt.exec(ws, ['sh', '-c', 'sleep 60 & echo $! > exec-child.pid; wait'], 700);
    assert.equal(slow.timed_out, true);
    const childPid = Number(readFileSync(join(home(), 'exec-child.pid'), 'utf8'));
    await waitFor(() => !pidAlive(childPid), 'the timed-out command to be killed');

    const big = await rt.exec(ws, ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo "line $i of some output padding padding padding"; i=$((i+1)); done; echo END'], 20_000);
    assert.equal(big.exit_code, 0);
    assert.ok(big.output.length <= 64 * 1024 && big.output.length > 60 * 1024, `output kept: ${big.output.length}`);
    assert.ok(big.output.endsWith('line 2999 of some output padding padding padding\nEND\n'));

    const missing = await rt.exec(ws, ['no-such-command-wsm'], 5000);
    assert.equal(missing.exit_code, 127);
  });

  test('a child that ignores SIGTERM is killed after the grace period', async () => {
    const ws = workspace('stubborn', {
      command: ['/bin/sh', '-c', 'trap "" TERM; sleep 600 & echo $! > child.pid; wait'],
    });
    assert.equal((await rt.apply(ws)).status, 'RUNNING');
    const pidFile = join(box.root, 'stubborn', 'home', 'child.pid');
    // Only a whole line: the shell may be part-way through writing the number when it is first read.
    const childPid = await waitFor(() => {
      const text = existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : '';
      return text.endsWith('\n') && Number(text);
    }, 'child.pid');
    assert.ok(pidAlive(childPid));
    const stopped = await rt.apply({ ...ws, desired: 'stopped' });
    assert.equal(stopped.status, 'STOPPED');
    assert.equal(pidAlive(childPid), false);
    await rt.remove(ws, { deleteVolume: true });
  });

  test('a process that exits on its own is FAILED with its exit code, and watch tells', async () => {
    const changed: string[] = [];
    const unwatch = rt.watch((name) => changed.push(name));
    try {
      const ws = workspace('crash', { command: ['/bin/sh', '-c', 'echo about to fail; exit 3'] });
      await rt.apply(ws);
      const seen = await waitFor(async () => {
        const o = await rt.observe(ws);
        return o.status === 'FAILED' ? o : undefined;
      }, 'FAILED');
      assert.equal(seen.exit_code, 3);
      assert.equal(seen.message, 'exited with code 3');
      assert.match(seen.conditions?.[0]?.message ?? '', /about to fail/);
      await waitFor(() => changed.includes('crash'), 'watch to report the exit');
      // the runtime has no restarter of its own: once the exit is seen, it ran once and stays FAILED until asked
      assert.equal(readFileSync(join(box.root, 'crash', 'output.log'), 'utf8').split('\n').filter((l) => l === 'about to fail').length, 1);
      assert.equal((await rt.observe(ws)).status, 'FAILED');

      // asked to run again, it runs again (and fails again the same way)
      const again = await rt.apply(ws);
      assert.equal(again.status, 'RUNNING');
      const log = await waitFor(() => {
        const text = readFileSync(join(box.root, 'crash', 'output.log'), 'utf8');
        return text.split('\n').filter((l) => l === 'about to fail').length === 2 ? text : undefined;
      }, 'the second run');
      assert.equal(log.match(/start of generation/g)?.length, 2);
      await rt.remove(ws, { deleteVolume: true });
    } finally {
      unwatch();
    }
  });

  test('a process killed from outside is FAILED with the code its wrapper saw', async () => {
    const ws = workspace('victim', { command: [process.execPath, box.serverScript] });
    await rt.apply(ws);
    const envPath = join(box.root, 'victim', 'home', 'env.json');
    const { pid } = await waitFor(() => readJson<{ pid: number }>(envPath), 'env.json');
    process.kill(pid, 'SIGKILL');
    const seen = await waitFor(async () => {
      const o = await rt.observe(ws);
      return o.status === 'FAILED' ? o : undefined;
    }, 'FAILED');
    assert.equal(seen.exit_code, 137);
    assert.equal(seen.message, 'exited with code 137 (SIGKILL)');
    assert.equal(seen.termination?.reason, 'Killed');
    assert.equal(seen.termination?.signal, 'SIGKILL');
    assert.ok(Date.parse(seen.termination!.finished_at) > 0);
    await rt.remove(ws, { deleteVolume: true });
  });

  test('a failing pre-start script keeps the command from running', async () => {
    const ws = workspace(
      'prestart',
      { command: ['/bin/sh', '-c', 'echo main ran > main.txt; sleep 600'] },
      { hooks: { pre_start: { path: 'pre.sh', content: Buffer.from('#!/bin/sh\necho "pre $WSM_WORKSPACE" > pre.txt\nexit 5\n') } } },
    );
    await rt.apply(ws);
    const seen = await waitFor(async () => {
      const o = await rt.observe(ws);
      return o.status === 'FAILED' ? o : undefined;
    }, 'FAILED');
    assert.equal(seen.exit_code, 5);
    assert.equal(seen.message, 'pre-start script failed with code 5');
    assert.equal(seen.conditions?.find((c) => c.type === 'PreStartFailed')?.reason, 'PreStartFailed');
    const wsHome = join(box.root, 'prestart', 'home');
    assert.equal(readFileSync(join(wsHome, 'pre.txt'), 'utf8'), 'pre prestart\n');
    assert.equal(existsSync(join(wsHome, 'main.txt')), false);

    const fixed = { ...ws, generation: 2, hooks: { pre_start: { path: 'pre.sh', content: Buffer.from('echo fine > pre.txt\n') } } };
    // Starting, not running, until the pre-start script has finished.
    assert.ok(['PENDING', 'RUNNING'].includes((await rt.apply(fixed)).status));
    await waitFor(async () => ((await rt.observe(fixed)).status === 'RUNNING' ? true : undefined), 'RUNNING after a good pre-start');
    await waitFor(() => existsSync(join(wsHome, 'main.txt')), 'the main command after a good pre-start');
    await rt.remove(ws, { deleteVolume: true });
  });

  test('remove keeps home unless asked to delete the volume', async () => {
    const ws = server([{ name: 'GREETING', value: 'two' }], 3);
    const pid = envFile()!.pid;
    await rt.remove(ws, { deleteVolume: false });
    assert.equal(pidAlive(pid), false);
    assert.deepEqual(await rt.observe(ws), { status: 'UNAVAILABLE', message: 'not created', instance_name: 'web' });
    assert.deepEqual(await rt.listInstances(), []);
    assert.equal(readFileSync(join(home(), 'note.txt'), 'utf8'), 'kept across stop');
    await rt.remove(ws, { deleteVolume: false }); // removing again succeeds

    const again = await rt.apply(ws);
    const res = await waitFor(() => httpGet(`${again.url}/note.txt`), 'the recreated workspace');
    assert.equal(res.body, 'kept across stop');

    await rt.remove(ws, { deleteVolume: true });
    assert.equal(existsSync(join(box.root, 'web')), false);
    assert.equal((await rt.observe(ws)).status, 'UNAVAILABLE');
    await rt.remove(ws, { deleteVolume: true });
  });

  test('a workspace without a command is a permanent error', async () => {
    const ws = workspace('nocmd', { image: 'mageai/mageai' });
    await assert.rejects(rt.apply(ws), (err: unknown) => {
      assert.ok(err instanceof PermanentRuntimeError);
      assert.match(err.message, /needs `command` in container_config/);
      return true;
    });
    assert.equal((await rt.observe(ws)).status, 'UNAVAILABLE');
  });

  test('two workspaces get different ports, even when both ask for the same one', async () => {
    const a = workspace('pa', { command: [process.execPath, box.serverScript], port: 6789 });
    const b = workspace('pb', { command: [process.execPath, box.serverScript], port: 6789 });
    const [sa, sb] = await Promise.all([rt.apply(a), rt.apply(b)]);
    assert.notEqual(sa.url, sb.url);
    assert.equal((await waitFor(() => httpGet(sa.url!), 'pa')).body, 'hello from pa');
    assert.equal((await waitFor(() => httpGet(sb.url!), 'pb')).body, 'hello from pb');
    await Promise.all([rt.remove(a, { deleteVolume: true }), rt.remove(b, { deleteVolume: true })]);
  });
});
