// The `wsm` CLI run as a real child process against a real server on the local runtime: output
// (tables and --json), exit codes, --wait, and errors printed as the API's message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localContainerConfig, startTestServer, type TestServer } from '../support/server.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

let srv: TestServer;
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function wsm(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const childEnv: Record<string, string | undefined> = { ...process.env, WSM_URL: srv.url, WSM_TOKEN: srv.adminToken, WSM_ADMIN_TOKEN: undefined, ...env };
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: childEnv as NodeJS.ProcessEnv, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function json(run: Run): any {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** A CLI error is one readable line (plus field lines), never a stack trace. */
function assertCleanError(run: Run, code: number, message: RegExp): void {
  assert.equal(run.code, code, `expected exit ${code}, got ${run.code}: ${run.stderr}`);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

before(async () => {
  srv = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'wsm-cli-'));
});
after(async () => {
  await srv?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('wsm workspaces', () => {
  test('create --wait, then list and get as tables and as JSON', async () => {
    const cc = await file('alpha.yaml', localContainerConfig());
    const created = json(await wsm(['workspaces', 'create', 'alpha', '--container-config', cc, '--env', 'GREETING=hello=world', '--cluster-type', 'local', '--wait', '--json']));
    assert.equal(created.operation.state, 'succeeded');
    assert.equal(created.workspace.name, 'alpha');
    assert.match(created.workspace.container_config, /name: GREETING\n\s+value: hello=world/);

    const listed = json(await wsm(['workspaces', 'list', '--json']));
    const alpha = listed.workspaces.find((w: any) => w.name === 'alpha');
    assert.equal(alpha.instance.status, 'RUNNING');

    const table = await wsm(['workspaces', 'list']);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    assert.match(header!, /^NAME\s+STATUS\s+RESTARTS\s+CLUSTER\s+IMAGE\s+URL\s+LAST ACTIVITY\s+STOPS$/);
    assert.match(rows.find((r) => r.startsWith('alpha '))!, /^alpha\s+RUNNING\s+0\s+local\s+\(default\)\s+http:\/\/127\.0\.0\.1:\d+\s/);

    const got = json(await wsm(['workspaces', 'get', 'alpha', '--json']));
    assert.equal(got.name, 'alpha');
    const text = await wsm(['workspaces', 'get', 'alpha']);
    assert.match(text.stdout, /^status:\s+RUNNING$/m);
    assert.match(text.stdout, /^restarts:\s+0 \(restart_policy always\)$/m);
    assert.match(text.stdout, /^last end:\s+-$/m);
    assert.match(text.stdout, /^container_config:\n/m);
  });

  test('stop and resume with --wait print the outcome and change the workspace', async () => {
    const stop = await wsm(['workspaces', 'stop', 'alpha', '--wait']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, 'stop alpha: succeeded\n');
    assert.equal((await srv.request('GET', '/api/workspaces/alpha')).body.workspace.instance.status, 'STOPPED');
    const resumed = json(await wsm(['workspaces', 'resume', 'alpha', '--wait', '--json']));
    assert.equal(resumed.operation.action, 'resume');
    assert.equal(resumed.operation.state, 'succeeded');
    assert.equal((await srv.request('GET', '/api/workspaces/alpha')).body.workspace.instance.status, 'RUNNING');
  });

  test('without --wait an action says it was accepted and names the operation', async () => {
    const run = await wsm(['workspaces', 'stop', 'alpha']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^stop alpha: (succeeded|accepted \(operation [0-9a-f-]{36} is (pending|running); add --wait to follow it\))\n$/);
    assert.equal(json(await wsm(['workspaces', 'resume', 'alpha', '--wait', '--json'])).operation.state, 'succeeded');
  });

  test('patch sets and unsets env, and takes lifecycle config as JSON or YAML', async () => {
    const patched = json(await wsm(['workspaces', 'patch', 'alpha', '--env', 'B=2', '--unset-env', 'GREETING', '--wait', '--json']));
    assert.equal(patched.operation.state, 'succeeded');
    assert.match(patched.workspace.container_config, /name: B\n\s+value: "2"/);
    assert.doesNotMatch(patched.workspace.container_config, /GREETING/);

    const lcJson = await file('lc.json', JSON.stringify({ termination_policy: { enable_auto_termination: true, max_idle_seconds: 600 } }));
    const one = json(await wsm(['workspaces', 'patch', 'alpha', '--lifecycle-config', lcJson, '--json']));
    assert.deepEqual(one.workspace.lifecycle_config.termination_policy, { enable_auto_termination: true, max_idle_seconds: 600 });
    const lcYaml = await file('lc.yaml', 'termination_policy:\n  max_idle_seconds: 900\n');
    const two = json(await wsm(['workspaces', 'patch', 'alpha', '--lifecycle-config', lcYaml, '--sync-cluster-env', '--wait', '--json']));
    assert.deepEqual(two.workspace.lifecycle_config.termination_policy, { enable_auto_termination: true, max_idle_seconds: 900 });
    assert.equal(two.operation.state, 'succeeded');
  });

  test('a validation error prints the API message and field with exit 5', async () => {
    assertCleanError(await wsm(['workspaces', 'patch', 'alpha', '--image-tag', '!!']), 5, /^error: container_config\.image_tag: line 1: must be a tag/);
    const bad = await file('bad.yaml', 'env:\n  - name: A\n    value: b\nimagePullPolicy: Always\n');
    assertCleanError(await wsm(['workspaces', 'patch', 'alpha', '--container-config', bad]), 5, /container_config\.imagePullPolicy: line 4: is not a container_config key/);
    assertCleanError(await wsm(['workspaces', 'add-to-ingress', 'alpha']), 5, /^error: .*k8s|Kubernetes/i);
    assertCleanError(await wsm(['workspaces', 'create', 'Bad_Name']), 5, /^error: name: may contain only lower-case letters/);
  });

  test('logs prints the recent operations', async () => {
    const { operations } = json(await wsm(['workspaces', 'logs', 'alpha', '--json']));
    const actions = operations.map((o: any) => o.action);
    for (const a of ['create', 'stop', 'resume', 'patch']) assert.ok(actions.includes(a), `${a} in ${actions}`);
    const text = await wsm(['workspaces', 'logs', 'alpha', '--limit', '2']);
    assert.equal(text.stdout.trimEnd().split('\n').filter((l) => /^\d{4}-/.test(l)).length, 2);
  });

  test('delete --wait removes the workspace; then it is not found (exit 3)', async () => {
    const run = await wsm(['workspaces', 'delete', 'alpha', '--delete-volume', '--wait']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'delete alpha: succeeded\n');
    assert.equal((await srv.request('GET', '/api/workspaces/alpha')).status, 404);
    assertCleanError(await wsm(['workspaces', 'get', 'alpha']), 3, /^error: Workspace alpha does not exist\.$/m);
  });
});

describe('wsm token create', () => {
  test('prints the secret alone, and the secret works with its role', async () => {
    const run = await wsm(['token', 'create', '--role', 'viewer', '--name', 'ci', '--expires-in', '12h']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^wsm_[A-Za-z0-9_-]+\n$/);
    const who = await srv.request('GET', '/api/whoami', { token: run.stdout.trim() });
    assert.deepEqual(who.body, { actor: 'token:ci', role: 'viewer', grants: [] });
  });

  test('--json gives the whole token, with its expiry and workspace', async () => {
    const token = json(await wsm(['token', 'create', '--role', 'editor', '--workspace', 'alpha', '--expires-in', '30m', '--json']));
    assert.equal(token.role, 'editor');
    assert.equal(token.workspace, 'alpha');
    const minutes = (Date.parse(token.expires_at) - Date.parse(token.created_at)) / 60_000;
    assert.equal(minutes, 30);
    assert.match(token.secret, /^wsm_/);
  });
});

describe('exit codes', () => {
  test('a bad token exits 4; a viewer acting exits 4', async () => {
    assertCleanError(await wsm(['workspaces', 'list', '--token', 'not-a-token']), 4, /^error: The token is not valid\./);
    const viewer = await srv.token('viewer');
    const created = await srv.request('POST', '/api/workspaces', { body: { workspace: { name: 'beta', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201);
    assertCleanError(await wsm(['workspaces', 'stop', 'beta'], { WSM_TOKEN: viewer }), 4, /^error: This needs the editor role/);
  });

  test('a bad flag, a bad choice, a bad duration and an empty patch exit 2', async () => {
    assertCleanError(await wsm(['workspaces', 'list', '--bogus']), 2, /unknown option '--bogus'/);
    assertCleanError(await wsm(['token', 'create', '--role', 'king']), 2, /Allowed choices are owner, editor, viewer/);
    assertCleanError(await wsm(['token', 'create', '--role', 'viewer', '--expires-in', 'soon']), 2, /must be a duration/);
    assertCleanError(await wsm(['workspaces', 'patch', 'beta']), 2, /^error: patch needs at least one of/);
    assertCleanError(await wsm(['workspaces', 'patch', 'beta', '--env', 'NOEQUALS']), 2, /--env takes KEY=VALUE/);
  });

  test('an unreachable server exits 6', async () => {
    assertCleanError(await wsm(['workspaces', 'list', '--url', 'http://127.0.0.1:1']), 6, /^error: cannot reach the wsm server at http:\/\/127\.0\.0\.1:1/);
  });

  test('an operation that fails exits 1 with its error, after a progress line on stderr', async () => {
    // The local runtime has no quick way to make an accepted operation fail, so a small server
    // answers as wsm does when one fails (pending, then failed on the next poll).
    const opId = '7d6f1c0e-0000-4000-8000-000000000001';
    let polls = 0;
    const fake = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'PUT' && req.url === '/api/workspaces/gamma') {
        res.end(JSON.stringify({ workspace: { name: 'gamma' }, operation: { id: opId, action: 'resume', state: 'pending', error: null, attempts: 0, details: null } }));
      } else if (req.method === 'GET' && req.url === `/api/operations/${opId}`) {
        polls++;
        res.end(JSON.stringify({ operation: { id: opId, action: 'resume', state: 'failed', error: 'the process exited with code 3', attempts: 1, details: null } }));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { code: 404, type: 'not_found', message: 'no such route', errors: [] } }));
      }
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      const run = await wsm(['workspaces', 'resume', 'gamma', '--wait', '--url', url]);
      assertCleanError(run, 1, /^resume gamma: pending\nerror: resume gamma failed: the process exited with code 3\n$/);
      assert.equal(polls, 1);
      const noWait = await wsm(['workspaces', 'resume', 'gamma', '--url', url, '--json']);
      assert.equal(JSON.parse(noWait.stdout).operation.state, 'pending');
    } finally {
      fake.close();
    }
  });

  test('--help exits 0 and logs says where container logs are not', async () => {
    const run = await wsm(['workspaces', 'logs', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /recent operations/);
  });
});
