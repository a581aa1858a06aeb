// The first start, as a new user meets it: `wsm serve` with no WSM_ADMIN_TOKEN makes an owner token,
// writes it to <data-dir>/owner-token (0600), says where once, and the CLI on the same machine uses it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveToken } from '../../src/cli/credentials.js';
import { runWsm, startServeProcess } from '../support/built-cli.js';
import { request } from '../support/server.js';

let dir: string;
const noToken = { WSM_TOKEN: undefined, WSM_ADMIN_TOKEN: undefined, WSM_TOKEN_FILE: undefined, WSM_DATA_DIR: undefined };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsm-first-run-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('first start', () => {
  test('makes an owner token, writes it 0600 to the data dir, and says once where it is and where to sign in', async () => {
    const dataDir = join(dir, '.wsm');
    const srv = await startServeProcess(dataDir);
    let secret: string;
    try {
      const file = join(dataDir, 'owner-token');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      secret = (await readFile(file, 'utf8')).trim();
      assert.match(secret, /^wsm_[A-Za-z0-9_-]{43}$/);
      await srv.run.waitForStderr(/sign in at/);
      assert.equal(
        srv.run.stderr(),
        `wsm: first start: no owner could sign in, so an owner token was made and written to ${file} (readable by this user only).\n` +
          `wsm: sign in at ${srv.url}/apps/workspaces with the token in that file; the wsm CLI on this machine reads it from there.\n`,
      );
      assert.ok(!srv.run.stdout().includes(secret), 'the secret is not logged');
      const who = await request(srv.url, 'GET', '/api/whoami', { token: secret });
      assert.deepEqual(who.body, { actor: 'token:first-run-owner', role: 'owner', grants: [] });

      // From the directory the server was started in, with no token given, the CLI reads the file.
      const created = await runWsm(['--url', srv.url, 'token', 'create', '--role', 'owner', '--name', 'second'], { env: noToken, cwd: dir });
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /^wsm_/);
      // From anywhere else, WSM_DATA_DIR says where the data dir is.
      const listed = await runWsm(['token', 'list', '-o', 'name'], { env: { ...noToken, WSM_URL: srv.url.replace('127.0.0.1', 'localhost'), WSM_DATA_DIR: dataDir }, cwd: tmpdir() });
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stdout.trim().split('\n').length, 2);
      // Or a file named outright.
      const copy = join(dir, 'copied-token');
      await writeFile(copy, `${secret}\n`);
      assert.equal((await runWsm(['ws', 'list', '--url', srv.url, '--token-file', copy], { env: noToken, cwd: tmpdir() })).stdout, 'no workspaces\n');
      assert.equal((await runWsm(['ws', 'list', '--url', srv.url], { env: { ...noToken, WSM_TOKEN_FILE: copy }, cwd: tmpdir() })).code, 0);

      const none = await runWsm(['ws', 'list', '--url', srv.url], { env: noToken, cwd: tmpdir() });
      assert.equal(none.code, 4);
      assert.match(none.stderr, /^error: No token was given.*\(give a token with --token, WSM_TOKEN or --token-file; on the server's machine the CLI reads the owner token wsm wrote to <data-dir>\/owner-token at first start\)\n$/);
    } finally {
      await srv.stop();
    }

    // A second start keeps the token and says nothing.
    const again = await startServeProcess(dataDir);
    try {
      assert.equal(again.ownerToken(), secret);
      assert.equal((await request(again.url, 'GET', '/api/whoami', { token: secret })).status, 200);
      assert.equal(again.run.stderr(), '');
      // With every owner token revoked, nobody could sign in: the next start makes a new one.
      for (const t of (await request(again.url, 'GET', '/api/tokens', { token: secret })).body.tokens) {
        if (t.name === 'second') assert.equal((await request(again.url, 'DELETE', `/api/tokens/${t.id}`, { token: secret })).status, 200);
      }
      const self = (await request(again.url, 'GET', '/api/tokens', { token: secret })).body.tokens.find((t: any) => t.name === 'first-run-owner');
      assert.equal((await request(again.url, 'DELETE', `/api/tokens/${self.id}`, { token: secret })).status, 200);
    } finally {
      await again.stop();
    }
    const third = await startServeProcess(dataDir);
    try {
      await third.run.waitForStderr(/^wsm: first start: no owner could sign in/);
      assert.notEqual(third.ownerToken(), secret);
      assert.equal((await request(third.url, 'GET', '/api/whoami', { token: third.ownerToken() })).body.role, 'owner');
    } finally {
      await third.stop();
    }
  });

  test('with WSM_ADMIN_TOKEN set, no token is made and nothing is said', async () => {
    const dataDir = join(dir, 'with-admin');
    const srv = await startServeProcess(dataDir, { WSM_ADMIN_TOKEN: 'bootstrap-secret' });
    try {
      assert.equal((await request(srv.url, 'GET', '/api/tokens', { token: 'bootstrap-secret' })).body.tokens.length, 0);
      assert.equal(srv.run.stderr(), '');
      await assert.rejects(stat(join(dataDir, 'owner-token')), { code: 'ENOENT' });
    } finally {
      await srv.stop();
    }
  });

  test('the data dir\'s token goes only to a server on this machine', async () => {
    const dataDir = join(dir, 'resolve');
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'owner-token'), 'wsm_local\n');
    const env = { WSM_DATA_DIR: dataDir };
    assert.deepEqual(resolveToken({}, 'http://127.0.0.1:6789', env), { secret: 'wsm_local', source: join(dataDir, 'owner-token') });
    assert.equal(resolveToken({}, 'http://localhost:6789', env)?.secret, 'wsm_local');
    assert.equal(resolveToken({}, 'https://wsm.example.com', env), undefined);
    assert.equal(resolveToken({}, 'http://10.1.2.3:6789', env), undefined);
    // A file named outright, or a token given, is used whatever the URL.
    assert.equal(resolveToken({ tokenFile: join(dataDir, 'owner-token') }, 'https://wsm.example.com', {})?.secret, 'wsm_local');
    assert.equal(resolveToken({ token: 'given' }, 'http://127.0.0.1:6789', env)?.secret, 'given');
  });
});
