// Desired running means running, on Docker and on local processes alike: `wsm serve` runs as a
// child process; instances are killed behind its back while it runs and while it is down (SIGKILL,
// as a crash or a host reboot leaves it); what comes back, the count, the last termination and the
// crash-loop backoff are read through the HTTP API and checked with the engine's own tools.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_IMAGE, dockerCli, dockerSkipReason, ensureDocker, waitFor } from '../support/docker.js';
import { WsmProcess } from '../support/wsm-process.js';
import { NODE_ECHO_SERVER, request } from '../support/server.js';
import { parsePrometheusText, sumOf } from '../support/prom-text.js';
import { containerOf, e2eName, imageConfig, inspectContainer, removeWorkspaceObjects, served } from './docker/helpers.js';

// Short delays so the backoff is seen within a test: 3 s doubling to 6 s. The resync is an hour:
// only the engine's events and the start-up pass may bring anything back.
const METRICS_TOKEN = `metrics-${'r'.repeat(24)}`;
const ENV = {
  WSM_RESTART_BACKOFF_INITIAL_SECONDS: '3',
  WSM_RESTART_BACKOFF_MAX_SECONDS: '6',
  WSM_RESYNC_SECONDS: '3600',
  WSM_STOP_GRACE_SECONDS: '1',
  WSM_ACTION_WAIT_MS: '500',
  WSM_METRICS_TOKEN: METRICS_TOKEN,
};

let wsm: WsmProcess;
const dockerNames: string[] = [];
const localNames: string[] = [];

async function get(name: string): Promise<any> {
  const res = await wsm.call('GET', `/api/workspaces/${name}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.workspace;
}

async function until(name: string, what: string, check: (ws: any) => boolean, timeoutMs = 60_000): Promise<any> {
  let last: any;
  try {
    return await waitFor(what, async () => {
      last = await get(name);
      return check(last) ? last : undefined;
    }, timeoutMs, 200);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify({ status: last?.instance?.status, restart_count: last?.restart_count, message: last?.status_message, conditions: last?.conditions })}`);
  }
}

async function create(name: string, clusterType: 'docker' | 'local', containerConfig: string): Promise<void> {
  const res = await wsm.call('POST', '/api/workspaces', { workspace: { name, cluster_type: clusterType, container_config: containerConfig } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** Reconciles the server has run so far, of every workspace (its own histogram's count). */
async function reconciles(): Promise<number> {
  const res = await request(wsm.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(res.status, 200);
  return sumOf(parsePrometheusText(res.body as string), 'wsm_reconcile_duration_seconds_count');
}

/** How long a crash loop waits before its next restart, from the end it waits after. */
/** Waiting to restart: a retry time is set (null while the instance runs between two crashes). */
const backingOff = (ws: any) => typeof ws.next_restart_at === 'string' && typeof ws.last_termination?.finished_at === 'string';
const backoffMs = (ws: any) => Date.parse(ws.next_restart_at) - Date.parse(ws.last_termination.finished_at);

function readyOf(ws: any): any {
  const ready = ws.conditions.filter((c: any) => c.type === 'Ready');
  assert.equal(ready.length, 1, `one Ready condition: ${JSON.stringify(ws.conditions)}`);
  return ready[0];
}

/** The process group of a local workspace, as its state file records it. */
async function localGroup(name: string): Promise<number> {
  const state = JSON.parse(await readFile(join(wsm.dataDir, 'workspaces', name, 'state.json'), 'utf8'));
  assert.ok(state.pgid > 1, JSON.stringify(state));
  return state.pgid;
}

function alive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('restart policy: desired running means running', () => {
  before(async () => {
    wsm = await WsmProcess.create(ENV);
    await wsm.start();
  });

  after(async () => {
    for (const name of [...dockerNames, ...localNames]) await wsm.call('DELETE', `/api/workspaces/${name}?delete_volume=true`).catch(() => undefined);
    for (const name of localNames) {
      await waitFor(`${name} deleted`, async () => ((await wsm.call('GET', `/api/workspaces/${name}`)).status === 404 ? true : undefined), 30_000, 200).catch(() => undefined);
    }
    await wsm.dispose();
    if (dockerNames.length > 0) await removeWorkspaceObjects(dockerNames);
  });

  describe('on Docker', { skip: dockerSkipReason() }, () => {
    const name = e2eName('rs');
    dockerNames.push(name);

    before(async () => {
      await ensureDocker();
      await create(name, 'docker', imageConfig(TEST_IMAGE));
      const ws = await until(name, 'RUNNING', (w) => w.instance.status === 'RUNNING');
      assert.equal(ws.restart_count, 0);
      assert.equal(ws.restart_policy, 'always');
      await dockerCli('exec', containerOf(name), 'sh', '-c', 'echo kept > /home/src/kept.txt');
    });

    test('docker kill while wsm runs: started again at once, counted, the termination shown; killed again: it backs off first', async () => {
      await dockerCli('kill', containerOf(name));
      const back = await until(name, 'restart 1', (w) => w.restart_count === 1 && w.instance.status === 'RUNNING');
      assert.equal(back.desired_state, 'running');
      assert.equal(back.last_termination.exit_code, 137);
      assert.equal(back.last_termination.signal, 'SIGKILL');
      assert.equal(back.last_termination.reason, 'Killed');
      assert.equal(back.last_termination.oom_killed, false);
      assert.ok(Date.parse(back.last_termination.finished_at) > 0);
      assert.equal((await inspectContainer(name))?.State.Running, true, 'the engine runs it');
      assert.equal((await served(back.url, '/kept.txt')).trim(), 'kept', 'same volume');

      // The second end within the reset time waits out the backoff, and says so.
      await dockerCli('kill', containerOf(name));
      const waiting = await until(name, 'the backoff', (w) => readyOf(w).reason === 'CrashLoopBackOff', 20_000);
      assert.equal(waiting.instance.status, 'FAILED');
      assert.ok(waiting.next_restart_at && Date.parse(waiting.next_restart_at) > Date.parse(waiting.last_termination.finished_at), JSON.stringify(waiting));
      assert.match(readyOf(waiting).message, /exited with code 137 \(SIGKILL\); back-off \d+ s before restart 2/);
      assert.equal((await inspectContainer(name))?.State.Running, false, 'not started during the backoff');
      const again = await until(name, 'restart 2', (w) => w.restart_count === 2 && w.instance.status === 'RUNNING', 30_000);
      assert.equal(again.next_restart_at, null);
      assert.equal(readyOf(again).status, 'True');
    });

    test('SIGKILL of wsm, container stopped while it is down: the next wsm starts it again and counts it', async () => {
      const before = (await get(name)).restart_count;
      await wsm.killHard();
      await dockerCli('stop', '-t', '1', containerOf(name));
      assert.equal((await inspectContainer(name))?.State.Running, false);
      await wsm.start();
      const back = await until(name, 'running after the restart of wsm', (w) => w.restart_count === before + 1 && w.instance.status === 'RUNNING');
      assert.equal((await inspectContainer(name))?.State.Running, true);
      assert.equal((await served(back.url, '/kept.txt')).trim(), 'kept');
    });

    test('a patch to an image that cannot be pulled: the old container keeps running, RUNNING with PatchFailed, the operation failed', async () => {
      const before = await get(name);
      const oldId = (await inspectContainer(name))?.Id;
      const image = `wsm-test/does-not-exist-${Date.now()}:1`;
      const res = await wsm.call('PUT', `/api/workspaces/${name}`, { workspace: { action: 'patch', container_config: `image: ${image}\n` } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const opId = res.body.operation.id;
      const op = await waitFor('the patch to fail', async () => {
        const o = (await wsm.call('GET', `/api/operations/${opId}`)).body.operation;
        return o.state === 'failed' ? o : o.state === 'succeeded' ? assert.fail('the patch succeeded') : undefined;
      }, 60_000, 200);
      assert.match(op.error, /not found and could not be pulled/);
      const ws = await until(name, 'PatchFailed', (w) => w.conditions.some((c: any) => c.type === 'PatchFailed'));
      assert.equal(ws.instance.status, 'RUNNING');
      assert.equal(ws.observed_generation, before.observed_generation, 'the old generation runs');
      assert.ok(ws.generation > ws.observed_generation);
      const failed = ws.conditions.find((c: any) => c.type === 'PatchFailed');
      assert.equal(failed.reason, 'ImagePullFailed');
      assert.match(failed.message, new RegExp(`generation ${ws.generation} was not applied: .*${image}`));
      assert.equal(readyOf(ws).status, 'True');
      const info = await inspectContainer(name);
      assert.equal(info?.Id, oldId, 'the same container');
      assert.equal(info?.State.Running, true);
      assert.equal((await served(ws.url, '/kept.txt')).trim(), 'kept', 'and it serves');
    });

    test('a process that exits 3 at once: a crash loop with a growing count, its exit code and last lines; never: left FAILED', async () => {
      const crasher = e2eName('crash');
      dockerNames.push(crasher);
      await create(crasher, 'docker', imageConfig(TEST_IMAGE, "command: [sh, -c, 'echo about to fail; exit 3']\n"));
      // The backoff grows (3 s, then 6 s, ±10 %), and waiting costs wsm next to nothing: a count of
      // its reconciles over one whole wait and restart, not a timing (a retry loop would run hundreds).
      const first = await until(crasher, 'backing off after restart 1', (w) => w.restart_count === 1 && backingOff(w), 30_000);
      const looping = await until(crasher, 'a crash loop', (w) => w.restart_count === 2 && backingOff(w) && readyOf(w).reason === 'CrashLoopBackOff', 30_000);
      const before = await reconciles();
      assert.equal(looping.instance.status, 'FAILED');
      assert.equal(looping.last_termination.exit_code, 3);
      assert.equal(looping.last_termination.reason, 'Exited');
      assert.match(looping.last_termination.log_tail, /about to fail/);
      assert.ok(Date.parse(looping.next_restart_at) > Date.now() - 10_000);
      assert.ok(backoffMs(looping) > backoffMs(first), `the wait grew: ${backoffMs(first)} ms, then ${backoffMs(looping)} ms`);
      assert.match(readyOf(looping).message, /back-off \d+ s before restart 3/);
      await until(crasher, 'backing off after restart 3', (w) => w.restart_count === 3 && backingOff(w), 30_000);
      const spent = (await reconciles()) - before;
      assert.ok(spent <= 10, `${spent} reconciles over one backoff wait and one restart`);

      const never = e2eName('never');
      dockerNames.push(never);
      await create(never, 'docker', imageConfig(TEST_IMAGE, "restart_policy: never\ncommand: [sh, -c, 'exit 3']\n"));
      const left = await until(never, 'FAILED, not restarted', (w) => w.instance.status === 'FAILED' && /not restarted/.test(readyOf(w).message ?? ''));
      assert.equal(left.restart_policy, 'never');
      assert.equal(left.restart_count, 0);
      assert.match(left.status_message, /exited with code 3; not restarted \(restart_policy never\)/);
      assert.equal((await inspectContainer(never))?.State.Running, false);
    });
  });

  describe('on local processes', () => {
    const name = e2eName('lrs');
    localNames.push(name);

    before(async () => {
      await create(name, 'local', `command: ${JSON.stringify(NODE_ECHO_SERVER)}\n`);
      await until(name, 'RUNNING and listening', (w) => w.instance.status === 'RUNNING' && w.conditions.some((c: any) => c.type === 'Listening' && c.status === 'True'));
    });

    test('the process killed while wsm runs: started again, counted', async () => {
      const pgid = await localGroup(name);
      process.kill(-pgid, 'SIGKILL');
      const back = await until(name, 'restart 1', (w) => w.restart_count === 1 && w.instance.status === 'RUNNING');
      assert.ok(back.last_termination, 'the termination is shown');
      const next = await localGroup(name);
      assert.notEqual(next, pgid);
      assert.ok(alive(next));
    });

    test('SIGKILL of wsm, the process killed while it is down: the next wsm starts it again and counts it', async () => {
      const before = (await get(name)).restart_count;
      const pgid = await localGroup(name);
      await wsm.killHard();
      process.kill(-pgid, 'SIGKILL');
      await waitFor('the group to be gone', async () => (alive(pgid) ? undefined : true), 10_000, 100);
      await wsm.start();
      const back = await until(name, 'running after the restart of wsm', (w) => w.restart_count === before + 1 && w.instance.status === 'RUNNING');
      assert.ok(alive(await localGroup(name)));
      assert.equal(readyOf(back).status, 'True');
    });

    test('Listening turns True within seconds of the port answering, not at the next resync', async () => {
      const late = e2eName('late');
      localNames.push(late);
      // Listens 4 s after it starts.
      await create(late, 'local', `command: [sh, -c, 'sleep 4; exec "$0" "$@"', ${NODE_ECHO_SERVER.map((p) => JSON.stringify(p)).join(', ')}]\n`);
      const closed = await until(late, 'RUNNING, not yet listening', (w) => w.instance.status === 'RUNNING' && w.conditions.some((c: any) => c.type === 'Listening' && c.status === 'False'));
      assert.ok(closed);
      const open = await until(late, 'Listening True', (w) => w.conditions.some((c: any) => c.type === 'Listening' && c.status === 'True'), 20_000);
      assert.equal(open.instance.status, 'RUNNING');
    });
  });
});
