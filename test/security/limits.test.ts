// Regression tests for item 5 (values accepted, then failing at runtime, destroying a running workspace)
// and the YAML-tag part of item 9. Real `wsm serve` on the real Docker engine: every bad value is a 400
// naming the field, and the running container is the same container, still running, afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { TEST_IMAGE, dockerSkipReason, ensureDocker } from '../support/docker.js';
import { Api, e2eName, imageConfig, inspectContainer, removeWorkspaceObjects } from '../e2e/docker/helpers.js';

const name = e2eName('lim');
const never = e2eName('never');
let server: TestServer | undefined;
let api: Api;

async function snapshot() {
  const info = await inspectContainer(name);
  assert.ok(info, 'the container exists');
  const ws = await api.get(name);
  return { id: info.Id, running: info.State.Running, env: info.Config.Env, cpuQuota: info.HostConfig.CpuQuota, memory: info.HostConfig.Memory, generation: ws.generation, status: ws.instance.status, config: ws.container_config };
}

/** A patch that must be refused with 400 naming `field`, leaving the workspace and its container as they were. */
async function refused(containerConfig: string, field: string, line?: number) {
  const before = await snapshot();
  const res = await api.act(name, 'patch', { container_config: containerConfig });
  assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 500));
  assert.equal(res.body.error.type, 'validation_error');
  const first = res.body.error.errors[0];
  assert.equal(first.field, field, JSON.stringify(res.body.error.errors).slice(0, 500));
  if (line !== undefined) assert.equal(first.line, line);
  assert.deepEqual(await snapshot(), before, 'nothing changed');
  assert.equal(before.running, true);
}

describe('bounded values on a running Docker workspace', { skip: dockerSkipReason() }, () => {
  before(async () => {
    await ensureDocker();
    server = await startTestServer({ clusterType: 'docker' });
    api = new Api(server.url, server.adminToken);
    const created = await api.create(name, imageConfig(TEST_IMAGE, 'env:\n  - name: KEEP\n    value: me\nresources:\n  limits:\n    cpu: 500m\n    memory: 64Mi\n'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await api.waitForStatus(name, 'RUNNING');
  });

  after(async () => {
    await server?.close().catch(() => undefined);
    await removeWorkspaceObjects([name, never]);
  });

  test('cpu: 1e309 is a 400 naming resources.limits.cpu', async () => {
    await refused('resources:\n  limits:\n    cpu: 1e309\n', 'container_config.resources.limits.cpu', 3);
  });

  test('memory: 99999999999999999999999999999Ei is a 400 naming resources.limits.memory', async () => {
    await refused('resources:\n  limits:\n    memory: 99999999999999999999999999999Ei\n', 'container_config.resources.limits.memory', 3);
  });

  test('a 900 KB env value is a 400 naming the value', async () => {
    await refused(`env:\n  - name: HUGE\n    value: ${'x'.repeat(900_000)}\n`, 'container_config.env[0].value', 3);
  });

  test('env that only together passes 128 KiB is a 400 naming env', async () => {
    const env = Array.from({ length: 3 }, (_, i) => `  - name: PART${i}\n    value: ${'y'.repeat(50_000)}\n`).join('');
    await refused(`env:\n${env}`, 'container_config.env');
  });

  test('a YAML tag is a 400 naming its line, and nothing of the config is stored', async () => {
    await refused('image_tag: "2"\nenv:\n  - name: PWNED\n    value: !!python/object/apply:os.system ["id"]\n', 'container_config', 4);
  });

  test('storage_request_size: 1e308 on create is a 400 and nothing is created', async () => {
    const res = await api.call('POST', '/api/workspaces', { workspace: { name: never, cluster_type: 'docker', container_config: imageConfig(TEST_IMAGE), storage_request_size: 1e308 } });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.errors[0].field, 'storage_request_size');
    assert.equal((await api.call('GET', `/api/workspaces/${never}`)).status, 404);
    assert.equal(await inspectContainer(never), undefined);
  });

  test('a CPU limit above the engine\'s CPU count is taken, and the workspace runs with it', async () => {
    const res = await api.act(name, 'patch', { container_config: 'resources:\n  limits:\n    cpu: 200\n' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await api.waitForOperation(res.body.operation.id, 'succeeded');
    await api.waitForStatus(name, 'RUNNING');
    const info = await inspectContainer(name);
    assert.equal(info?.State.Running, true);
    assert.equal(info?.HostConfig.CpuQuota, 20_000_000);
    assert.ok(info?.Config.Env.includes('KEEP=me'));
  });
});
