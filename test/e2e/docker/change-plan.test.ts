// The change plan on Docker, held to what the engine really did: the container was recreated (a new
// container id) exactly when the plan said the patch interrupts the workspace, for every field a plan covers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';
import { TEST_IMAGE, dockerClient, dockerSkipReason, ensureDocker } from '../../support/docker.js';
import { planCases, runPlanCases, type Effect } from '../../support/change-plan-cases.js';
import { Api, e2eName, imageConfig, inspectContainer, removeWorkspaceObjects } from './helpers.js';

const name = e2eName('plan');
const extraVolume = `${name}-extra`;
let srv: TestServer | undefined;

before(async () => {
  if (dockerSkipReason()) return;
  await ensureDocker();
  srv = await startTestServer({ clusterType: 'docker' });
});
after(async () => {
  await srv?.close().catch(() => undefined);
  await removeWorkspaceObjects([name]);
  await dockerClient().getVolume(extraVolume).remove().catch(() => undefined);
});

const EXPECTED: Record<string, Effect> = {
  'container_config.image': 'recreate',
  'container_config.env': 'recreate',
  inherited_env: 'recreate',
  'container_config.resources': 'recreate',
  'container_config.command': 'recreate',
  'container_config.args': 'recreate',
  'container_config.working_dir': 'recreate',
  'container_config.port': 'recreate',
  'container_config.host_port': 'recreate',
  'container_config.restart_policy': 'live',
  'container_config.start_timeout_seconds': 'live',
  'container_config.image_pull_policy': 'deferred',
  'container_config.image_pull_secrets': 'none',
  'container_config.volumes': 'recreate',
  'container_config.public_url': 'live',
  'container_config.service_type': 'none',
  'container_config.nodeSelector': 'none',
  'container_config.tolerations': 'none',
  'container_config.affinity': 'none',
  'container_config.labels': 'recreate',
  'container_config.annotations': 'none',
  'lifecycle_config.termination_policy': 'live',
  'lifecycle_config.pre_start_script_path': 'recreate',
  'lifecycle_config.post_start': 'deferred',
};

test('docker: every field of a patch recreates the container exactly when its plan says so', { skip: dockerSkipReason() }, async () => {
  const api = new Api(srv!.url, srv!.adminToken);
  const created = await api.create(name, imageConfig(TEST_IMAGE));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await api.waitForStatus(name, 'RUNNING');
  const containerId = async () => {
    const info = await inspectContainer(name);
    assert.ok(info, `container of ${name}`);
    assert.equal(info.State.Status, 'running', `${name} runs`);
    return info.Id;
  };
  // A dry run leaves the container alone; it only says what the real patch will do.
  const first = await containerId();
  const dry = await api.act(name, 'patch', { dry_run: true, container_config: 'image: wsm-test/busybox:2' });
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  assert.deepEqual([dry.body.plan.effect, dry.body.plan.interrupts, dry.body.operation], ['recreate', true, null]);
  assert.equal(await containerId(), first, 'the dry run recreated nothing');
  assert.equal((await inspectContainer(name))?.Config.Image, TEST_IMAGE);

  const cases = await planCases(srv!, {
    command: '[httpd, -f, -p, "6789", -h, /home/src]',
    args: '[-v]',
    workingDir: '/tmp',
    volume: extraVolume,
  });
  const ran = await runPlanCases({
    srv: srv!,
    name,
    cases,
    expected: EXPECTED,
    identity: containerId,
    after: async (field) => {
      // "live" is a promise too: the new address is what the workspace shows, with the same container.
      if (field === 'container_config.public_url') assert.equal((await api.get(name)).url, 'http://plan.example.test/ws');
    },
  });
  assert.deepEqual(ran.sort(), Object.keys(EXPECTED).sort(), 'every field of the plan was tried');
});
