// Two wsm installations in one namespace: each labels what it makes, and neither changes or deletes
// the other's StatefulSet, Service or hooks ConfigMap of the same workspace name.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PermanentRuntimeError } from '../../../src/core/runtime.js';
import { assertNoInvalidWrites, harness, workspace, type Harness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await harness();
});
after(async () => {
  assertNoInvalidWrites(h.fake);
  await h.close();
});

const isConflict = (err: unknown) => err instanceof PermanentRuntimeError && err.reason === 'NameConflict';

test('another installation reports NameConflict for a taken name and leaves the objects alone', async () => {
  const a = h.newRuntime({ installation: 'inst-a' });
  const b = h.newRuntime({ installation: 'inst-b' });
  const hooks = { pre_start: { path: 'pre.sh', content: Buffer.from('#!/bin/sh\necho a\n') } };
  await a.apply(workspace('shared', { hooks }));
  const before = {
    sts: structuredClone(h.fake.get('statefulsets', 'team', 'shared')!),
    svc: structuredClone(h.fake.get('services', 'team', 'shared-service')!),
    cm: structuredClone(h.fake.get('configmaps', 'team', 'shared-hooks')!),
  };
  for (const object of Object.values(before)) assert.equal(object.metadata.labels?.['wsm.io/installation'], 'inst-a');

  await assert.rejects(b.apply(workspace('shared', { hooks: { pre_start: { path: 'pre.sh', content: Buffer.from('echo b') } }, env: [] })), isConflict);
  await assert.rejects(b.observe(workspace('shared')), (err) => isConflict(err) && /wsm\.io\/installation=inst-a/.test((err as Error).message));
  await b.remove(workspace('shared'), { deleteVolume: true });
  assert.deepEqual(await b.listInstances(), []);

  // The simulated StatefulSet controller may write the status meanwhile: what wsm would change is
  // the spec and the labels, and any write of them moves the generation.
  const sts = h.fake.get('statefulsets', 'team', 'shared')!;
  assert.equal(sts.metadata.generation, before.sts.metadata.generation);
  assert.deepEqual(sts.spec, before.sts.spec);
  assert.deepEqual(sts.metadata.labels, before.sts.metadata.labels);
  assert.equal(h.fake.get('services', 'team', 'shared-service')?.metadata.resourceVersion, before.svc.metadata.resourceVersion);
  assert.equal(h.fake.get('configmaps', 'team', 'shared-hooks')?.metadata.resourceVersion, before.cm.metadata.resourceVersion);
  assert.deepEqual(await a.listInstances(), ['shared']);
  await a.remove(workspace('shared'), { deleteVolume: true });
  assert.equal(h.fake.get('statefulsets', 'team', 'shared'), undefined);
});
