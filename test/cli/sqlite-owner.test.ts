// SQLite means one process: a second `wsm serve` on the same data dir is refused with a clear error
// and changes nothing; once the first is gone (even killed), a new one starts. And it stops cleanly on
// SIGTERM even when the signal comes the moment its port answers, before the rest of its start is done.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/server.js';

const children: ChildProcess[] = [];
let dataDir = '';
const dataDirs: string[] = [];

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const dir of [dataDir, ...dataDirs]) if (dir) await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function serve(port: number, dir = dataDir): { child: ChildProcess; stderr: () => string; exited: Promise<number | NodeJS.Signals | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data-dir', dir, '--port', String(port), '--cluster-type', 'local'], {
    env: { ...process.env, WSM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return { child, stderr: () => err, exited };
}

async function ready(port: number): Promise<void> {
  await eventually(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/api/status`)).ok;
    } catch {
      return false;
    }
  }, 30_000, 'the server to be ready');
}

test('a second wsm serve on one SQLite file is refused; after the first dies, one starts', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wsm-sqlite-owner-'));
  const firstPort = await freePort();
  const first = serve(firstPort);
  await ready(firstPort);

  const secondPort = await freePort();
  const second = serve(secondPort);
  const outcome = await Promise.race([second.exited, ready(secondPort).then(() => 'serving as well')]);
  assert.equal(outcome, 2, 'the second process exits with 2');
  assert.match(second.stderr(), new RegExp(`in use by another wsm serve \\(pid ${first.child.pid}\\).*PostgreSQL`));
  assert.ok((await fetch(`http://127.0.0.1:${firstPort}/api/status`)).ok, 'the first one still serves');

  first.child.kill('SIGKILL');
  await first.exited;
  const thirdPort = await freePort();
  const third = serve(thirdPort);
  await ready(thirdPort);
  third.child.kill('SIGTERM');
  assert.equal(await third.exited, 0);
});

test('a SIGTERM sent the moment the port answers still ends the process cleanly, with 0', async () => {
  // The port opens before the start is done (the leadership, the first reconcile): a signal there used
  // to end the process by default, in the middle of its start. Sent as early as a client can, four times.
  const exits: (number | NodeJS.Signals | null)[] = [];
  for (let i = 0; i < 4; i++) {
    const dir = await mkdtemp(join(tmpdir(), 'wsm-early-signal-'));
    dataDirs.push(dir);
    const port = await freePort();
    const server = serve(port, dir);
    for (;;) {
      const answered = await fetch(`http://127.0.0.1:${port}/api/status`).then((res) => res.ok, () => false);
      if (answered) break;
      assert.equal(server.child.exitCode, null, `the server exited at start: ${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    server.child.kill('SIGTERM');
    exits.push(await server.exited);
  }
  assert.deepEqual(exits, [0, 0, 0, 0]);
});
