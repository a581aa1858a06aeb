// The built `wsm` command (bin/wsm.js over dist/) run as a child process against a real `wsm serve`
// process on the local runtime: global flags, output formats, standard input, errors that name the
// flag, --wait on a terminal and piped, logs, delete, tokens and exit codes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { childEnv, deleteAllWorkspaces, runWsm, startServeProcess, WSM_BIN, type Run, type ServeProcess } from '../support/built-cli.js';
import { localContainerConfig, request } from '../support/server.js';

let srv: ServeProcess;
let owner: string;
let dir: string;

/** A command as a user with the owner token in WSM_TOKEN would run it. */
function wsm(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<Run> {
  return runWsm(args, { env: { WSM_URL: srv.url, WSM_TOKEN: owner, WSM_ADMIN_TOKEN: undefined, WSM_DATA_DIR: undefined, ...env }, input, cwd: dir });
}

const api = (method: string, path: string, body?: unknown) => request(srv.url, method, path, { defaultToken: owner, body });

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
  dir = await mkdtemp(join(tmpdir(), 'wsm-cli-'));
  srv = await startServeProcess(join(dir, 'data'), { WSM_ACTION_WAIT_MS: '100' });
  owner = srv.ownerToken();
});
after(async () => {
  if (srv) {
    await deleteAllWorkspaces(srv.url, owner).catch(() => {});
    await srv.stop();
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('wsm workspaces', () => {
  test('global flags go before the subcommand as well as after it', async () => {
    const before = json(await runWsm(['--url', srv.url, '--token', owner, '-o', 'json', 'workspaces', 'list'], { env: { WSM_URL: undefined, WSM_TOKEN: undefined }, cwd: dir }));
    assert.deepEqual(before, { workspaces: [] });
    const afterward = json(await runWsm(['ws', 'list', '--url', srv.url, '--token', owner, '--json'], { env: { WSM_URL: undefined, WSM_TOKEN: undefined }, cwd: dir }));
    assert.deepEqual(afterward, before);
    assertCleanError(await runWsm(['--url', 'http://127.0.0.1:1', 'ws', 'list'], { cwd: dir }), 6, /cannot reach the wsm server at http:\/\/127\.0\.0\.1:1/);
  });

  test('create reads --container-config - from standard input; --wait piped prints only the outcome', async () => {
    const created = await wsm(['workspaces', 'create', 'alpha', '--container-config', '-', '--env', 'GREETING=hello=world', '--cluster-type', 'local', '--wait'], {}, localContainerConfig('env:\n  - name: FROM_STDIN\n    value: "yes"\n'));
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, 'create alpha: succeeded\n');
    assert.equal(created.stderr, '', 'nothing on stderr when not on a terminal');
    const ws = (await api('GET', '/api/workspaces/alpha')).body.workspace;
    assert.equal(ws.instance.status, 'RUNNING');
    assert.match(ws.container_config, /name: FROM_STDIN\n\s+value: "?yes"?\n/);
    assert.match(ws.container_config, /name: GREETING\n\s+value: hello=world/);
  });

  test('list and get print a table, -o wide, -o name, -o json and -o yaml', async () => {
    const table = await wsm(['workspaces', 'list']);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    assert.match(header!, /^NAME\s+STATUS\s+RESTARTS\s+CLUSTER\s+IMAGE\s+URL\s+LAST ACTIVITY\s+STOPS$/);
    assert.match(rows.find((r) => r.startsWith('alpha '))!, /^alpha\s+RUNNING\s+0\s+local\s+\(default\)\s+http:\/\/127\.0\.0\.1:\d+\s/);

    const wide = await wsm(['ws', 'list', '-o', 'wide']);
    assert.match(wide.stdout.split('\n')[0]!, /\sSTOPS\s+DESIRED\s+GENERATION\s+IP\s+MESSAGE$/);
    assert.match(wide.stdout, /^alpha\s+RUNNING\s.*\srunning\s+1\/1\s/m);

    assert.equal((await wsm(['ws', 'list', '-o', 'name'])).stdout, 'alpha\n');
    assert.equal(json(await wsm(['ws', 'list', '-o', 'json'])).workspaces[0].name, 'alpha');
    const yaml = await wsm(['ws', 'list', '-o', 'yaml']);
    assert.equal(parse(yaml.stdout).workspaces[0].instance.status, 'RUNNING');

    assert.equal(json(await wsm(['workspaces', 'get', 'alpha', '-o', 'json'])).name, 'alpha');
    assert.equal(parse((await wsm(['ws', 'get', 'alpha', '-o', 'yaml'])).stdout).name, 'alpha');
    assert.equal((await wsm(['ws', 'get', 'alpha', '-o', 'name'])).stdout, 'alpha\n');
    const text = await wsm(['workspaces', 'get', 'alpha']);
    assert.match(text.stdout, /^status:\s+RUNNING$/m);
    assert.match(text.stdout, /^restarts:\s+0 \(restart_policy always\)$/m);
    assert.match(text.stdout, /^last end:\s+-$/m);
    assert.match(text.stdout, /^container_config:\n/m);

    assertCleanError(await wsm(['ws', 'list', '-o', 'xml']), 2, /Allowed choices are json, yaml, wide, name/);
    assertCleanError(await wsm(['ws', 'logs', 'alpha', '-o', 'wide']), 2, /^error: -o wide is not an output of this command; it prints text \(the default\), json, yaml$/m);
    assertCleanError(await wsm(['ws', 'list', '--json', '-o', 'yaml']), 2, /--json and -o yaml contradict each other/);
  });

  test('stop and resume with --wait change the workspace; the JSON shows it as it is afterwards', async () => {
    const stop = await wsm(['workspaces', 'stop', 'alpha', '--wait']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, 'stop alpha: succeeded\n');
    assert.equal((await api('GET', '/api/workspaces/alpha')).body.workspace.instance.status, 'STOPPED');
    const resumed = json(await wsm(['workspaces', 'resume', 'alpha', '--wait', '-o', 'json']));
    assert.equal(resumed.operation.action, 'resume');
    assert.equal(resumed.operation.state, 'succeeded');
    assert.equal(resumed.workspace.instance.status, 'RUNNING');
  });

  test('--wait on a terminal shows the operation\'s phase and the time so far', async () => {
    // A process that ignores SIGTERM takes the stop grace period (2 s here) to stop, and this server
    // answers a PUT after 100 ms (WSM_ACTION_WAIT_MS): the operation is followed long enough to be seen.
    const stubborn = [process.execPath, '-e', "process.on('SIGTERM',()=>{});require('http').createServer((q,s)=>s.end()).listen(Number(process.env.PORT),'127.0.0.1')"];
    const created = await wsm(['ws', 'create', 'slow', '--container-config', '-', '--wait'], {}, `command: ${JSON.stringify(stubborn)}\n`);
    assert.equal(created.code, 0, created.stderr);
    // `script` gives the command a real pseudo-terminal, as a person's shell would.
    const command = [process.execPath, WSM_BIN, 'ws', 'stop', 'slow', '--wait'].map((w) => `'${w}'`).join(' ');
    const run = await new Promise<Run>((resolve) => {
      execFile('script', ['-qec', command, '/dev/null'], { env: childEnv({ WSM_URL: srv.url, WSM_TOKEN: owner }), cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? -1) : 0, stdout, stderr });
      });
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /\r\x1b\[2Kstop slow: (pending|running), workspace (RUNNING|STOPPING), 0s/);
    assert.match(run.stdout, /\r\x1b\[2Kstop slow: (pending|running), workspace (RUNNING|STOPPING), [1-9]\d*s/, 'the elapsed time goes up');
    assert.match(run.stdout, /\nstop slow: succeeded\r?\n$/);
  });

  test('without --wait an action says it was accepted and names the operation', async () => {
    const run = await wsm(['workspaces', 'stop', 'alpha']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^stop alpha: (succeeded|accepted \(operation [0-9a-f-]{36} is (pending|running); add --wait to follow it\))\n$/);
    assert.equal(json(await wsm(['workspaces', 'resume', 'alpha', '--wait', '--json'])).operation.state, 'succeeded');
  });

  test('patch sets and unsets env, and takes lifecycle config as JSON, YAML or standard input', async () => {
    const patched = json(await wsm(['workspaces', 'patch', 'alpha', '--env', 'B=2', '--unset-env', 'GREETING', '--wait', '--json']));
    assert.equal(patched.operation.state, 'succeeded');
    assert.match(patched.workspace.container_config, /name: B\n\s+value: "2"/);
    assert.doesNotMatch(patched.workspace.container_config, /GREETING/);

    const lcJson = await file('lc.json', JSON.stringify({ termination_policy: { enable_auto_termination: true, max_idle_seconds: 600 } }));
    const one = json(await wsm(['workspaces', 'patch', 'alpha', '--lifecycle-config', lcJson, '--json']));
    assert.deepEqual(one.workspace.lifecycle_config.termination_policy, { enable_auto_termination: true, max_idle_seconds: 600 });
    const two = json(await wsm(['workspaces', 'patch', 'alpha', '--lifecycle-config', '-', '--sync-cluster-env', '--wait', '--json'], {}, 'termination_policy:\n  max_idle_seconds: 900\n'));
    assert.deepEqual(two.workspace.lifecycle_config.termination_policy, { enable_auto_termination: true, max_idle_seconds: 900 });
    assert.equal(two.operation.state, 'succeeded');
    assertCleanError(await wsm(['ws', 'patch', 'alpha', '--container-config', '-', '--lifecycle-config', '-']), 2, /cannot both read standard input/);
  });

  test('errors name the flag that was wrong, or the file\'s own line', async () => {
    assertCleanError(await wsm(['workspaces', 'patch', 'alpha', '--env', '1BAD=x']), 5, /^error: --env 1BAD=x: "1BAD" is not a variable name \(letters, digits and _, not starting with a digit\)\n$/);
    assertCleanError(await wsm(['workspaces', 'create', 'beta', '--env', 'OK=1', '--env', 'BAD-NAME=x']), 5, /^error: --env BAD-NAME=x: /);
    assertCleanError(await wsm(['workspaces', 'patch', 'alpha', '--unset-env', '2X']), 5, /^error: --unset-env 2X: not a variable name/);
    assertCleanError(await wsm(['workspaces', 'patch', 'alpha', '--image-tag', '!!']), 5, /^error: --image-tag !!: must be a tag/);
    for (const run of [await wsm(['ws', 'patch', 'alpha', '--env', '1BAD=x']), await wsm(['ws', 'patch', 'alpha', '--image-tag', '!!'])]) {
      assert.doesNotMatch(run.stderr, /line \d/);
    }
    const bad = await file('bad.yaml', 'env:\n  - name: A\n    value: b\nimagePullPolicy: Always\n');
    assertCleanError(await wsm(['workspaces', 'patch', 'alpha', '--container-config', bad]), 5, /container_config\.imagePullPolicy: line 4: is not a container_config key/);
    assertCleanError(await wsm(['workspaces', 'add-to-ingress', 'alpha']), 5, /^error: .*k8s|Kubernetes/i);
    assertCleanError(await wsm(['workspaces', 'create', 'Bad_Name']), 5, /^error: name: may contain only lower-case letters/);
  });

  test('logs prints readable text, oldest first; -o json gives the operations', async () => {
    const { operations } = json(await wsm(['workspaces', 'logs', 'alpha', '-o', 'json']));
    const actions = operations.map((o: any) => o.action);
    for (const a of ['create', 'stop', 'resume', 'patch']) assert.ok(actions.includes(a), `${a} in ${actions}`);
    const text = await wsm(['workspaces', 'logs', 'alpha']);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  create succeeded in \d+\.\ds  by token:first-run-owner$/);
    assert.doesNotMatch(text.stdout, /[{}"]/, 'no JSON in the text');
    const limited = await wsm(['workspaces', 'logs', 'alpha', '--limit', '2']);
    assert.equal(limited.stdout.trimEnd().split('\n').filter((l) => /^\d{4}-/.test(l)).length, 2);
  });

  test('delete --wait -o json shows no workspace beside the succeeded delete; then it is not found (exit 3)', async () => {
    const run = json(await wsm(['workspaces', 'delete', 'alpha', '--delete-volume', '--wait', '-o', 'json']));
    assert.equal(run.operation.action, 'delete');
    assert.equal(run.operation.state, 'succeeded');
    assert.equal(run.workspace, null);
    assert.equal((await api('GET', '/api/workspaces/alpha')).status, 404);
    assertCleanError(await wsm(['workspaces', 'get', 'alpha']), 3, /^error: Workspace alpha does not exist\.$/m);
  });
});

describe('wsm token', () => {
  test('create prints the secret alone, and the secret works with its role', async () => {
    const run = await wsm(['token', 'create', '--role', 'viewer', '--name', 'ci', '--expires-in', '12h']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^wsm_[A-Za-z0-9_-]+\n$/);
    const who = await request(srv.url, 'GET', '/api/whoami', { token: run.stdout.trim() });
    assert.deepEqual(who.body, { actor: 'token:ci', role: 'viewer', grants: [] });
  });

  test('create -o json gives the whole token, with its expiry and workspace', async () => {
    const token = json(await wsm(['token', 'create', '--role', 'editor', '--workspace', 'alpha', '--expires-in', '30m', '-o', 'json']));
    assert.equal(token.role, 'editor');
    assert.equal(token.workspace, 'alpha');
    assert.equal((Date.parse(token.expires_at) - Date.parse(token.created_at)) / 60_000, 30);
    assert.match(token.secret, /^wsm_/);
  });

  test('list shows every token without its secret; revoke by id or by name stops it working', async () => {
    const secret = (await wsm(['token', 'create', '--role', 'viewer', '--name', 'to-revoke'])).stdout.trim();
    const other = json(await wsm(['token', 'create', '--role', 'viewer', '--name', 'by-id', '-o', 'json']));
    const table = await wsm(['token', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout.split('\n')[0]!, /^ID\s+NAME\s+ROLE\s+WORKSPACE\s+STATE\s+EXPIRES\s+CREATED$/);
    assert.match(table.stdout, /^[0-9a-f-]{36}\s+first-run-owner\s+owner\s+\*\s+active\s+-\s+\d+[smh] ago$/m);
    assert.match(table.stdout, /\sto-revoke\s+viewer\s+\*\s+active\s/);
    assert.doesNotMatch(table.stdout, /wsm_/);
    const listed = json(await wsm(['token', 'list', '-o', 'json'])).tokens;
    assert.ok(listed.every((t: any) => !('secret' in t) && !('hash' in t)));

    const byName = await wsm(['token', 'revoke', 'to-revoke']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.match(byName.stdout, /^revoked token [0-9a-f-]{36} \(to-revoke\)\n$/);
    assertCleanError(await wsm(['ws', 'list'], { WSM_TOKEN: secret }), 4, /^error: The token has been revoked\. \(the token from WSM_TOKEN was refused\)/);
    assert.equal((await wsm(['token', 'revoke', other.id, '-o', 'name'])).stdout, `${other.id}\n`);
    assert.match((await wsm(['token', 'list'])).stdout, /\sby-id\s+viewer\s+\*\s+revoked\s/);
    assertCleanError(await wsm(['token', 'revoke', other.id]), 5, /was already revoked/);
    assertCleanError(await wsm(['token', 'revoke', 'no-such-token']), 3, /no token has the id no-such-token/);
  });
});

describe('exit codes', () => {
  test('a bad token exits 4; a viewer acting exits 4', async () => {
    assertCleanError(await wsm(['workspaces', 'list', '--token', 'not-a-token']), 4, /^error: The token is not valid\./);
    const viewer = (await wsm(['token', 'create', '--role', 'viewer'])).stdout.trim();
    const created = await api('POST', '/api/workspaces', { workspace: { name: 'beta', container_config: localContainerConfig() } });
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

  test('an operation that fails exits 1 with its error and, piped, nothing else on stderr', async () => {
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
      assertCleanError(run, 1, /^error: resume gamma failed: the process exited with code 3\n$/);
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
