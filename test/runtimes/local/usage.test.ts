// The local runtime reports a workspace's CPU use, for auto-termination's resource signal.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalRuntime } from '../../../src/runtimes/local/index.js';
import { sandbox, workspace } from './helpers.js';

const box = sandbox();
const rt = new LocalRuntime({ rootDir: box.root, stopGraceMs: 1000 });
after(async () => {
  await rt.close();
  box.cleanup();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a busy process group shows CPU time growing; an idle one does not; a stopped one has no sample', async () => {
  // The busy loop runs in a child of the main process, so the group's total is what counts.
  const busy = workspace('busy', { command: ['/bin/sh', '-c', '( while :; do :; done ) & sleep 600'] });
  const idle = workspace('idle', { command: ['/bin/sh', '-c', 'sleep 600'] });
  await rt.apply(busy);
  await rt.apply(idle);
  const b1 = await rt.usage(busy);
  const i1 = await rt.usage(idle);
  await pause(1500);
  const b2 = await rt.usage(busy);
  const i2 = await rt.usage(idle);
  assert.ok(b1 && b2 && i1 && i2);
  const busyCores = (b2.cpu_seconds! - b1.cpu_seconds!) / ((b2.at - b1.at) / 1000);
  const idleCores = (i2.cpu_seconds! - i1.cpu_seconds!) / ((i2.at - i1.at) / 1000);
  assert.ok(busyCores > 0.1, `the busy loop used ${busyCores} cores`);
  assert.ok(idleCores < 0.05, `the sleeping process used ${idleCores} cores`);
  assert.equal(b2.net_bytes, undefined, 'no per-process network counters on Linux');
  await rt.apply({ ...busy, desired: 'stopped' });
  assert.equal(await rt.usage(busy), undefined);
  await rt.remove(busy, { deleteVolume: true });
  await rt.remove(idle, { deleteVolume: true });
});
