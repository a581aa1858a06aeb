// One Docker workspace through its whole life, driven only through the HTTP API and checked on the
// real engine: create, stop, resume, patch (env and image tag, data surviving), add_to_ingress
// refused, delete keeping the volume, then delete with it. The cases share the workspace, in order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';
import { TEST_IMAGE, TEST_IMAGE_2, dockerCli, dockerSkipReason, ensureDocker, httpGet, waitFor } from '../../support/docker.js';
import { Api, e2eName, imageConfig, inspectContainer, removeWorkspaceObjects, served, volumeExists, volumeOf } from './helpers.js';

const name = e2eName('life');
let server: TestServer | undefined;
let api: Api;

describe('a Docker workspace through the HTTP API', { skip: dockerSkipReason() }, () => {
  before(async () => {
    await ensureDocker();
    server = await startTestServer({ clusterType: 'docker' });
    api = new Api(server.url, server.adminToken);
  });

  after(async () => {
    await server?.close().catch(() => undefined);
    await removeWorkspaceObjects([name]);
  });

  let firstContainerId = '';

  test('create: container, labels, volume, env and a published port that serves HTTP', async () => {
    const created = await api.create(name, imageConfig(TEST_IMAGE, 'env:\n  - name: GREETING\n    value: hello\n'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const ws = await api.waitForStatus(name, 'RUNNING');
    assert.equal(ws.cluster_type, 'docker');
    assert.equal(ws.last_operation.action, 'create');
    assert.equal(ws.last_operation.state, 'succeeded');

    const info = await inspectContainer(name);
    assert.ok(info, 'the container wsm-<name> exists');
    firstContainerId = info.Id;
    assert.equal(info.Name, `/wsm-${name}`);
    assert.equal(info.Config.Image, TEST_IMAGE);
    assert.equal(info.Config.Labels.app, name);
    assert.equal(info.Config.Labels['dev-instance'], '1');
    assert.equal(info.Config.Labels['app.kubernetes.io/managed-by'], 'wsm');
    assert.ok(info.Config.Env.includes('GREETING=hello'), `env: ${info.Config.Env.join(' ')}`);
    const mount = info.Mounts.find((m) => m.Destination === '/home/src');
    assert.ok(mount, 'a mount at /home/src');
    assert.equal(mount.Type, 'volume');
    assert.equal(mount.Name, volumeOf(name));
    const bindings = info.HostConfig.PortBindings?.['6789/tcp'] ?? [];
    assert.equal(bindings[0]?.HostIp, '127.0.0.1', 'published on loopback only');
    const hostPort = info.NetworkSettings.Ports['6789/tcp']?.[0]?.HostPort;
    assert.ok(hostPort, 'the engine picked a host port');

    assert.equal(ws.instance.ip, `127.0.0.1:${hostPort}`);
    assert.equal(ws.url, `http://127.0.0.1:${hostPort}`);
    await dockerCli('exec', `wsm-${name}`, 'sh', '-c', 'echo before-patch > /home/src/marker.txt');
    assert.equal((await served(ws.url, '/marker.txt')).trim(), 'before-patch');
    assert.equal((await served(`http://${ws.instance.ip}`, '/marker.txt')).trim(), 'before-patch', 'instance.ip serves too');
  });

  test('stop: the container exits and is kept with its volume; the status is STOPPED', async () => {
    const res = await api.act(name, 'stop');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.workspace.desired_state, 'stopped');
    const ws = await api.waitForStatus(name, 'STOPPED');
    await api.waitForOperation(res.body.operation.id, 'succeeded');
    assert.equal(ws.url, null, 'a stopped workspace has no url');
    const info = await inspectContainer(name);
    assert.ok(info, 'the container is kept');
    assert.equal(info.Id, firstContainerId);
    assert.equal(info.State.Status, 'exited');
    assert.ok(await volumeExists(name), 'the volume is kept');
  });

  test('resume: the same container runs again and serves the data', async () => {
    const res = await api.act(name, 'resume');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const ws = await api.waitForStatus(name, 'RUNNING');
    await api.waitForOperation(res.body.operation.id, 'succeeded');
    const info = await inspectContainer(name);
    assert.equal(info?.Id, firstContainerId, 'resumed, not recreated');
    assert.equal(info?.State.Status, 'running');
    assert.equal((await served(ws.url, '/marker.txt')).trim(), 'before-patch');
  });

  test('patch env and image_tag: recreated from :2 with the new env, the volume survives', async () => {
    const res = await api.act(name, 'patch', {
      container_config: 'image_tag: "2"\nenv:\n  - name: GREETING\n    value: bonjour\n  - name: ADDED\n    value: yes-added\n',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const op = await api.waitForOperation(res.body.operation.id, 'succeeded');
    assert.equal(op.action, 'patch');
    const ws = await api.waitFor(name, 'the patched generation to run', (w) => w.instance.status === 'RUNNING' && w.observed_generation === w.generation);
    assert.match(ws.container_config, /wsm-test\/busybox:2/);

    const info = await inspectContainer(name);
    assert.ok(info);
    assert.notEqual(info.Id, firstContainerId, 'the container was recreated');
    assert.equal(info.Config.Image, TEST_IMAGE_2);
    assert.ok(info.Config.Env.includes('GREETING=bonjour'), `env: ${info.Config.Env.join(' ')}`);
    assert.ok(info.Config.Env.includes('ADDED=yes-added'), `env: ${info.Config.Env.join(' ')}`);
    assert.equal(info.Mounts.find((m) => m.Destination === '/home/src')?.Name, volumeOf(name));
    assert.equal(await dockerCli('exec', `wsm-${name}`, 'cat', '/VERSION'), '2', 'runs image :2');
    assert.equal((await served(ws.url, '/marker.txt')).trim(), 'before-patch', 'the file written before the patch survived');
  });

  test('add_to_ingress is a 400 that says it needs Kubernetes, and changes nothing', async () => {
    const before = await api.get(name);
    const res = await api.act(name, 'add_to_ingress');
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error.message, /kubernetes/i);
    const after = await api.get(name);
    assert.equal(after.generation, before.generation);
    assert.equal(after.ingress_enabled, false);
    assert.equal(after.instance.status, 'RUNNING');
  });

  test('delete without delete_volume removes the container and keeps the data', async () => {
    const url = (await api.get(name)).url as string;
    const res = await api.call('DELETE', `/api/workspaces/${name}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await waitFor('the workspace to be gone from the API', async () => ((await api.call('GET', `/api/workspaces/${name}`)).status === 404 ? true : undefined));
    assert.equal(await inspectContainer(name), undefined, 'the container is removed');
    assert.ok(await volumeExists(name), 'the volume is kept');
    await assert.rejects(httpGet(url + '/marker.txt', 2_000), 'nothing serves the old url');

    // A workspace created again with the same name finds its data.
    const again = await api.create(name, imageConfig(TEST_IMAGE));
    assert.equal(again.status, 201, JSON.stringify(again.body));
    const ws = await api.waitForStatus(name, 'RUNNING');
    assert.equal((await served(ws.url, '/marker.txt')).trim(), 'before-patch');
  });

  test('delete with delete_volume=true removes the container and the volume', async () => {
    const res = await api.call('DELETE', `/api/workspaces/${name}?delete_volume=true`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await waitFor('the workspace to be gone from the API', async () => ((await api.call('GET', `/api/workspaces/${name}`)).status === 404 ? true : undefined));
    assert.equal(await inspectContainer(name), undefined, 'the container is removed');
    assert.equal(await volumeExists(name), false, 'the volume is removed');
  });
});
