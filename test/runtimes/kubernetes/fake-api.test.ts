// The fake API server is only useful if it answers like Kubernetes; these pin the behaviours the runtime relies on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../support/fake-kube-api/patch.js';
import { parseLabelSelector } from '../../support/fake-kube-api/selectors.js';
import { FakeKubeApi } from '../../support/fake-kube-api/index.js';

type Obj = Record<string, any>;
/** The Status body of a client error (the client leaves it as text for codes its spec does not list). */
const statusBody = (e: Obj): Obj => (typeof e.body === 'string' ? JSON.parse(e.body) : e.body);

describe('patch formats', () => {
  test('merge patch (RFC 7386): null deletes, arrays replace, objects merge', () => {
    assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { a: null, b: { c: 9 }, l: [3] }), { b: { c: 9, d: 3 }, l: [3] });
  });

  test('strategic merge patch merges containers and env by name and honours $patch directives', () => {
    const target = { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }] }], args: ['1', '2'] };
    const patch = {
      containers: [{ name: 'a', env: [{ name: 'A', value: 'new' }, { name: 'B', $patch: 'delete' }, { name: 'C', value: '3' }], ports: [{ containerPort: 81 }] }, { name: 'b', image: 'y' }],
      args: ['3'],
    };
    assert.deepEqual(strategicMergePatch(target, patch), {
      containers: [
        { name: 'a', image: 'x', env: [{ name: 'A', value: 'new' }, { name: 'C', value: '3' }], ports: [{ containerPort: 80 }, { containerPort: 81 }] },
        { name: 'b', image: 'y' },
      ],
      args: ['3'],
    });
    assert.deepEqual(strategicMergePatch({ env: [{ name: 'A', value: '1' }] }, { env: [{ $patch: 'replace' }, { name: 'Z', value: '9' }] }), { env: [{ name: 'Z', value: '9' }] });
    assert.deepEqual(strategicMergePatch({ nodeSelector: { a: '1' }, x: 1 }, { nodeSelector: { $patch: 'replace', b: '2' } }), { nodeSelector: { b: '2' }, x: 1 });
  });

  test('JSON patch (RFC 6902) is atomic', () => {
    const doc = { spec: { replicas: 1, list: ['a'] } };
    assert.deepEqual(jsonPatch(doc, [{ op: 'replace', path: '/spec/replicas', value: 0 }, { op: 'add', path: '/spec/list/-', value: 'b' }, { op: 'remove', path: '/spec/list/0' }]), { spec: { replicas: 0, list: ['b'] } });
    assert.throws(() => jsonPatch(doc, [{ op: 'add', path: '/spec/x', value: 1 }, { op: 'test', path: '/spec/replicas', value: 5 }]));
    assert.deepEqual(doc, { spec: { replicas: 1, list: ['a'] } });
  });

  test('label selectors: equality, set-based and existence', () => {
    const l = { app: 'a', tier: 'web' };
    assert.equal(parseLabelSelector('app=a,tier==web')(l), true);
    assert.equal(parseLabelSelector('app!=a')(l), false);
    assert.equal(parseLabelSelector('tier in (db, web)')(l), true);
    assert.equal(parseLabelSelector('tier notin (web)')(l), false);
    assert.equal(parseLabelSelector('app,!missing')(l), true);
    assert.equal(parseLabelSelector('!app')(l), false);
  });
});

describe('fake API server over HTTP', () => {
  let fake: FakeKubeApi;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  before(async () => {
    // These tests are about the API server's own rules. The simulated cluster would act on the
    // StatefulSets they create (pods, status) and change their resourceVersion between a test's read
    // and its write, at a moment that depends on the machine's speed: it is kept from acting here.
    fake = await FakeKubeApi.start({ tickMs: 600_000 });
    apps = fake.kubeConfig().makeApiClient(AppsV1Api);
    core = fake.kubeConfig().makeApiClient(CoreV1Api);
  });
  after(() => fake.close());

  const sts = (name: string): Obj => ({
    metadata: { name, labels: { app: name } },
    spec: { serviceName: name, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'img:1', env: [{ name: 'A', value: '1' }] }] } } },
  });

  test('create, 409 AlreadyExists, 404 NotFound with Status bodies', async () => {
    const created = await apps.createNamespacedStatefulSet({ namespace: 'default', body: sts('one') as never });
    assert.ok(created.metadata?.uid);
    assert.equal(created.metadata?.generation, 1);
    await assert.rejects(apps.createNamespacedStatefulSet({ namespace: 'default', body: sts('one') as never }), (e: Obj) => e.code === 409 && statusBody(e).reason === 'AlreadyExists');
    await assert.rejects(apps.readNamespacedStatefulSet({ name: 'nope', namespace: 'default' }), (e: Obj) => e.code === 404 && statusBody(e).kind === 'Status' && statusBody(e).reason === 'NotFound');
  });

  test('a PUT with a stale resourceVersion is a 409 Conflict; generation moves only with the spec', async () => {
    const current = await apps.readNamespacedStatefulSet({ name: 'one', namespace: 'default' });
    const stale = structuredClone(current);
    current.metadata!.labels = { ...current.metadata!.labels, extra: 'x' };
    const relabelled = await apps.replaceNamespacedStatefulSet({ name: 'one', namespace: 'default', body: current });
    assert.equal(relabelled.metadata?.generation, 1);
    assert.ok(Number(relabelled.metadata?.resourceVersion) > Number(stale.metadata?.resourceVersion));
    await assert.rejects(apps.replaceNamespacedStatefulSet({ name: 'one', namespace: 'default', body: stale }), (e: Obj) => e.code === 409 && statusBody(e).reason === 'Conflict');
    const patched = await apps.patchNamespacedStatefulSet(
      { name: 'one', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'c', env: [{ name: 'B', value: '2' }] }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.equal(patched.metadata?.generation, 2);
    assert.deepEqual(JSON.parse(JSON.stringify(patched.spec?.template.spec?.containers[0]?.env)), [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
  });

  test('the scale subresource reads and writes replicas', async () => {
    const scale = await apps.readNamespacedStatefulSetScale({ name: 'one', namespace: 'default' });
    assert.equal(scale.spec?.replicas, 1);
    await apps.patchNamespacedStatefulSetScale({ name: 'one', namespace: 'default', body: { spec: { replicas: 0 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.equal((await apps.readNamespacedStatefulSet({ name: 'one', namespace: 'default' })).spec?.replicas, 0);
  });

  test('lists filter by label selector and carry a resourceVersion', async () => {
    await apps.createNamespacedStatefulSet({ namespace: 'default', body: sts('two') as never });
    const list = await apps.listNamespacedStatefulSet({ namespace: 'default', labelSelector: 'app in (two,three)' });
    assert.deepEqual(list.items.map((i) => i.metadata?.name), ['two']);
    assert.ok(Number(list.metadata?.resourceVersion) > 0);
  });

  test('an object with a field in the wrong place is rejected with 422 and recorded', async () => {
    const before = fake.invalidWrites.length;
    await assert.rejects(
      apps.patchNamespacedStatefulSet({ name: 'two', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'c', nodeSelector: { a: 'b' } }] } } } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
      (e: Obj) => e.code === 422 && /containers\[0\]\.nodeSelector: unknown field/.test(statusBody(e).message),
    );
    assert.equal(fake.invalidWrites.length, before + 1);
    await assert.rejects(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'Bad_Name' } } }), (e: Obj) => e.code === 422);
    fake.invalidWrites.length = 0;
  });

  test('changing an immutable StatefulSet field is 422 Invalid', async () => {
    await assert.rejects(
      apps.patchNamespacedStatefulSet({ name: 'two', namespace: 'default', body: { spec: { serviceName: 'other' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      (e: Obj) => e.code === 422 && /Forbidden: updates to statefulset spec/.test(statusBody(e).message),
    );
    fake.invalidWrites.length = 0;
  });
});
