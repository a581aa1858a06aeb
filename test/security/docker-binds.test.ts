// Regression tests for "a token for one workspace stays inside that workspace", item 1: host paths and
// other volumes through container_config.volumes. Real `wsm serve` on the real Docker engine, HTTP only,
// checked with the engine: a refused patch leaves the running container exactly as it was.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/server.js';
import { TEST_IMAGE, dockerCli, dockerSkipReason, ensureDocker } from '../support/docker.js';
import { Api, e2eName, imageConfig, inspectContainer, removeWorkspaceObjects, volumeOf } from '../e2e/docker/helpers.js';

const dk1 = e2eName('dk1');
const other = e2eName('dk2');
const bound = e2eName('bind');
let plain: TestServer | undefined;
let allowing: TestServer | undefined;
let allowedRoot = '';

/** The container as the engine has it, and the workspace as the API shows it. */
async function snapshot(api: Api, name: string) {
  const info = await inspectContainer(name);
  assert.ok(info, `container of ${name} exists`);
  const ws = await api.get(name);
  return { id: info.Id, running: info.State.Running, mounts: info.Mounts.map((m) => `${m.Source}:${m.Destination}`).sort(), generation: ws.generation, config: ws.container_config };
}

function patchVolumes(api: Api, name: string, volumes: string) {
  return api.act(name, 'patch', { container_config: `volumes:\n${volumes}` });
}

describe('Docker binds: host paths and other volumes are the operator\'s', { skip: dockerSkipReason() }, () => {
  before(async () => {
    await ensureDocker();
    allowedRoot = await mkdtemp(join(tmpdir(), 'wsm-allowed-'));
    plain = await startTestServer({ clusterType: 'docker' });
    allowing = await startTestServer({ clusterType: 'docker', env: { WSM_DOCKER_ALLOWED_BIND_ROOTS: allowedRoot } });
    const admin = new Api(plain.url, plain.adminToken);
    for (const name of [dk1, other]) assert.equal((await admin.create(name, imageConfig(TEST_IMAGE))).status, 201);
    await admin.waitForStatus(dk1, 'RUNNING');
    await admin.waitForStatus(other, 'RUNNING');
  });

  after(async () => {
    await plain?.close().catch(() => undefined);
    await allowing?.close().catch(() => undefined);
    await removeWorkspaceObjects([dk1, other, bound]);
    if (allowedRoot) await rm(allowedRoot, { recursive: true, force: true });
  });

  test('an editor scoped to dk1 who binds / gets 403 naming container_config.volumes; the container runs on unchanged', async () => {
    const admin = new Api(plain!.url, plain!.adminToken);
    const editor = new Api(plain!.url, await plain!.token('editor', { workspace: dk1 }));
    const before = await snapshot(admin, dk1);
    const res = await patchVolumes(editor, dk1, '  /:\n    bind: /host\n    mode: rw\n');
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.equal(res.body.error.type, 'unauthorized_access');
    assert.deepEqual(res.body.error.errors.map((e: { field: string }) => e.field), ['container_config.volumes']);
    assert.match(res.body.error.message, /only an owner of every workspace may change volumes/);
    assert.deepEqual(await snapshot(admin, dk1), before);
    assert.ok(!before.mounts.some((m) => m.endsWith(':/host')));
  });

  test("an editor cannot mount another workspace's volume", async () => {
    const admin = new Api(plain!.url, plain!.adminToken);
    const editor = new Api(plain!.url, await plain!.token('editor', { workspace: dk1 }));
    const before = await snapshot(admin, dk1);
    const res = await patchVolumes(editor, dk1, `  ${volumeOf(other)}:\n    bind: /other\n`);
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.deepEqual(res.body.error.errors.map((e: { field: string }) => e.field), ['container_config.volumes']);
    assert.deepEqual(await snapshot(admin, dk1), before);
  });

  test('an owner token scoped to dk1 is no owner of what lies outside it', async () => {
    const admin = new Api(plain!.url, plain!.adminToken);
    const scopedOwner = new Api(plain!.url, await plain!.token('owner', { workspace: dk1 }));
    const before = await snapshot(admin, dk1);
    const res = await patchVolumes(scopedOwner, dk1, `  ${volumeOf(other)}:\n    bind: /other\n`);
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.deepEqual(await snapshot(admin, dk1), before);
  });

  test('with no allowed roots (the default) an owner cannot bind a host path either', async () => {
    const admin = new Api(plain!.url, plain!.adminToken);
    const owner = new Api(plain!.url, await plain!.token('owner'));
    const before = await snapshot(admin, dk1);
    const res = await patchVolumes(owner, dk1, `  ${allowedRoot}:\n    bind: /shared\n`);
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.deepEqual(res.body.error.errors.map((e: { field: string }) => e.field), [`container_config.volumes[${JSON.stringify(allowedRoot)}]`]);
    assert.match(res.body.error.message, /no host path may be bound on this server/);
    assert.deepEqual(await snapshot(admin, dk1), before);
  });

  test('with WSM_DOCKER_ALLOWED_BIND_ROOTS, an owner binds under the root and the container has the mount; a sibling prefix or .. is refused', async () => {
    const admin = new Api(allowing!.url, allowing!.adminToken);
    const shared = join(allowedRoot, 'shared');
    await mkdir(shared);
    await writeFile(join(shared, 'from-host.txt'), 'hello from the host\n');

    for (const [path, status] of [[`${allowedRoot}x`, 403], ['/etc', 403], [`${allowedRoot}/../etc`, 400]] as const) {
      const res = await admin.create(bound, imageConfig(TEST_IMAGE, `volumes:\n  ${path}:\n    bind: /shared\n`));
      assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal((await admin.call('GET', `/api/workspaces/${bound}`)).status, 404, 'nothing was created');
    }

    const created = await admin.create(bound, imageConfig(TEST_IMAGE, `volumes:\n  ${shared}:\n    bind: /shared\n    mode: ro\n`));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await admin.waitForStatus(bound, 'RUNNING');
    const info = await inspectContainer(bound);
    const mount = info?.Mounts.find((m) => m.Destination === '/shared');
    assert.ok(mount, `mounts: ${JSON.stringify(info?.Mounts)}`);
    assert.equal(mount.Type, 'bind');
    assert.equal(mount.Source, shared);
    assert.equal(mount.RW, false);
    assert.equal((await dockerCli('exec', `wsm-${bound}`, 'cat', '/shared/from-host.txt')).trim(), 'hello from the host');
  });
});
