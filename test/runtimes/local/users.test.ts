// With a uid range (wsm as root), each workspace runs as a user of its own, and what its processes
// leave on disk (links in its home, files it writes for us) never makes us act as root for it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalRuntime } from '../../../src/runtimes/local/index.js';
import { readJson, sandbox, waitFor, workspace, type Sandbox } from './helpers.js';

const isRoot = process.getuid?.() === 0;

describe('LocalRuntime with a uid per workspace', { skip: !isRoot && 'needs root' }, () => {
  // A range of our own: other tests on this host hand out uids too.
  const first = 70_000 + Math.floor(Math.random() * 290) * 100;
  let box: Sandbox;
  let rt: LocalRuntime;
  let secretDir: string;
  before(() => {
    box = sandbox();
    // The sandbox is private to root; workspaces must pass through it to their homes, as through a data dir.
    chmodSync(dirname(box.root), 0o711);
    rt = new LocalRuntime({ rootDir: box.root, stopGraceMs: 1000, uidRange: { first, last: first + 9 } });
    // A file anyone may read, in a directory only root may enter: reachable only by a process that root put there.
    secretDir = mkdtempSync(join(tmpdir(), 'wsm-root-only-'));
    writeFileSync(join(secretDir, 'secret.txt'), 'root-only-secret\n', { mode: 0o644 });
  });
  after(async () => {
    await rt.close();
    box.cleanup();
    rmSync(secretDir, { recursive: true, force: true });
  });

  const state = (name: string) => readJson<{ pid: number; uid: number }>(join(box.root, name, 'state.json'))!;
  const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  const sleeper = (name: string, extra = {}) => workspace(name, { command: ['sleep', '600'] }, extra);

  test('each workspace gets its own uid, owns its home, and keeps the uid while its home is kept', async () => {
    await rt.apply(sleeper('one'));
    await rt.apply(sleeper('two'));
    const one = state('one');
    const two = state('two');
    assert.equal(uidOf(one.pid), one.uid);
    assert.equal(uidOf(two.pid), two.uid);
    assert.notEqual(one.uid, two.uid);
    for (const uid of [one.uid, two.uid]) assert.ok(uid >= first && uid <= first + 9);
    const home = statSync(join(box.root, 'one', 'home'));
    assert.equal(home.uid, one.uid);
    assert.equal(home.mode & 0o777, 0o700);
    assert.equal(statSync(join(box.root, 'one')).mode & 0o777, 0o710);
    assert.equal(statSync(box.root).mode & 0o777, 0o711);

    // Removed with its home kept, then created again: same uid, so its files are still its own.
    await rt.remove(sleeper('one'), { deleteVolume: false });
    await rt.apply(sleeper('one'));
    assert.equal(state('one').uid, one.uid);
    // A restarted control plane reads the allocation from the homes on disk.
    const again = new LocalRuntime({ rootDir: box.root, stopGraceMs: 1000, uidRange: { first, last: first + 9 } });
    await again.apply(sleeper('three'));
    assert.ok(![one.uid, two.uid].includes(state('three').uid));
    await again.close();

    // Post-start commands run as the workspace's user too; a stop ends its processes.
    const ran = await rt.exec(sleeper('two'), ['/bin/sh', '-c', 'id -u; grep "^Groups:" /proc/self/status'], 5000);
    assert.equal(ran.exit_code, 0);
    assert.match(ran.output, new RegExp(`^${two.uid}\\nGroups:\\s*\\n?$`));
    assert.equal((await rt.apply({ ...sleeper('two'), desired: 'stopped' })).status, 'STOPPED');
    for (const name of ['one', 'two', 'three']) await rt.remove(sleeper(name), { deleteVolume: true });
    assert.equal(existsSync(join(box.root, 'one')), false);
  });

  test("deleting the volume deletes with the workspace's rights, not root's", async () => {
    const ws = sleeper('deleter');
    await rt.apply(ws);
    // What root may delete and the workspace may not: it stands for where a link swapped in during the
    // delete would lead (that race cannot be timed in a test).
    const rootOnly = join(box.root, 'deleter', 'home', 'root-only');
    mkdirSync(rootOnly);
    writeFileSync(join(rootOnly, 'file'), 'x');
    await assert.rejects(rt.remove(ws, { deleteVolume: true }), /home could not be emptied by its owner \(uid \d+\).*delete what is left by hand/);
    assert.equal(existsSync(join(rootOnly, 'file')), true);
    rmSync(rootOnly, { recursive: true });
    await rt.remove(ws, { deleteVolume: true });
    assert.equal(existsSync(join(box.root, 'deleter')), false);
  });

  test('a working_dir the workspace turned into a link is entered as the workspace, so it cannot lead anywhere root can go', async () => {
    const ws = workspace('linker', { command: ['/bin/sh', '-c', 'cat secret.txt > "$HOME/leak.txt"; exec sleep 600'], working_dir: '/app' });
    await rt.apply({ ...ws, desired: 'stopped' }); // makes the home, as a created-stopped workspace has
    symlinkSync(secretDir, join(box.root, 'linker', 'home', 'app'));
    await rt.apply(ws);
    const leak = join(box.root, 'linker', 'home', 'leak.txt');
    const seen = await waitFor(async () => {
      const o = await rt.observe(ws);
      return o.status === 'FAILED' || existsSync(leak) ? o : undefined;
    }, 'FAILED, or a leak');
    assert.equal(existsSync(leak), false, 'the secret was read through the link');
    assert.equal(seen.exit_code, 126);
    assert.match(seen.conditions?.[0]?.message ?? '', /cannot enter working_dir app/);
    await rt.remove(ws, { deleteVolume: true });
  });

  test('a pre-start log the workspace replaced with a link to a root-only file is not read', async () => {
    const pre = `#!/bin/sh\nrm -f ../run/pre_start.log\nln -s ${secretDir}/secret.txt ../run/pre_start.log\nexit 3\n`;
    const ws = workspace('prelink', { command: ['sleep', '600'] }, { hooks: { pre_start: { path: 'pre.sh', content: Buffer.from(pre) } } });
    await rt.apply(ws);
    const seen = await waitFor(async () => {
      const o = await rt.observe(ws);
      return o.status === 'FAILED' ? o : undefined;
    }, 'FAILED');
    assert.equal(seen.exit_code, 3);
    assert.equal(seen.message, 'pre-start script failed with code 3');
    assert.doesNotMatch(JSON.stringify(seen), /root-only-secret/);
    await rt.remove(ws, { deleteVolume: true });
  });
});
