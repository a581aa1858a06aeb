// The Docker runtime against the real engine: create, serve, stop, resume, patch, remove, adopt, exec.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerRuntime } from '../../../src/runtimes/docker/index.js';
import type { RuntimeWorkspace } from '../../../src/core/runtime.js';
import {
  TEST_IMAGE_2,
  cleanupDocker,
  dockerClient,
  dockerSkipReason,
  ensureDocker,
  httpGetText,
  newRunId,
  testRuntimeOptions,
  testWorkspace,
  uniqueName,
  waitFor,
} from '../../support/docker.js';

const runId = newRunId();

async function volumeExists(name: string): Promise<boolean> {
  try {
    await dockerClient().getVolume(name).inspect();
    return true;
  } catch {
    return false;
  }
}

async function writeFile(rt: DockerRuntime, ws: RuntimeWorkspace, path: string, text: string): Promise<void> {
  const r = await rt.exec(ws, ['sh', '-c', `printf '%s' "$0" > ${path}`, text], 30_000);
  assert.equal(r.exit_code, 0, r.output);
}

describe('DockerRuntime on a real engine: lifecycle', { skip: dockerSkipReason() }, () => {
  const rt = new DockerRuntime(testRuntimeOptions(runId));
  const name = uniqueName(runId, 'life');
  let ws = testWorkspace(name, {
    env: [{ name: 'GREETING', value: 'hello' }],
    container: { resources: { limits: { memory: '64Mi', cpu: '500m' } } },
  });

  before(async () => {
    await ensureDocker();
  });
  after(async () => {
    await rt.close();
    await cleanupDocker(runId);
  });

  let firstId = '';
  let url = '';

  test('create: RUNNING, published on 127.0.0.1, serving the volume over HTTP', async () => {
    const observed = await rt.apply(ws);
    assert.equal(observed.status, 'RUNNING');
    assert.equal(observed.instance_name, `wsm-${name}`);
    assert.equal(observed.instance_type, 'docker');
    assert.equal(observed.generation, 1);
    assert.match(observed.ip ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(observed.url, `http://${observed.ip}`);
    url = observed.url!;

    const info = await dockerClient().getContainer(`wsm-${name}`).inspect();
    firstId = info.Id;
    assert.equal(info.Config.Labels['app.kubernetes.io/managed-by'], 'wsm');
    assert.equal(info.Config.Labels.app, name);
    assert.equal(info.Config.Labels['dev-instance'], '1');
    assert.ok(info.Config.Env.includes('GREETING=hello'));
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(info.HostConfig.CpuQuota, 50_000, 'half of each 100 ms period');
    assert.equal(info.HostConfig.CpuPeriod, 100_000);
    assert.ok(info.Mounts.some((m) => m.Name === `wsm-${name}-data` && m.Destination === '/home/src'));

    await writeFile(rt, ws, '/home/src/hello.txt', 'from the volume');
    assert.equal(await httpGetText(`${url}/hello.txt`), 'from the volume');
  });

  test('apply again with nothing changed keeps the container', async () => {
    const again = await rt.apply({ ...ws, generation: 2, lifecycle: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 60 } } });
    assert.equal(again.status, 'RUNNING');
    assert.equal(again.generation, 2, 'a spec change that does not shape the container is applied without a recreate');
    assert.equal((await dockerClient().getContainer(`wsm-${name}`).inspect()).Id, firstId);
  });

  test('stop keeps the container and the volume', async () => {
    ws = { ...ws, desired: 'stopped' };
    const observed = await rt.apply(ws);
    assert.equal(observed.status, 'STOPPED');
    const info = await dockerClient().getContainer(`wsm-${name}`).inspect();
    assert.equal(info.Id, firstId);
    assert.equal(info.State.Running, false);
    assert.ok(await volumeExists(`wsm-${name}-data`));
    assert.equal((await rt.observe(ws)).status, 'STOPPED');
  });

  test('resume starts the same container with its data', async () => {
    ws = { ...ws, desired: 'running' };
    const observed = await rt.apply(ws);
    assert.equal(observed.status, 'RUNNING');
    assert.equal((await dockerClient().getContainer(`wsm-${name}`).inspect()).Id, firstId);
    assert.equal(await httpGetText(`${observed.url}/hello.txt`), 'from the volume');
  });

  test('patch of env and image recreates the container on the same volume', async () => {
    await writeFile(rt, ws, '/home/src/before-patch.txt', 'kept');
    ws = { ...ws, generation: 3, image: TEST_IMAGE_2, env: [{ name: 'GREETING', value: 'bonjour' }] };
    const observed = await rt.apply(ws);
    assert.equal(observed.status, 'RUNNING');
    assert.equal(observed.generation, 3);

    const info = await dockerClient().getContainer(`wsm-${name}`).inspect();
    assert.notEqual(info.Id, firstId, 'the container was recreated');
    assert.equal(info.Config.Image, TEST_IMAGE_2);
    assert.ok(info.Config.Env.includes('GREETING=bonjour'));
    assert.ok(!info.Config.Env.includes('GREETING=hello'));
    assert.equal(info.Config.Labels['wsm.generation'], '3');

    const version = await rt.exec(ws, ['cat', '/VERSION'], 30_000);
    assert.equal(version.output.trim(), '2');
    const greeting = await rt.exec(ws, ['sh', '-c', 'echo $GREETING'], 30_000);
    assert.equal(greeting.output.trim(), 'bonjour');
    assert.equal(await httpGetText(`${observed.url}/before-patch.txt`), 'kept');
  });

  test('exec returns output, exit code and times out', async () => {
    const r = await rt.exec(ws, ['sh', '-c', 'echo out; echo err >&2; exit 3'], 30_000);
    assert.equal(r.exit_code, 3);
    assert.match(r.output, /out/);
    assert.match(r.output, /err/);
    assert.equal(r.timed_out, false);
    const slow = await rt.exec(ws, ['sleep', '30'], 500);
    assert.equal(slow.timed_out, true);
  });

  test('a new runtime instance adopts the existing containers', async () => {
    const other = uniqueName(runId, 'adopt');
    await rt.apply(testWorkspace(other, { desired: 'stopped' }));
    const fresh = new DockerRuntime(testRuntimeOptions(runId));
    try {
      assert.deepEqual(await fresh.listInstances(), [name, other].sort());
      const seen = await fresh.observe(ws);
      assert.equal(seen.status, 'RUNNING');
      assert.equal(seen.ip, (await rt.observe(ws)).ip);
      assert.equal((await fresh.observe(testWorkspace(other, { desired: 'stopped' }))).status, 'STOPPED');
    } finally {
      await fresh.close();
    }
    await rt.remove(testWorkspace(other), { deleteVolume: true });
  });

  test('remove without the volume keeps the data; removing again with it deletes the volume', async () => {
    await rt.remove(ws, { deleteVolume: false });
    const gone = await rt.observe(ws);
    assert.equal(gone.status, 'UNAVAILABLE');
    assert.equal(gone.message, `container wsm-${name} not found`);
    assert.ok(await volumeExists(`wsm-${name}-data`));

    // A workspace made again on the kept volume finds its files.
    const back = await rt.apply(ws);
    assert.equal(await httpGetText(`${back.url}/before-patch.txt`), 'kept');

    await rt.remove(ws, { deleteVolume: true });
    await rt.remove(ws, { deleteVolume: true });
    assert.equal(await volumeExists(`wsm-${name}-data`), false);
    assert.deepEqual(await waitFor('no instances left', async () => {
      const left = await rt.listInstances();
      return left.length === 0 ? left : undefined;
    }), []);
  });
});
