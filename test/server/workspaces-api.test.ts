// The workspace API end to end: a real server, the local runtime, real processes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv?.close();
});

async function create(name: string, extra: Record<string, unknown> = {}) {
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: localContainerConfig(), ...extra } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.workspace;
}

/** What the workspace's process serves, once it listens (RUNNING means started; listening may follow). */
async function serving(ws: { instance: { ip: string } }) {
  return eventually(async () => {
    try {
      const res = await fetch(`http://${ws.instance.ip}/`);
      return (await res.json()) as { env: Record<string, string>; cwd: string };
    } catch {
      return undefined;
    }
  }, 10_000, `${ws.instance.ip} to answer`);
}

describe('create, get, list', () => {
  test('create answers 201 with Mage fields, and the workspace runs', async () => {
    const ws = await create('alpha', { cluster_type: 'local' });
    assert.equal(ws.name, 'alpha');
    assert.equal(ws.cluster_type, 'local');
    assert.match(ws.project_uuid, /^[0-9a-f]{32}$/);
    assert.equal(typeof ws.container_config, 'string');
    assert.equal(ws.desired_state, 'running');
    assert.equal(ws.generation, 1);
    assert.deepEqual(ws.lifecycle_config.termination_policy, { enable_auto_termination: false, max_idle_seconds: 0 });
    const got = await eventually(async () => {
      const res = await srv.request('GET', '/api/workspaces/alpha');
      return res.body.workspace.instance.status === 'RUNNING' && res;
    });
    assert.match(got.headers.get('etag') ?? '', /^"\d+"$/);
    assert.match(got.body.workspace.instance.ip, /^127\.0\.0\.1:\d+$/);
    assert.equal(got.body.workspace.url, `http://${got.body.workspace.instance.ip}`);
    const served = await serving(got.body.workspace);
    assert.equal(served.env.WSM_WORKSPACE, 'alpha');
  });

  test('a duplicate name is a 409 and changes nothing', async () => {
    await create('dup');
    const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'dup', container_config: 'image: other:1' } } });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.type, 'conflict');
    const got = await srv.request('GET', '/api/workspaces/dup');
    assert.doesNotMatch(got.body.workspace.container_config, /other:1/);
  });

  test('list filters by cluster type and status, and pages', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) await create(name);
    const stopped = await srv.request('PUT', '/api/workspaces/page-b', { body: { workspace: { action: 'stop' } } });
    assert.equal(stopped.status, 200);
    const page1 = await srv.request('GET', '/api/workspaces?limit=2&offset=0&q=page-');
    assert.equal(page1.status, 200);
    assert.deepEqual(page1.body.workspaces.map((w: any) => w.name), ['page-a', 'page-b']);
    assert.equal(page1.body.metadata.count, 3);
    assert.equal(page1.body.metadata.next_offset, 2);
    const page2 = await srv.request('GET', '/api/workspaces?limit=2&offset=2&q=page-');
    assert.deepEqual(page2.body.workspaces.map((w: any) => w.name), ['page-c']);
    assert.equal(page2.body.metadata.next_offset, null);
    const onlyStopped = await srv.request('GET', '/api/workspaces?status=STOPPED&q=page-');
    assert.deepEqual(onlyStopped.body.workspaces.map((w: any) => w.name), ['page-b']);
    const docker = await srv.request('GET', '/api/workspaces?cluster_type=docker');
    assert.equal(docker.body.workspaces.length, 0);
    const local = await srv.request('GET', '/api/workspaces?cluster_type=LOCAL&q=page-');
    assert.equal(local.body.workspaces.length, 3);
    const bad = await srv.request('GET', '/api/workspaces?status=SLEEPING');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.errors[0].field, 'status');
    const badLimit = await srv.request('GET', '/api/workspaces?limit=0');
    assert.equal(badLimit.status, 400);
    assert.equal(badLimit.body.error.errors[0].field, 'limit');
  });

  test('a missing workspace is a 404 with the error body', async () => {
    const res = await srv.request('GET', '/api/workspaces/nope');
    assert.equal(res.status, 404);
    assert.deepEqual(Object.keys(res.body.error).sort(), ['code', 'errors', 'message', 'type']);
    assert.equal(res.body.error.code, 404);
  });
});

describe('actions', () => {
  test('stop stops the process, resume starts it again with its files kept', async () => {
    const ws = await create('cycle');
    const running = await eventually(async () => {
      const r = await srv.request('GET', '/api/workspaces/cycle');
      return r.body.workspace.instance.status === 'RUNNING' && r.body.workspace;
    });
    const home = (await serving(running)).cwd;
    const { writeFile, readFile } = await import('node:fs/promises');
    await writeFile(`${home}/notes.txt`, 'kept');
    const stop = await srv.request('PUT', '/api/workspaces/cycle', { body: { workspace: { action: 'stop' } } });
    assert.equal(stop.status, 200);
    assert.equal(stop.body.workspace.desired_state, 'stopped');
    assert.equal(stop.body.operation.action, 'stop');
    assert.equal(stop.body.operation.state, 'succeeded');
    assert.equal(stop.body.workspace.instance.status, 'STOPPED');
    await assert.rejects(fetch(`http://${running.instance.ip}/`));
    const resume = await srv.request('PUT', '/api/workspaces/cycle', { body: { workspace: { action: 'resume' } } });
    assert.equal(resume.status, 200);
    assert.equal(resume.body.operation.state, 'succeeded');
    assert.equal(resume.body.workspace.instance.status, 'RUNNING');
    const served = await serving(resume.body.workspace);
    assert.equal(await readFile(`${served.cwd}/notes.txt`, 'utf8'), 'kept');
    assert.equal(ws.generation, resume.body.workspace.generation, 'stop and resume do not change the spec');
  });

  test('patch merges env by name, restarts the process and bumps the generation', async () => {
    await create('patchy', { container_config: localContainerConfig('env:\n  - name: KEEP\n    value: "1"\n  - name: CHANGE\n    value: old\n') });
    const res = await srv.request('PUT', '/api/workspaces/patchy', {
      body: { workspace: { action: 'patch', container_config: 'env:\n  - name: CHANGE\n    value: new\n  - name: ADDED\n    value: yes\n' } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.workspace.generation, 2);
    assert.equal(res.body.operation.state, 'succeeded');
    const env = (await serving(res.body.workspace)).env;
    assert.equal(env.KEEP, '1');
    assert.equal(env.CHANGE, 'new');
    assert.equal(env.ADDED, 'yes');
    const removed = await srv.request('PUT', '/api/workspaces/patchy', { body: { workspace: { action: 'patch', container_config: 'unset_env: [KEEP]' } } });
    assert.equal(removed.status, 200);
    const env2 = (await serving(removed.body.workspace)).env;
    assert.equal(env2.KEEP, undefined);
    assert.equal(env2.CHANGE, 'new');
    assert.doesNotMatch(removed.body.workspace.container_config, /KEEP/);
  });

  test('patch with image_tag changes only the tag', async () => {
    await create('tagged', { container_config: localContainerConfig('image: registry.example:5000/team/mage:2025.01.01\n') });
    const res = await srv.request('PUT', '/api/workspaces/tagged', { body: { workspace: { action: 'patch', container_config: 'image_tag: 2026.06.16' } } });
    assert.equal(res.status, 200);
    assert.match(res.body.workspace.container_config, /image: registry\.example:5000\/team\/mage:2026\.06\.16/);
  });

  test('patch applies lifecycle_config', async () => {
    await create('life');
    const res = await srv.request('PUT', '/api/workspaces/life', {
      body: { workspace: { action: 'patch', lifecycle_config: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 1800 } } } },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.workspace.lifecycle_config.termination_policy, { enable_auto_termination: true, max_idle_seconds: 1800 });
    assert.ok(res.body.workspace.activity.stops_at, 'the time it will be stopped is shown');
  });

  test('update_workspace_settings refreshes the inherited cluster env; own env wins', async () => {
    const settings = await srv.request('PUT', '/api/cluster_settings', {
      body: { cluster_settings: { env: [{ name: 'DEV_ENV_A', value: 'a1' }, { name: 'OTHER', value: 'x' }, { name: 'OWN', value: 'cluster' }], inherit_patterns: ['DEV_ENV_*', 'OWN'] } },
    });
    assert.equal(settings.status, 200);
    await create('inherit', { container_config: localContainerConfig('env:\n  - name: OWN\n    value: mine\n') });
    let ws = (await eventually(async () => {
      const r = await srv.request('GET', '/api/workspaces/inherit');
      return r.body.workspace.instance.status === 'RUNNING' && r;
    })).body.workspace;
    let env = (await serving(ws)).env;
    assert.equal(env.DEV_ENV_A, 'a1');
    assert.equal(env.OTHER, undefined, 'names outside the patterns are not inherited');
    assert.equal(env.OWN, 'mine');
    await srv.request('PUT', '/api/cluster_settings', { body: { cluster_settings: { env: [{ name: 'DEV_ENV_A', value: 'a2' }, { name: 'DEV_ENV_B', value: 'b' }, { name: 'OWN', value: 'cluster' }] } } });
    const plain = await srv.request('PUT', '/api/workspaces/inherit', { body: { workspace: { action: 'patch', container_config: 'env:\n  - name: X\n    value: "1"' } } });
    env = (await serving(plain.body.workspace)).env;
    assert.equal(env.DEV_ENV_A, 'a1', 'existing workspaces do not change on their own');
    const synced = await srv.request('PUT', '/api/workspaces/inherit', { body: { workspace: { action: 'patch', update_workspace_settings: true } } });
    assert.equal(synced.status, 200);
    ws = synced.body.workspace;
    env = (await serving(ws)).env;
    assert.equal(env.DEV_ENV_A, 'a2');
    assert.equal(env.DEV_ENV_B, 'b');
    assert.equal(env.OWN, 'mine');
    await srv.request('PUT', '/api/cluster_settings', { body: { cluster_settings: { env: [], inherit_patterns: [] } } });
  });

  test('add_to_ingress on a local workspace is a 400 that says it needs Kubernetes', async () => {
    await create('noingress');
    const res = await srv.request('PUT', '/api/workspaces/noingress', { body: { workspace: { action: 'add_to_ingress' } } });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /Kubernetes/);
  });

  test('delete removes the workspace and its process', async () => {
    const ws = await create('gone');
    const running = await eventually(async () => {
      const r = await srv.request('GET', '/api/workspaces/gone');
      return r.body.workspace.instance.status === 'RUNNING' && r.body.workspace;
    });
    void ws;
    const res = await srv.request('DELETE', '/api/workspaces/gone?delete_volume=true');
    assert.equal(res.status, 200);
    assert.equal(res.body.operation.action, 'delete');
    await eventually(async () => (await srv.request('GET', '/api/workspaces/gone')).status === 404);
    await assert.rejects(fetch(`http://${running.instance.ip}/`));
  });
});

describe("the spec's curl examples, as written", () => {
  test('stop, resume, patch and the example with a repeated container_config key', async () => {
    await create('my-workspace');
    const send = (raw: string) => srv.request('PUT', '/api/workspaces/my-workspace', { rawBody: raw, headers: { 'Content-Type': 'application/json' } });
    assert.equal((await send('{\n      "workspace": {\n        "action": "stop"\n      }\n    }')).status, 200);
    assert.equal((await send('{\n      "workspace": {\n        "action": "resume"\n      }\n    }')).status, 200);
    const patch = await send('{\n      "workspace": {\n        "action": "patch",\n        "container_config": "env:\\n  - name: ENV\\n    value: test",\n        "update_workspace_settings": true\n      }\n    }');
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    const full = await send(`{
      "workspace": {
        "action": "patch",
        "container_config": "env:\\n  - name: ENV\\n    value: test",
        "lifecycle_config": {
          "termination_policy": {
            "enable_auto_termination": true,
            "max_idle_seconds": 1800
          }
        },
        "update_workspace_settings": true
      }
    }`);
    assert.equal(full.status, 200, JSON.stringify(full.body));
    const repeated = await send(`{
          "workspace": {
            "action": "patch",
            "container_config": "env:\\n  - name: ENV\\n    value: test",
            "container_config": "image_tag: 2026.06.16\\nenv:\\n  - name: ENV\\n    value: test",
            "update_workspace_settings": true
          }
        }`);
    assert.equal(repeated.status, 200, JSON.stringify(repeated.body));
    assert.match(repeated.body.workspace.container_config, /:2026\.06\.16/);
    assert.match(repeated.body.workspace.container_config, /name: ENV/);
  });
});
