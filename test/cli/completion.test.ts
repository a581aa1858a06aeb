// `wsm completion bash|zsh`: the script is loaded into a real shell and its completion function is
// asked what it offers for a command line, as the shell would on Tab. Workspace names come from a real
// `wsm serve`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, deleteAllWorkspaces, ensureBuilt, startServeProcess, WSM_BIN, type ServeProcess } from '../support/built-cli.js';
import { localContainerConfig, request } from '../support/server.js';

let srv: ServeProcess;
let owner: string;
let dir: string;
let binDir: string;

const hasZsh = spawnSync('zsh', ['--version']).status === 0;

/** What the completion function offers for `line` (a trailing space: a new, empty word) in `shell`. */
function complete(shell: 'bash' | 'zsh', line: string): Promise<string[]> {
  const words = line.split(' ');
  const array = words.map((w) => `'${w}'`).join(' ');
  // In zsh, bash completion functions run under sh emulation (0-based arrays), as bashcompinit calls them.
  const script =
    shell === 'bash'
      ? `source <(wsm completion bash); COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _wsm; printf '%s\\n' "\${COMPREPLY[@]}"`
      : `source <(wsm completion zsh); emulate -L sh; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _wsm; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const args = shell === 'bash' ? ['--norc', '-c', script] : ['-fc', script];
  const env = childEnv({ PATH: `${binDir}:${process.env.PATH}`, WSM_URL: srv.url, WSM_TOKEN: owner, HOME: dir, ZDOTDIR: dir });
  return new Promise((resolve, reject) => {
    execFile(shell, args, { env, cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${shell} failed: ${stderr}`));
      // bash filters by the typed prefix itself; zsh's bashcompinit leaves that to zsh's matcher.
      else resolve(stdout.split('\n').filter((w) => w && w.startsWith(words.at(-1)!)).sort());
    });
  });
}

before(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'wsm-completion-'));
  // `wsm` on the PATH, as `npm install -g` or `npm link` would put it.
  binDir = join(dir, 'bin');
  await mkdir(binDir);
  await writeFile(join(binDir, 'wsm'), `#!/bin/sh\nexec '${process.execPath}' '${WSM_BIN}' "$@"\n`);
  await chmod(join(binDir, 'wsm'), 0o755);
  srv = await startServeProcess(join(dir, 'data'));
  owner = srv.ownerToken();
  for (const name of ['alpha', 'beta']) {
    assert.equal((await request(srv.url, 'POST', '/api/workspaces', { defaultToken: owner, body: { workspace: { name, container_config: localContainerConfig() } } })).status, 201);
  }
});
after(async () => {
  if (srv) {
    await deleteAllWorkspaces(srv.url, owner).catch(() => {});
    await srv.stop();
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

for (const shell of ['bash', 'zsh'] as const) {
  describe(`wsm completion ${shell}`, { skip: shell === 'zsh' && !hasZsh ? 'zsh is not installed' : false }, () => {
    test('offers subcommands, then their flags, global ones included', async () => {
      assert.deepEqual(await complete(shell, 'wsm '), ['completion', 'serve', 'token', 'workspaces', 'ws'].sort());
      assert.deepEqual(await complete(shell, 'wsm ws wa'), ['wait', 'watch']);
      assert.deepEqual(await complete(shell, 'wsm token '), ['create', 'list', 'revoke']);
      const flags = await complete(shell, 'wsm workspaces create --');
      for (const f of ['--container-config', '--env', '--wait', '--timeout', '--url', '--output', '--token-file']) assert.ok(flags.includes(f), `${f} in ${flags}`);
      // Global flags before the subcommand do not lose the place.
      assert.deepEqual(await complete(shell, 'wsm --url http://127.0.0.1:1 ws wa'), ['wait', 'watch']);
    });

    test('offers the values of flags with a fixed set, and workspace names from the server', async () => {
      assert.deepEqual(await complete(shell, 'wsm ws list -o '), ['json', 'name', 'wide', 'yaml']);
      assert.deepEqual(await complete(shell, 'wsm token create --role '), ['editor', 'owner', 'viewer']);
      assert.deepEqual(await complete(shell, 'wsm completion '), ['bash', 'zsh']);
      assert.deepEqual(await complete(shell, 'wsm ws get '), ['alpha', 'beta']);
      assert.deepEqual(await complete(shell, 'wsm ws stop al'), ['alpha']);
    });
  });
}
