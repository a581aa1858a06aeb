// Every rejection names the field, says what is allowed, uses the right status, and changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
let before1: { generation: number; resource_version: number; container_config: string; lifecycle_config: unknown };

before(async () => {
  srv = await startTestServer();
  await mkdir(join(srv.hooksDir, 'ok'), { recursive: true });
  await writeFile(join(srv.hooksDir, 'ok', 'pre.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  await writeFile(join(srv.dataDir, 'secret.sh'), '#!/bin/sh\n', { mode: 0o755 });
  await symlink(join(srv.dataDir, 'secret.sh'), join(srv.hooksDir, 'escape.sh'));
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'target', container_config: localContainerConfig('env:\n  - name: A\n    value: "1"\n') } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  before1 = res.body.workspace;
});
after(async () => {
  await srv?.close();
});

async function assertUnchanged() {
  const res = await srv.request('GET', '/api/workspaces/target');
  assert.equal(res.body.workspace.generation, before1.generation);
  assert.equal(res.body.workspace.resource_version, before1.resource_version);
  assert.equal(res.body.workspace.container_config, before1.container_config);
  assert.deepEqual(res.body.workspace.lifecycle_config, before1.lifecycle_config);
}

function put(body: unknown) {
  return srv.request('PUT', '/api/workspaces/target', { body });
}

const cases: { name: string; body: unknown; status?: number; field: string | RegExp; message?: RegExp }[] = [
  { name: 'unknown action', body: { workspace: { action: 'explode' } }, field: 'action', message: /stop.*resume.*patch.*add_to_ingress/ },
  { name: 'missing action', body: { workspace: {} }, field: 'action' },
  { name: 'no workspace envelope', body: { action: 'stop' }, field: /^(workspace|action)$/ },
  { name: 'a field the action does not take', body: { workspace: { action: 'stop', container_config: 'env: []' } }, field: 'container_config', message: /patch/ },
  { name: 'update_workspace_settings of the wrong type', body: { workspace: { action: 'patch', update_workspace_settings: 'yes' } }, field: 'update_workspace_settings', message: /boolean/ },
  { name: 'an unknown field', body: { workspace: { action: 'patch', colour: 'red' } }, field: 'colour' },
  { name: 'YAML that does not parse', body: { workspace: { action: 'patch', container_config: 'env:\n  - name: A\n    value: [unclosed\n' } }, field: /^container_config/, message: /line \d+/ },
  { name: 'an unknown container_config key', body: { workspace: { action: 'patch', container_config: 'env: []\nmemory_limit: 2G\n' } }, field: 'container_config.memory_limit', message: /line 2/ },
  { name: 'a bad env name', body: { workspace: { action: 'patch', container_config: 'env:\n  - name: 1BAD-NAME\n    value: x\n' } }, field: /^container_config\.env\[0\]\.name$/ },
  { name: 'a bad resource quantity', body: { workspace: { action: 'patch', container_config: 'resources:\n  limits:\n    memory: lots\n' } }, field: /^container_config\.resources\.limits\.memory$/ },
  // container_config as a JSON object: held to the shape the API document shows, every field at fault named.
  { name: 'a JSON container_config with a quantity of the wrong type', body: { workspace: { action: 'patch', container_config: { resources: { limits: { cpu: [2] } } } } }, field: 'container_config.resources.limits.cpu', message: /must be a Kubernetes quantity such as 500m.*not a list/ },
  { name: 'a JSON container_config with a key resources does not have', body: { workspace: { action: 'patch', container_config: { resources: { limit: { cpu: '1' } } } } }, field: 'container_config.resources.limit', message: /limits and requests/ },
  { name: 'a JSON container_config with an unknown key', body: { workspace: { action: 'patch', container_config: { memory_limit: '2G' } } }, field: 'container_config.memory_limit', message: /is not a container_config key; the allowed keys are image, env/ },
  { name: 'a JSON container_config with a port out of range', body: { workspace: { action: 'patch', container_config: { port: 70000 } } }, field: 'container_config.port', message: /whole number from 1 to 65535/ },
  { name: 'a JSON container_config env entry without a value', body: { workspace: { action: 'patch', container_config: { env: [{ name: 'A', value: 'x' }, { name: 'B' }] } } }, field: 'container_config.env[1].value', message: /unset_env/ },
  { name: 'container_config neither text nor a mapping', body: { workspace: { action: 'patch', container_config: [1, 2] } }, field: 'container_config', message: /mapping/ },
  { name: 'a YAML container_config of the wrong shape, with the line', body: { workspace: { action: 'patch', container_config: 'env: []\nresources:\n  limits:\n    cpu: [2]\n' } }, field: 'container_config.resources.limits.cpu', message: /line 4: must be a Kubernetes quantity/ },
  { name: 'max_idle_seconds out of range', body: { workspace: { action: 'patch', lifecycle_config: { termination_policy: { enable_auto_termination: true, max_idle_seconds: -5 } } } }, field: 'lifecycle_config.termination_policy.max_idle_seconds' },
  { name: 'enable_auto_termination of the wrong type', body: { workspace: { action: 'patch', lifecycle_config: { termination_policy: { enable_auto_termination: 'yes' } } } }, field: 'lifecycle_config.termination_policy.enable_auto_termination' },
  { name: 'a script path escaping the hooks dir with ..', body: { workspace: { action: 'patch', lifecycle_config: { pre_start_script_path: '../secret.sh' } } }, field: 'lifecycle_config.pre_start_script_path' },
  { name: 'a script path escaping through a symlink', body: { workspace: { action: 'patch', lifecycle_config: { pre_start_script_path: 'escape.sh' } } }, field: 'lifecycle_config.pre_start_script_path', message: /symlink|outside/ },
  { name: 'an absolute script path outside the hooks dir', body: { workspace: { action: 'patch', lifecycle_config: { post_start: { hook_path: '/etc/passwd' } } } }, field: 'lifecycle_config.post_start.hook_path' },
  { name: 'a script that does not exist', body: { workspace: { action: 'patch', lifecycle_config: { pre_start_script_path: 'ok/missing.sh' } } }, field: 'lifecycle_config.pre_start_script_path' },
];

describe('PUT rejections', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const res = await put(c.body);
      assert.equal(res.status, c.status ?? 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, res.status);
      assert.ok(res.body.error.message.length > 0);
      const fields = res.body.error.errors.map((e: { field: string }) => e.field);
      assert.ok(
        fields.some((f: string) => (typeof c.field === 'string' ? f === c.field : c.field.test(f))),
        `expected field ${c.field} in ${JSON.stringify(res.body.error.errors)}`,
      );
      if (c.message) assert.match(JSON.stringify(res.body.error), c.message);
      await assertUnchanged();
    });
  }

  test('a valid script path inside the hooks dir is accepted', async () => {
    const res = await put({ workspace: { action: 'patch', lifecycle_config: { pre_start_script_path: 'ok/pre.sh' } } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.workspace.lifecycle_config.pre_start_script_path, 'ok/pre.sh');
    const undo = await put({ workspace: { action: 'patch', lifecycle_config: { pre_start_script_path: null } } });
    assert.equal(undo.status, 200, JSON.stringify(undo.body));
    before1 = undo.body.workspace;
  });

  test('a body that is not JSON is a 400', async () => {
    const res = await srv.request('PUT', '/api/workspaces/target', { rawBody: '{"workspace": ', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.type, 'invalid_request');
    await assertUnchanged();
  });

  test('a body that is not application/json is a 415', async () => {
    const res = await srv.request('PUT', '/api/workspaces/target', { rawBody: 'action=stop', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(res.status, 415);
    await assertUnchanged();
  });

  test('a body over the limit is a 413', async () => {
    const res = await put({ workspace: { action: 'patch', container_config: `# ${'x'.repeat(2 * 1024 * 1024)}` } });
    assert.equal(res.status, 413);
    await assertUnchanged();
  });

  test('acting on a missing workspace is a 404', async () => {
    const res = await srv.request('PUT', '/api/workspaces/missing', { body: { workspace: { action: 'stop' } } });
    assert.equal(res.status, 404);
  });
});

describe('POST rejections', () => {
  const bad: { name: string; workspace: Record<string, unknown>; field: string }[] = [
    { name: 'no name', workspace: {}, field: 'name' },
    { name: 'an upper-case name', workspace: { name: 'Bad_Name' }, field: 'name' },
    { name: 'a name too long for <name>-service', workspace: { name: 'a'.repeat(56) }, field: 'name' },
    { name: 'an unknown cluster type', workspace: { name: 'okname', cluster_type: 'mesos' }, field: 'cluster_type' },
    { name: 'a cluster type this server does not run', workspace: { name: 'okname', cluster_type: 'k8s' }, field: 'cluster_type' },
    { name: 'a bad storage access mode', workspace: { name: 'okname', storage_access_mode: 'Sometimes' }, field: 'storage_access_mode' },
    { name: 'a bad retention policy', workspace: { name: 'okname', pvc_retention_policy: 'Forever' }, field: 'pvc_retention_policy' },
    { name: 'an unknown field', workspace: { name: 'okname', flavour: 'vanilla' }, field: 'flavour' },
    { name: 'container_config of the wrong type', workspace: { name: 'okname', container_config: 42 }, field: 'container_config' },
  ];
  for (const c of bad) {
    test(c.name, async () => {
      const res = await srv.request('POST', '/api/workspaces', { body: { workspace: c.workspace } });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      const fields = res.body.error.errors.map((e: { field: string }) => e.field);
      assert.ok(fields.includes(c.field), `expected ${c.field} in ${JSON.stringify(res.body.error.errors)}`);
      const list = await srv.request('GET', '/api/workspaces?q=okname');
      assert.equal(list.body.workspaces.length, 0, 'nothing was created');
    });
  }
});
