// Two wsm installations (two servers, each with its own data dir) on one real Docker engine: each
// labels what it makes with its installation id, and neither takes, stops or removes the other's
// container or volume. A container replaced behind an installation's back is not taken for its own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { TEST_IMAGE, TEST_RUN_LABEL, dockerCli, dockerSkipReason, ensureDocker, newRunId, waitFor } from '../support/docker.js';
import { Api, containerOf, e2eName, imageConfig, inspectContainer, removeWorkspaceObjects, served, volumeOf } from '../e2e/docker/helpers.js';

const INSTALLATION = 'wsm.io/installation';
const runId = newRunId();
const names: string[] = [];
let first: TestServer | undefined;
let second: TestServer | undefined;
let a: Api;
let b: Api;

async function waitGone(api: Api, name: string): Promise<void> {
  await waitFor(`${name} to be deleted`, async () => ((await api.call('GET', `/api/workspaces/${name}`)).status === 404 ? true : undefined), 30_000, 250);
}

async function volumeLabels(name: string): Promise<Record<string, string>> {
  return JSON.parse(await dockerCli('volume', 'inspect', '--format', '{{json .Labels}}', volumeOf(name)));
}

describe('two installations on one Docker engine', { skip: dockerSkipReason() }, () => {
  const name = e2eName('inst');
  names.push(name);
  let firstId = '';
  let containerId = '';

  before(async () => {
    await ensureDocker();
    // A short resync: a container replaced behind the first server's back is found by looking again.
    first = await startTestServer({ clusterType: 'docker', env: { WSM_RESYNC_SECONDS: '2' } });
    second = await startTestServer({ clusterType: 'docker' });
    a = new Api(first.url, first.adminToken);
    b = new Api(second.url, second.adminToken);
    // restart_policy never: the container removed below is not recreated before the intruder takes its name.
    const res = await a.create(name, imageConfig(TEST_IMAGE, 'restart_policy: never\n'));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const ws = await a.waitForStatus(name, 'RUNNING');
    await dockerCli('exec', containerOf(name), 'sh', '-c', 'echo first > /home/src/owner.txt');
    assert.equal((await served(ws.url, '/owner.txt')).trim(), 'first');
    const info = (await inspectContainer(name))!;
    containerId = info.Id;
    firstId = info.Config.Labels[INSTALLATION]!;
    assert.match(firstId, /^[0-9a-f]{12}$/, 'the container carries the installation id');
    assert.equal((await volumeLabels(name))[INSTALLATION], firstId, 'and so does the volume');
  });

  after(async () => {
    await second?.close().catch(() => undefined);
    await first?.close().catch(() => undefined);
    await removeWorkspaceObjects(names, [containerOf(name)]);
  });

  test("the second installation reports NameConflict for the first one's name and leaves its container and volume alone", async () => {
    const res = await b.create(name, imageConfig(TEST_IMAGE, 'env:\n  - name: WHO\n    value: second\n'));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const op = await b.waitForOperation(res.body.operation.id, 'failed');
    assert.match(op.error, new RegExp(`container named ${containerOf(name)} exists of another wsm installation \\(${INSTALLATION}=${firstId}`));
    const ws = await b.waitForStatus(name, 'FAILED');
    const conflict = ws.conditions.find((c: { reason: string }) => c.reason === 'NameConflict');
    assert.ok(conflict, JSON.stringify(ws.conditions));

    // Deleting it on the second server, volume included, removes only its own row.
    const del = await b.call('DELETE', `/api/workspaces/${name}?delete_volume=true`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    await waitGone(b, name);

    const info = await inspectContainer(name);
    assert.equal(info?.Id, containerId, 'the same container');
    assert.equal(info?.State.Running, true, 'still running');
    assert.equal(info?.Config.Labels[INSTALLATION], firstId);
    assert.ok(!(info?.Config.Env ?? []).includes('WHO=second'), 'not the second installation’s config');
    assert.equal((await volumeLabels(name))[INSTALLATION], firstId, 'the volume is still there');
    const mine = await a.get(name);
    assert.equal(mine.instance.status, 'RUNNING');
    assert.equal((await served(mine.url, '/owner.txt')).trim(), 'first', 'with its data');
  });

  test('a container replaced behind the first installation’s back is a NameConflict, not its workspace', async () => {
    const before = await a.get(name);
    await dockerCli('rm', '-f', containerOf(name));
    await dockerCli(
      'run', '-d', '--name', containerOf(name), '-p', '127.0.0.1::6789',
      '--label', 'app.kubernetes.io/managed-by=wsm', '--label', `${INSTALLATION}=intruder`, '--label', `wsm.workspace=${name}`,
      '--label', `${TEST_RUN_LABEL}=${runId}`,
      TEST_IMAGE, 'sh', '-c', 'cd /home/src && exec httpd -f -p 6789',
    );
    const intruder = (await inspectContainer(name))!;
    const intruderUrl = `http://127.0.0.1:${intruder.NetworkSettings.Ports['6789/tcp']?.[0]?.HostPort}`;

    const ws = await a.waitFor(name, 'the first server to see the conflict', (w) => w.conditions.some((c: { reason: string }) => c.reason === 'NameConflict'), 30_000);
    assert.notEqual(ws.instance.status, 'RUNNING');
    assert.notEqual(ws.url, intruderUrl, 'never the other container’s address');
    assert.match(ws.status_message, new RegExp(`${INSTALLATION}=intruder`));
    assert.equal(before.instance.status, 'RUNNING');

    // Deleting the workspace leaves the other container running.
    const del = await a.call('DELETE', `/api/workspaces/${name}`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    await waitGone(a, name);
    const info = await inspectContainer(name);
    assert.equal(info?.Id, intruder.Id);
    assert.equal(info?.State.Running, true);
  });
});

describe('an installation id given in the configuration', { skip: dockerSkipReason() }, () => {
  test('is the label on what the server creates', async () => {
    await ensureDocker();
    const id = `given-${runId}`;
    const server = await startTestServer({ clusterType: 'docker', env: { WSM_INSTALLATION_ID: id } });
    const name = e2eName('given');
    names.push(name);
    try {
      const api = new Api(server.url, server.adminToken);
      assert.equal((await api.create(name, imageConfig(TEST_IMAGE))).status, 201);
      await api.waitForStatus(name, 'RUNNING');
      assert.equal((await inspectContainer(name))?.Config.Labels[INSTALLATION], id);
      assert.equal((await volumeLabels(name))[INSTALLATION], id);
    } finally {
      await server.close();
    }
  });
});
