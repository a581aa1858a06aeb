// `wsm workspaces patch --dry-run`, run as a real child process against a real server: it prints the plan
// (or the plan as JSON) and the workspace is left as it was.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually, localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let srv: TestServer;

function wsm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, WSM_URL: srv.url, WSM_TOKEN: srv.adminToken };
  delete env.WSM_ADMIN_TOKEN;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

before(async () => {
  srv = await startTestServer();
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'cli-plan', cluster_type: 'local', container_config: localContainerConfig() } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await eventually(async () => (await srv.request('GET', '/api/workspaces/cli-plan')).body.workspace.instance.status === 'RUNNING');
});
after(async () => {
  await srv?.close();
});

test('patch --dry-run prints the plan per field and the resulting container_config, and changes nothing', async () => {
  const before = (await srv.request('GET', '/api/workspaces/cli-plan')).body.workspace;
  const run = await wsm(['workspaces', 'patch', 'cli-plan', '--env', 'PLANNED=1', '--dry-run']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^cli-plan \(local\): 1 field changes; the workspace is interrupted: this restarts the process\./);
  assert.match(run.stdout, /FIELD\s+EFFECT\s+WHAT HAPPENS\ncontainer_config\.env\s+restart\s+restarts the process/);
  assert.match(run.stdout, /container_config after the patch:\n(.|\n)*name: PLANNED\n\s+value: "1"/);
  assert.match(run.stdout, /dry run: nothing was changed\.\n$/);

  const asJson = await wsm(['workspaces', 'patch', 'cli-plan', '--env', 'PLANNED=1', '--dry-run', '--json']);
  assert.equal(asJson.code, 0, asJson.stderr);
  const parsed = JSON.parse(asJson.stdout);
  assert.deepEqual(parsed.plan.changes.map((c: any) => [c.field, c.effect]), [['container_config.env', 'restart']]);

  const after = (await srv.request('GET', '/api/workspaces/cli-plan')).body.workspace;
  assert.deepEqual([after.resource_version, after.generation, after.container_config], [before.resource_version, before.generation, before.container_config]);
  assert.equal((await srv.request('GET', '/api/workspaces/cli-plan/operations')).body.operations.length, 1, 'only the create');

  const real = await wsm(['workspaces', 'patch', 'cli-plan', '--env', 'PLANNED=1', '--wait']);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stdout, /^plan: 1 field changes; the workspace is interrupted: this restarts the process\.\npatch cli-plan: succeeded\n$/);
});
