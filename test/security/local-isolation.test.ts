// Local workspaces run code their users choose. With wsm running as root (as here), that code must not
// reach what wsm holds: the store, the server's environment (its admin token), other workspaces' files.
// A real `wsm serve` process, an editor limited to one workspace, and a command that tries them all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { request, type TestResponse } from '../support/server.js';
import { killEverything, readJson, waitFor } from '../runtimes/local/helpers.js';

const REPO = join(import.meta.dirname, '..', '..');
const NOBODY = 65534;

interface WsmProcess {
  url: string;
  pid: number;
  dataDir: string;
  logs: Array<{ level: number; msg: string }>;
  call<T = any>(method: string, path: string, token: string, body?: unknown): Promise<TestResponse<T>>;
  stop(): Promise<void>;
}

/** `wsm serve` as a child process, on a free port, with its own data dir; resolves once it is ready. */
async function startWsm(env: Record<string, string>, options: { uid?: number } = {}): Promise<WsmProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsm-sec-local-'));
  if (options.uid !== undefined) chownSync(dataDir, options.uid, options.uid);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--cluster-type', 'local'],
    {
      cwd: REPO, // where tsx is found
      env: { PATH: process.env.PATH!, WSM_ACTION_WAIT_MS: '15000', WSM_STOP_GRACE_SECONDS: '1', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
    },
  );
  const logs: WsmProcess['logs'] = [];
  let exited = false;
  child.once('exit', () => (exited = true));
  const ready = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`wsm serve exited with code ${code} before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { level: number; msg: string; url?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'wsm is ready' && entry.url) resolve(entry.url);
    });
  });
  const url = await Promise.race([
    ready,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('wsm serve was not ready within 60 s')), 60_000).unref()),
  ]);
  return {
    url,
    pid: child.pid!,
    dataDir,
    logs,
    call: (method, path, token, body) => request(url, method, path, { token, body }),
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await waitFor(() => exited, 'wsm serve to exit', 30_000);
      }
      killEverything(join(dataDir, 'workspaces'));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitForStatus(wsm: WsmProcess, token: string, name: string, status: string): Promise<void> {
  await waitFor(async () => {
    const r = await wsm.call('GET', `/api/workspaces/${name}`, token);
    return r.body?.workspace?.instance?.status === status;
  }, `${name} to be ${status}`, 30_000);
}

/** Uid, gid and supplementary groups of a live process, from /proc/<pid>/status. */
function credentials(pid: number): { uid: number; gid: number; groups: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  return { uid: Number(field('Uid').split(/\s+/)[0]), gid: Number(field('Gid').split(/\s+/)[0]), groups: field('Groups') };
}

/** Every file under dir, read whole (the places the workspace could write). */
function allText(dir: string): string {
  let text = '';
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) text += allText(path);
    else if (entry.isFile()) text += readFileSync(path, 'latin1');
  }
  return text;
}

const ATTEMPTS = [
  'server-environ',
  'any-environ-with-token',
  'store-read',
  'store-wal-read',
  'data-dir-list',
  'data-dir-write',
  'hooks-dir-list',
  'other-workspace-list',
  'other-home-list',
  'other-home-read',
  'own-state-read',
  'own-state-write',
];

/**
 * What the editor's command does: every attempt in turn, each line "<attempt>: denied" or
 * "<attempt>: SUCCEEDED <what it got>", into report.txt in its own home, then "done".
 */
function attackScript(serverPid: number, dataDir: string): string {
  const ws = `${dataDir}/workspaces`;
  return [
    'r=report.txt; : > "$r"',
    'try() { l=$1; shift; if o=$("$@" 2>&1); then printf "%s: SUCCEEDED %s\\n" "$l" "$(printf %s "$o" | head -c 200 | tr -c "[:print:]" " ")" >> "$r"; else echo "$l: denied" >> "$r"; fi; }',
    `try server-environ cat /proc/${serverPid}/environ`,
    // Every environment it can read, kept in its home: the token must not be among them.
    `try any-environ-with-token sh -c 'for p in /proc/[0-9]*; do cat "$p/environ" 2>/dev/null; echo; done > loot.txt; grep -q -a WSM_ADMIN_TOKEN= loot.txt'`,
    `try store-read cp ${dataDir}/wsm.sqlite loot.sqlite`,
    `try store-wal-read cp ${dataDir}/wsm.sqlite-wal loot.sqlite-wal`,
    `try data-dir-list ls ${dataDir}`,
    `try data-dir-write touch ${dataDir}/planted`,
    `try hooks-dir-list ls ${dataDir}/hooks`,
    `try other-workspace-list ls ${ws}/victim`,
    `try other-home-list ls ${ws}/victim/home`,
    `try other-home-read cat ${ws}/victim/home/secret.txt`,
    `try own-state-read cat ${ws}/attacker/state.json`,
    `try own-state-write sh -c 'echo "{}" > ${ws}/attacker/state.json'`,
    'id >> "$r"; grep -E "^(Uid|Gid|Groups):" /proc/self/status >> "$r"',
    'echo done >> "$r"',
    'exec sleep 600',
  ].join('\n');
}

describe('local workspaces are kept from the server and from each other (wsm as root)', { skip: process.getuid?.() !== 0 && 'needs root' }, () => {
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  // A range of our own: other test servers on this host hand out uids too.
  const first = 70_000 + Math.floor(Math.random() * 290) * 100;
  let wsm: WsmProcess;

  before(async () => {
    wsm = await startWsm({ WSM_ADMIN_TOKEN: adminToken, WSM_LOCAL_UID_RANGE: `${first}-${first + 99}` });
  });
  after(async () => {
    if (!wsm) return;
    for (const name of ['victim', 'attacker']) await wsm.call('DELETE', `/api/workspaces/${name}?delete_volume=true`, adminToken);
    await wsm.stop();
  });

  test("an editor's command cannot read the store, the server's environment or another workspace, nor write the data dir", async () => {
    const create = (name: string, command: string[]) =>
      wsm.call('POST', '/api/workspaces', adminToken, { workspace: { name, cluster_type: 'local', container_config: `command: ${JSON.stringify(command)}` } });
    // The victim leaves a file anyone may read, in its own home.
    assert.equal((await create('victim', ['sh', '-c', 'echo victim-secret > secret.txt; chmod 644 secret.txt; exec sleep 600'])).status, 201);
    assert.equal((await create('attacker', ['sleep', '600'])).status, 201);
    await waitForStatus(wsm, adminToken, 'victim', 'RUNNING');
    await waitForStatus(wsm, adminToken, 'attacker', 'RUNNING');
    const grant = await wsm.call('POST', '/api/tokens', adminToken, { role: 'editor', workspace: 'attacker', name: 'attacker-editor' });
    assert.equal(grant.status, 201);
    const editor = grant.body.token.secret as string;

    const patched = await wsm.call('PUT', '/api/workspaces/attacker', editor, {
      workspace: { action: 'patch', container_config: `command: ${JSON.stringify(['sh', '-c', attackScript(wsm.pid, wsm.dataDir)])}` },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));

    const home = join(wsm.dataDir, 'workspaces', 'attacker', 'home');
    const report = await waitFor(() => {
      const text = readFileSyncOrEmpty(join(home, 'report.txt'));
      return text.includes('\ndone') && text;
    }, 'the attack report', 30_000);
    const outcome = new Map(report.split('\n').filter((l) => l.includes(': ')).map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
    for (const attempt of ATTEMPTS) assert.equal(outcome.get(attempt), 'denied', `${attempt}: ${outcome.get(attempt) ?? 'not tried'}\n${report}`);

    // It ran as a user of its own, with no supplementary groups, and not the victim's user.
    const attacker = readJson<{ pid: number; uid: number }>(join(wsm.dataDir, 'workspaces', 'attacker', 'state.json'))!;
    const victim = readJson<{ pid: number; uid: number }>(join(wsm.dataDir, 'workspaces', 'victim', 'state.json'))!;
    const creds = credentials(attacker.pid);
    assert.notEqual(creds.uid, 0);
    assert.ok(creds.uid >= first && creds.uid <= first + 99, `uid ${creds.uid} from the configured range`);
    assert.equal(creds.gid, creds.uid);
    assert.equal(creds.groups, '');
    assert.notEqual(credentials(victim.pid).uid, creds.uid);

    // Nothing it could write holds the admin token, and the data dir holds nothing it planted.
    const loot = readFileSync(join(home, 'loot.txt'), 'latin1');
    assert.match(loot, /WSM_WORKSPACE=attacker/, 'it did read the environments it may read (its own)');
    assert.ok(!allText(home).includes(adminToken), 'the admin token in its home');
    assert.ok(!allText(join(wsm.dataDir, 'workspaces', 'attacker', 'run')).includes(adminToken), 'the admin token in run/');
    assert.ok(!readFileSync(join(wsm.dataDir, 'workspaces', 'attacker', 'output.log'), 'latin1').includes(adminToken), 'the admin token in its log');
    assert.ok(!readdirSync(wsm.dataDir).includes('planted'), 'a file planted in the data dir');
  });

  test('the data dir is passable but not listable by others; the store files and state are the server\'s alone', () => {
    const mode = (path: string) => statSync(path).mode & 0o777;
    assert.equal(mode(wsm.dataDir), 0o711);
    for (const file of ['wsm.sqlite', 'wsm.sqlite-wal', 'wsm.sqlite-shm']) {
      const path = join(wsm.dataDir, file);
      if (file === 'wsm.sqlite' || readdirSync(wsm.dataDir).includes(file)) assert.equal(mode(path), 0o600, file);
    }
    assert.equal(mode(join(wsm.dataDir, 'hooks')), 0o700);
    const ws = join(wsm.dataDir, 'workspaces', 'victim');
    const uid = readJson<{ uid: number }>(join(ws, 'state.json'))!.uid;
    assert.equal(mode(ws), 0o710);
    assert.equal(statSync(ws).gid, uid);
    assert.equal(mode(join(ws, 'home')), 0o700);
    assert.equal(statSync(join(ws, 'home')).uid, uid);
    assert.equal(mode(join(ws, 'state.json')), 0o600);
    assert.equal(mode(join(ws, 'output.log')), 0o600);
  });
});

test('wsm not running as root says at start-up that the local runtime is single-tenant', { skip: process.getuid?.() !== 0 && 'needs root to start wsm as another user' }, async () => {
  const wsm = await startWsm({ WSM_ADMIN_TOKEN: `admin-${randomBytes(8).toString('hex')}` }, { uid: NOBODY });
  try {
    const warning = wsm.logs.find((l) => l.level === 40 && /single-tenant/.test(l.msg));
    assert.ok(warning, `a warning at start-up; logs: ${JSON.stringify(wsm.logs.map((l) => l.msg))}`);
    assert.match(warning.msg, new RegExp(`runs as uid ${NOBODY}, not root`));
    assert.match(warning.msg, /WSM_ADMIN_TOKEN/);
    // Nobody else needs to pass through its data dir then.
    assert.equal(statSync(wsm.dataDir).mode & 0o777, 0o700);
  } finally {
    await wsm.stop();
  }
});

test('a uid range that is not one refuses to start, naming the setting', async () => {
  for (const bad of ['0-100', 'lots']) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'serve', '--port', '0', '--local-uid-range', bad], {
      cwd: REPO,
      env: { PATH: process.env.PATH!, WSM_DATA_DIR: join(tmpdir(), 'wsm-never-created') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 2, stderr);
    assert.match(stderr, new RegExp(`--local-uid-range/WSM_LOCAL_UID_RANGE must be two uids "first-last".*\\(got "${bad}"\\)`));
  }
});

function readFileSyncOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
