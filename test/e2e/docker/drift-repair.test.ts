// Drift on the real engine: a workspace's container reconfigured in place (`docker update`) or
// recreated behind wsm's back with the labels copied but another image and environment is put back
// to what wsm wants, and the workspace's `Repaired` condition says what was repaired. The recreation
// is done while wsm is down (so wsm cannot race the person at the terminal) and found by the
// start-up resync; the in-place change is found through the engine's event stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../support/server.js';
import { TEST_IMAGE, TEST_IMAGE_2, dockerCli, dockerClient, dockerSkipReason, ensureDocker } from '../../support/docker.js';
import { Api, containerOf, e2eName, imageConfig, inspectContainer, removeWorkspaceObjects, served } from './helpers.js';

const name = e2eName('drift');
const ENV = { WSM_RESYNC_SECONDS: '3600', WSM_RESTART_BACKOFF_INITIAL_SECONDS: '2' };
let dataDir = '';
let server: TestServer | undefined;
let api: Api;

async function startWsm(): Promise<void> {
  server = await startTestServer({ clusterType: 'docker', dataDir, env: ENV });
  api = new Api(server.url, server.adminToken);
}

/** Stops wsm without touching its workspaces (as an operator's restart does). */
async function stopWsm(): Promise<void> {
  await server?.server.close();
  server = undefined;
}

const repairedOf = (ws: any) => ws.conditions.filter((c: any) => c.type === 'Repaired');

describe('drift repaired on the real engine, through the HTTP API', { skip: dockerSkipReason() }, () => {
  before(async () => {
    await ensureDocker();
    dataDir = await mkdtemp(join(tmpdir(), 'wsm-drift-'));
    await startWsm();
    const res = await api.create(name, imageConfig(TEST_IMAGE, 'env:\n  - name: WANTED\n    value: "yes"\n'));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const ws = await api.waitForStatus(name, 'RUNNING');
    await dockerCli('exec', containerOf(name), 'sh', '-c', 'echo kept > /home/src/kept.txt');
    assert.equal((await served(ws.url, '/kept.txt')).trim(), 'kept');
  });

  after(async () => {
    await server?.close().catch(() => undefined);
    await removeWorkspaceObjects([name]);
    await rm(dataDir, { recursive: true, force: true });
  });

  test("wsm's own container is not taken for drift after a wsm restart", async () => {
    const id = (await inspectContainer(name))?.Id;
    await stopWsm();
    await startWsm();
    await server!.server.controller.drained();
    const ws = await api.get(name);
    assert.equal(ws.instance.status, 'RUNNING');
    assert.deepEqual(repairedOf(ws), [], JSON.stringify(ws.conditions));
    assert.equal((await inspectContainer(name))?.Id, id, 'the same container');
  });

  test('recreated behind wsm\'s back with copied labels, another image and env: put back at the next start, and said so', async () => {
    await stopWsm();
    const original = (await inspectContainer(name))!;
    await dockerCli('rm', '-f', containerOf(name));
    const imposter = await dockerClient().createContainer({
      name: containerOf(name),
      Image: TEST_IMAGE_2,
      Env: ['WANTED=no', 'INTRUDER=1'],
      Labels: original.Config.Labels,
      HostConfig: { Binds: original.HostConfig.Binds ?? [] },
    });
    await imposter.start();

    await startWsm();
    const ws = await api.waitFor(name, 'the container put back', (w) => w.instance.status === 'RUNNING' && repairedOf(w).length > 0, 60_000);
    const [repaired, ...more] = repairedOf(ws);
    assert.equal(more.length, 0, 'one Repaired condition');
    assert.equal(repaired.status, 'True');
    assert.equal(repaired.reason, 'DriftRepaired');
    assert.match(repaired.message, new RegExp(`recreated container ${containerOf(name)} \\(it had been changed outside wsm: `));
    assert.match(repaired.message, new RegExp(`image ${TEST_IMAGE_2} instead of ${TEST_IMAGE}`));
    assert.match(repaired.message, /environment variable WANTED had another value/);
    assert.match(repaired.message, /environment variable INTRUDER had been added/);
    assert.doesNotMatch(repaired.message, /=1|"no"/, 'no environment value is shown');

    const info = (await inspectContainer(name))!;
    assert.notEqual(info.Id, imposter.id, 'a new container');
    assert.equal(info.State.Status, 'running');
    assert.equal(info.Config.Image, TEST_IMAGE);
    assert.ok(info.Config.Env.includes('WANTED=yes'), JSON.stringify(info.Config.Env));
    assert.ok(!info.Config.Env.some((e) => e.startsWith('INTRUDER=')), JSON.stringify(info.Config.Env));
    assert.equal(ws.desired_state, 'running');
    assert.equal((await served(ws.url, '/kept.txt')).trim(), 'kept', 'on the same volume');
  });

  test('reconfigured in place with docker update: put back on its event, and said so', async () => {
    const before = (await inspectContainer(name))!;
    await dockerCli('update', '--restart', 'always', containerOf(name));
    const ws = await api.waitFor(name, 'the update repaired', (w) => w.instance.status === 'RUNNING' && /engine restart policy always instead of no/.test(repairedOf(w)[0]?.message ?? ''), 30_000);
    assert.equal(repairedOf(ws).length, 1, 'one Repaired condition');
    const info = (await inspectContainer(name))!;
    assert.notEqual(info.Id, before.Id, 'a new container');
    assert.equal(info.HostConfig.RestartPolicy?.Name || 'no', 'no', 'the engine does not restart behind wsm');
    assert.equal(info.State.Status, 'running');
    assert.equal((await served(ws.url, '/kept.txt')).trim(), 'kept', 'on the same volume');
  });
});
