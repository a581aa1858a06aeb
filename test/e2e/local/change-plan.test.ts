// The change plan on the local runtime, held to what really happened: the process restarted (a new pid)
// exactly when the plan said the patch interrupts the workspace, for every field a plan covers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startTestServer, type TestServer } from '../../support/server.js';
import { planCases, runPlanCases, type Effect } from '../../support/change-plan-cases.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ clusterType: 'local' });
});
after(async () => {
  await srv?.close();
});

/** Serves its own pid on $PORT: the process the workspace runs now. */
const script = (extra: string) => `require('http').createServer((q,s)=>s.end(String(process.pid))).listen(Number(process.env.PORT),'127.0.0.1')${extra}`;
const command = (extra = '') => JSON.stringify([process.execPath, '-e', script(extra)]);

const EXPECTED: Record<string, Effect> = {
  'container_config.image': 'none',
  'container_config.env': 'restart',
  inherited_env: 'restart',
  'container_config.resources': 'none',
  'container_config.command': 'restart',
  'container_config.args': 'restart',
  'container_config.working_dir': 'restart',
  'container_config.port': 'restart',
  'container_config.host_port': 'restart',
  'container_config.restart_policy': 'live',
  'container_config.start_timeout_seconds': 'live',
  'container_config.image_pull_policy': 'none',
  'container_config.image_pull_secrets': 'none',
  'container_config.volumes': 'none',
  'container_config.public_url': 'none',
  'container_config.service_type': 'none',
  'container_config.nodeSelector': 'none',
  'container_config.tolerations': 'none',
  'container_config.affinity': 'none',
  'container_config.labels': 'none',
  'container_config.annotations': 'none',
  'lifecycle_config.termination_policy': 'live',
  'lifecycle_config.pre_start_script_path': 'restart',
  'lifecycle_config.post_start': 'deferred',
};

test('local: every field of a patch restarts the process exactly when its plan says so', async () => {
  const name = 'plan-local';
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, cluster_type: 'local', container_config: `command: ${command()}` } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const pid = () =>
    eventually(async () => {
      const ws = (await srv.request('GET', `/api/workspaces/${name}`)).body.workspace;
      if (ws.instance.status !== 'RUNNING') return undefined;
      try {
        return await (await fetch(`http://${ws.instance.ip}/`)).text();
      } catch {
        return undefined; // started, not listening yet
      }
    }, 20_000, `${name} to serve its pid`);
  const cases = await planCases(srv, { command: command(';0'), args: '[plan-arg]', workingDir: '/plan-dir', volume: 'plan-local-extra' });
  const ran = await runPlanCases({ srv, name, cases, expected: EXPECTED, identity: pid });
  assert.deepEqual(ran.sort(), Object.keys(EXPECTED).sort(), 'every field of the plan was tried');
});
