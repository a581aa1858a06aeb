// The README's shell blocks, run as a reader would paste them: every ```bash block, in order, in one
// shell, in a fresh directory that looks like a checkout (package.json, bin, dist, node_modules), so
// `npm start` makes a fresh ./.wsm. The only change: the server is moved from port 6789 to a free one
// (WSM_PORT for `npm start`, WSM_URL for the CLI, and the URLs in the blocks). A block preceded by
// `<!-- not run by test/docs/readme.test.ts: why -->` is skipped.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, deleteAllWorkspaces, ensureBuilt, freePort, ROOT } from '../support/built-cli.js';

const SKIP_MARK = /<!-- not run by test\/docs\/readme\.test\.ts: [^>]+-->\s*$/;

/** The ```bash blocks of a markdown text that are not marked to be skipped. */
function runnableBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const fence = /```bash\n([\s\S]*?)```/g;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) {
    if (!SKIP_MARK.test(markdown.slice(0, m.index))) blocks.push(m[1]!);
  }
  return blocks;
}

let dir: string | undefined;
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the README\'s commands work when pasted into a shell', async () => {
  ensureBuilt();
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const blocks = runnableBlocks(readme);
  assert.ok(blocks.some((b) => b.includes('npm start &')) && blocks.some((b) => b.includes('wsm ws create ')), 'the tour and the CLI blocks are run');
  assert.ok(!blocks.some((b) => /^npm (ci|test)\b/m.test(b)), 'the set-up block is skipped');

  dir = await mkdtemp(join(tmpdir(), 'wsm-readme-'));
  for (const entry of ['package.json', 'bin', 'dist', 'node_modules']) await symlink(join(ROOT, entry), join(dir, entry));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const script = ['set -euo pipefail', ...blocks.map((b) => b.replaceAll('http://127.0.0.1:6789', url))].join('\n');
  assert.ok(script.includes(`${url}/api/status`), 'the readiness wait was moved to the test\'s port');

  const env = childEnv({ WSM_PORT: String(port), WSM_URL: url, WSM_TOKEN: undefined, WSM_ADMIN_TOKEN: undefined, WSM_TOKEN_FILE: undefined, WSM_DATA_DIR: undefined, WSM_HOST: undefined, NODE_ENV: undefined });
  // Its own process group: `npm start &` outlives the script and is stopped with it below.
  const shell = spawn('bash', ['-c', script], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  shell.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  shell.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const deadline = setTimeout(() => shell.kill('SIGKILL'), 300_000);
  const code = await new Promise<number | null>((resolve) => shell.once('exit', resolve));
  clearTimeout(deadline);
  try {
    const output = `stdout:\n${stdout}\nstderr:\n${stderr}`;
    assert.equal(code, 0, output);
    assert.doesNotMatch(stdout, /"error":\s*\{/, `no request was refused\n${output}`);
    assert.doesNotMatch(stderr, /^error: /m, output);
    // The first start said where the owner token is, and the tour signed in with it.
    assert.match(stderr, new RegExp(`written to ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\.wsm/owner-token`));
    assert.match(stdout, /"workspace":\{"name":"demo","cluster_type":"local"/);
    assert.match(stdout, /"cluster_settings":\{"env":\[\{"name":"DEV_ENV_REGION","value":"eu-west-1"\}\]/);
    assert.match(stdout, /^create analytics: succeeded$/m);
    assert.match(stdout, /^analytics: STOPPED$/m);
    assert.match(stdout, /^revoked token [0-9a-f-]{36} \(dashboard\)$/m);
    // The server's log shares the terminal: the delete's JSON is found by its shape, not parsed from the end.
    assert.match(stdout, /^\{\n  "workspace": null,\n  "operation": \{\n    "id": "[^"]+",\n    "action": "delete",\n    "actor": "token:first-run-owner",\n    "state": "succeeded",/m);
  } finally {
    const owner = await readFile(join(dir, '.wsm', 'owner-token'), 'utf8').catch(() => '');
    if (owner) await deleteAllWorkspaces(url, owner.trim()).catch(() => {});
    try {
      process.kill(-shell.pid!, 'SIGTERM');
    } catch {
      // Already gone.
    }
    await new Promise((resolve) => (shell.stdout.closed ? resolve(undefined) : shell.stdout.once('close', resolve)));
  }
});
