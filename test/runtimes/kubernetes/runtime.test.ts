import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyUntil, assertNoInvalidWrites, containerOf, eventually, harness, podSpecOf, workspace, type Harness } from './helpers.js';

type Obj = Record<string, any>;

const ingressPaths = (ing: any): string[] => (ing?.spec?.rules ?? []).flatMap((r: any) => r.http?.paths ?? []).map((p: any) => p.path);

describe('KubernetesRuntime against the fake API server', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => {
    assertNoInvalidWrites(h.fake);
    await h.close();
  });

  test('create makes the StatefulSet, Service, pod and claim with Mage names and labels', async () => {
    const ws = workspace('create-me', { container: { resources: { limits: { cpu: '1', memory: '2Gi' }, requests: { cpu: '250m' } }, command: ['mage', 'start'], working_dir: '/home/src' } });
    const observed = await applyUntil(h.runtime, ws, 'RUNNING');
    assert.equal(observed.instance_name, 'create-me-0');
    assert.equal(observed.instance_type, 'ClusterIP');
    assert.match(observed.ip ?? '', /^10\.96\.\d+\.\d+:6789$/);
    assert.equal(observed.generation, 1);

    const sts = h.fake.get('statefulsets', 'team', 'create-me')!;
    const spec = sts.spec as Obj;
    assert.deepEqual(sts.metadata.labels, { app: 'create-me', 'dev-instance': '1', 'app.kubernetes.io/managed-by': 'wsm', 'wsm.io/installation': 'default' });
    assert.equal(spec.serviceName, 'create-me-service');
    assert.deepEqual(spec.selector, { matchLabels: { app: 'create-me' } });
    assert.deepEqual(spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    assert.equal(spec.template.metadata.labels['dev-instance'], '1');
    assert.ok(sts.metadata.annotations?.['wsm/config-hash']);
    assert.equal(sts.metadata.annotations?.['wsm/generation'], '1');
    const c = containerOf(h.fake, 'team', 'create-me');
    assert.equal(c.name, 'create-me-container');
    assert.equal(c.image, 'mageai/mageai:0.9.76');
    assert.deepEqual(c.ports, [{ name: 'http', containerPort: 6789, protocol: 'TCP' }]);
    assert.deepEqual(c.env, [{ name: 'MAGE_ENV', value: 'dev' }]);
    assert.deepEqual(c.resources, { limits: { cpu: '1', memory: '2Gi' }, requests: { cpu: '250m' } });
    assert.deepEqual(c.command, ['mage', 'start']);
    assert.equal(c.workingDir, '/home/src');
    assert.deepEqual(c.volumeMounts, [{ name: 'mage-data', mountPath: '/home/src' }]);
    assert.deepEqual(spec.volumeClaimTemplates[0].spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } });

    const svc = h.fake.get('services', 'team', 'create-me-service')!;
    assert.deepEqual((svc.spec as Obj).selector, { app: 'create-me' });
    assert.equal((svc.spec as Obj).ports[0].port, 6789);
    assert.equal((svc.spec as Obj).ports[0].targetPort, 6789);
    assert.equal(svc.metadata.labels?.['app.kubernetes.io/managed-by'], 'wsm');
    assert.ok(h.fake.get('pods', 'team', 'create-me-0'));
    assert.ok(h.fake.get('persistentvolumeclaims', 'team', 'mage-data-create-me-0'));
  });

  test('storage class, access mode, service account, pull secrets and service type come from the workspace or the defaults', async () => {
    const runtime = h.newRuntime({ storageClassName: 'fast', serviceAccountName: 'wsm-workspaces', imagePullSecrets: ['regcred'], serviceType: 'NodePort' });
    const ws = workspace('defaults', { storage: { access_mode: 'ReadWriteMany', request_size: '5Gi', retention_policy: 'Retain', mount_path: '/data' } });
    const observed = await applyUntil(runtime, ws, 'RUNNING');
    const spec = h.fake.get('statefulsets', 'team', 'defaults')!.spec as Obj;
    assert.deepEqual(spec.volumeClaimTemplates[0].spec, { accessModes: ['ReadWriteMany'], storageClassName: 'fast', resources: { requests: { storage: '5Gi' } } });
    assert.equal(spec.template.spec.serviceAccountName, 'wsm-workspaces');
    assert.deepEqual(spec.template.spec.imagePullSecrets, [{ name: 'regcred' }]);
    assert.equal(observed.instance_type, 'NodePort');
    const nodePort = (h.fake.get('services', 'team', 'defaults-service')!.spec as Obj).ports[0].nodePort;
    assert.equal(observed.ip, `192.168.49.2:${nodePort}`);
    assert.equal(containerOf(h.fake, 'team', 'defaults').volumeMounts[0].mountPath, '/data');

    const own = workspace('defaults', { service_account_name: 'mine', container: { service_type: 'ClusterIP', image_pull_secrets: ['other'] }, storage: ws.storage, generation: 2 });
    const again = await applyUntil(runtime, own, 'RUNNING');
    assert.equal(again.instance_type, 'ClusterIP');
    assert.equal(podSpecOf(h.fake, 'team', 'defaults').serviceAccountName, 'mine');
    assert.deepEqual(podSpecOf(h.fake, 'team', 'defaults').imagePullSecrets, [{ name: 'other' }]);
  });

  test('stop scales to 0 through the scale subresource and resume brings the same claim back', async () => {
    const ws = workspace('stopper');
    await applyUntil(h.runtime, ws, 'RUNNING');
    const claimUid = h.fake.get('persistentvolumeclaims', 'team', 'mage-data-stopper-0')!.metadata.uid;
    const stopped = await applyUntil(h.runtime, { ...ws, desired: 'stopped', generation: 2 }, 'STOPPED');
    assert.equal(stopped.ip, undefined);
    assert.equal((h.fake.get('statefulsets', 'team', 'stopper')!.spec as Obj).replicas, 0);
    assert.equal(h.fake.get('pods', 'team', 'stopper-0'), undefined);
    assert.ok(h.fake.requests.some((r) => r.method === 'PATCH' && r.path.endsWith('/statefulsets/stopper/scale') && (r.body as Obj)?.spec?.replicas === 0));
    assert.ok(h.fake.get('services', 'team', 'stopper-service'), 'the service stays while stopped');

    await applyUntil(h.runtime, { ...ws, desired: 'running', generation: 3 }, 'RUNNING');
    assert.equal(h.fake.get('persistentvolumeclaims', 'team', 'mage-data-stopper-0')!.metadata.uid, claimUid);
  });

  test('a new workspace created stopped gets replicas 0 and reports STOPPED', async () => {
    const observed = await applyUntil(h.runtime, workspace('born-stopped', { desired: 'stopped' }), 'STOPPED');
    assert.equal(observed.status, 'STOPPED');
    assert.equal((h.fake.get('statefulsets', 'team', 'born-stopped')!.spec as Obj).replicas, 0);
  });

  test('patching env adds, changes and really removes variables, and rolls the pod', async () => {
    const ws = workspace('envy', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] });
    await applyUntil(h.runtime, ws, 'RUNNING');
    const firstPod = h.fake.get('pods', 'team', 'envy-0')!.metadata.uid;

    const patched = { ...ws, generation: 2, env: [{ name: 'A', value: 'changed' }, { name: 'C', value: '3' }] };
    const observed = await applyUntil(h.runtime, patched, 'RUNNING');
    assert.equal(observed.generation, 2);
    assert.deepEqual(containerOf(h.fake, 'team', 'envy').env, [{ name: 'A', value: 'changed' }, { name: 'C', value: '3' }]);
    const pod = h.fake.get('pods', 'team', 'envy-0')!;
    assert.notEqual(pod.metadata.uid, firstPod, 'the pod was replaced');
    assert.deepEqual((pod.spec as Obj).containers[0].env, [{ name: 'A', value: 'changed' }, { name: 'C', value: '3' }]);
  });

  test('an image change and a resources change reach the pod', async () => {
    const ws = workspace('imagey');
    await applyUntil(h.runtime, ws, 'RUNNING');
    const next = { ...ws, generation: 2, image: 'mageai/mageai:0.9.77', container: { resources: { limits: { memory: '4Gi' } } } };
    await applyUntil(h.runtime, next, 'RUNNING');
    const pod = h.fake.get('pods', 'team', 'imagey-0')!;
    assert.equal((pod.spec as Obj).containers[0].image, 'mageai/mageai:0.9.77');
    assert.deepEqual((pod.spec as Obj).containers[0].resources, { limits: { memory: '4Gi' } });
  });

  test('nodeSelector, tolerations and affinity land on the pod spec, not the container, and can be removed', async () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } };
    const tolerations = [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }];
    const ws = workspace('podkeys', { container: { nodeSelector: { pool: 'data' }, tolerations, affinity } });
    await applyUntil(h.runtime, ws, 'RUNNING');
    const pod = h.fake.get('pods', 'team', 'podkeys-0')!.spec as Obj;
    assert.deepEqual(pod.nodeSelector, { pool: 'data' });
    assert.deepEqual(pod.tolerations, tolerations);
    assert.deepEqual(pod.affinity, affinity);
    assert.equal(pod.containers[0].nodeSelector, undefined);

    await applyUntil(h.runtime, { ...ws, generation: 2, container: { tolerations } }, 'RUNNING');
    const after = podSpecOf(h.fake, 'team', 'podkeys');
    assert.equal(after.nodeSelector, undefined);
    assert.equal(after.affinity, undefined);
  });

  test('pre-start runs as an init container and post-start as a lifecycle hook, from the hooks ConfigMap', async () => {
    const ws = workspace('hooked', {
      lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 }, post_start: { command: ['echo', 'hello world'], hook_path: 'post.sh' }, pre_start_script_path: 'pre.sh' },
      hooks: { pre_start: { path: 'pre.sh', content: Buffer.from('#!/bin/sh\necho pre\n') }, post_start: { path: 'post.sh', content: Buffer.from('#!/bin/sh\necho post\n') } },
    });
    await applyUntil(h.runtime, ws, 'RUNNING');
    const cm = h.fake.get('configmaps', 'team', 'hooked-hooks')!;
    const { 'wsm-post-start-run': wrapper, ...scripts } = cm.data as Record<string, string>;
    assert.deepEqual(scripts, { 'pre-start': '#!/bin/sh\necho pre\n', 'post-start': '#!/bin/sh\necho post\n' });
    assert.match(wrapper ?? '', /^#!\/bin\/sh\n/, 'the post-start wrapper is delivered with the scripts');
    const spec = podSpecOf(h.fake, 'team', 'hooked');
    assert.deepEqual(spec.volumes, [{ name: 'wsm-hooks', configMap: { name: 'hooked-hooks', defaultMode: 0o755 } }]);
    const init = spec.initContainers[0];
    assert.equal(init.name, 'pre-start');
    assert.equal(init.image, ws.image);
    assert.deepEqual(init.env, ws.env);
    assert.match(init.command.join(' '), /^\/bin\/sh -c timeout \d+ \/app\/hooks\/pre-start$/);
    assert.ok(init.volumeMounts.some((m: Obj) => m.name === 'mage-data' && m.mountPath === '/home/src'));
    assert.ok(init.volumeMounts.some((m: Obj) => m.name === 'wsm-hooks' && m.mountPath === '/app/hooks'));
    const postStart = spec.containers[0].lifecycle.postStart.exec.command;
    assert.deepEqual(postStart, ['/bin/sh', '/app/hooks/wsm-post-start-run', '0', "echo 'hello world'", '/app/hooks/post-start', '300', '/tmp/wsm-post-start.json', '0']);
    assert.equal(init.terminationMessagePolicy, 'FallbackToLogsOnError');

    // Changing a script rolls the pod; dropping both removes the ConfigMap, the mount and the init container.
    const before = h.fake.get('pods', 'team', 'hooked-0')!.metadata.uid;
    const changed = { ...ws, generation: 2, hooks: { ...ws.hooks, pre_start: { path: 'pre.sh', content: Buffer.from('#!/bin/sh\necho pre2\n') } } };
    await applyUntil(h.runtime, changed, 'RUNNING');
    assert.notEqual(h.fake.get('pods', 'team', 'hooked-0')!.metadata.uid, before);
    assert.equal(h.fake.get('configmaps', 'team', 'hooked-hooks')!.data?.['pre-start' as never], '#!/bin/sh\necho pre2\n');

    const plain = { ...ws, generation: 3, hooks: {}, lifecycle: { termination_policy: ws.lifecycle.termination_policy } };
    await applyUntil(h.runtime, plain, 'RUNNING');
    assert.equal(h.fake.get('configmaps', 'team', 'hooked-hooks'), undefined);
    const bare = podSpecOf(h.fake, 'team', 'hooked');
    assert.equal(bare.initContainers, undefined);
    assert.equal(bare.volumes, undefined);
    assert.equal(bare.containers[0].lifecycle, undefined);
  });

  test('a failing pre-start script shows FAILED with its exit code', async () => {
    h.fake.setPodHook((pod) => (pod.metadata.name === 'badpre-0' ? { kind: 'init-failed', container: 'pre-start', exitCode: 3, message: 'missing file' } : undefined));
    try {
      const ws = workspace('badpre', { hooks: { pre_start: { path: 'pre.sh', content: Buffer.from('exit 3') } } });
      const observed = await applyUntil(h.runtime, ws, 'FAILED');
      const condition = observed.conditions?.find((c) => c.reason === 'PreStartFailed');
      assert.ok(condition, JSON.stringify(observed));
      assert.match(condition.message ?? '', /exited with code 3: missing file/);
    } finally {
      h.fake.setPodHook(undefined);
    }
  });

  test('a pod stuck pulling its image is PENDING with the ImagePullBackOff condition and message', async () => {
    const ws = workspace('pully', { image: 'registry.example/pull-fail:1' });
    const observed = await eventually(async () => {
      const o = await h.runtime.apply(ws);
      return o.conditions?.some((c) => c.reason === 'ImagePullBackOff') ? o : undefined;
    }, 'ImagePullBackOff');
    assert.equal(observed.status, 'PENDING');
    const c = observed.conditions!.find((x) => x.reason === 'ImagePullBackOff')!;
    assert.match(c.message ?? '', /Back-off pulling image "registry.example\/pull-fail:1"/);
    assert.match(observed.message ?? '', /ImagePullBackOff/);
  });

  test('a crash loop is FAILED with the kubelet\'s restarts and backoff; an unschedulable pod is PENDING with its reason', async () => {
    const crash = await eventually(async () => {
      const o = await h.runtime.apply(workspace('crashy', { image: 'example/crash:1' }));
      return o.conditions?.some((c) => c.reason === 'CrashLoopBackOff') ? o : undefined;
    }, 'CrashLoopBackOff');
    assert.equal(crash.status, 'FAILED', 'nothing runs while the kubelet backs off');
    assert.equal(crash.conditions!.filter((c) => c.type === 'Ready').length, 1);
    assert.match(crash.conditions!.find((c) => c.type === 'Ready')!.message ?? '', /exited with code 1; back-off 40 s before restart 4 \(at /);
    assert.ok(crash.engine_restarts && crash.engine_restarts.count >= 1, JSON.stringify(crash.engine_restarts));
    assert.ok(crash.engine_restarts.next_retry_at);
    assert.equal(crash.termination?.reason, 'Exited');
    const unsched = await eventually(async () => {
      const o = await h.runtime.apply(workspace('nowhere', { image: 'example/unschedulable:1' }));
      return o.conditions?.find((c) => c.reason === 'Unschedulable') ? o : undefined;
    }, 'Unschedulable');
    assert.equal(unsched.status, 'PENDING');
    assert.match(unsched.conditions!.find((c) => c.reason === 'Unschedulable')!.message ?? '', /Insufficient cpu/);
  });

  test('a pod the StatefulSet controller may not create is PENDING with its FailedCreate message; once allowed, it runs', async () => {
    const quota = 'pods "quota-0" is forbidden: exceeded quota: team-quota, requested: pods=1, used: pods=4, limited: pods=4';
    h.fake.refusePodCreation((sts) => (sts.metadata.name === 'quota' ? quota : undefined));
    try {
      const ws = workspace('quota');
      const refused = await eventually(async () => {
        const o = await h.runtime.apply(ws);
        return o.conditions?.some((c) => c.reason === 'FailedCreate') ? o : undefined;
      }, 'FailedCreate');
      assert.equal(refused.status, 'PENDING');
      const c = refused.conditions!.find((x) => x.reason === 'FailedCreate')!;
      assert.equal(c.type, 'PodCreated');
      assert.equal(c.status, 'False');
      assert.equal(c.message, `create Pod quota-0 in StatefulSet quota failed error: ${quota}`);
      assert.equal(refused.message, `the pod cannot be created: ${c.message}`);
    } finally {
      h.fake.refusePodCreation(undefined);
    }
    const running = await applyUntil(h.runtime, workspace('quota'), 'RUNNING');
    assert.ok(!running.conditions?.some((c) => c.reason === 'FailedCreate'), JSON.stringify(running.conditions));
  });

  test('a missing StatefulSet is UNAVAILABLE', async () => {
    const observed = await h.runtime.observe(workspace('ghost'));
    assert.equal(observed.status, 'UNAVAILABLE');
    assert.equal(observed.message, 'statefulset ghost not found');
  });

  test('objects deleted or edited behind our back are put back when the runtime looks, and it says what it repaired', async () => {
    const ws = workspace('fragile', { ingress: { enabled: true }, hooks: { post_start: { path: 'p.sh', content: Buffer.from('true') } } });
    await applyUntil(h.runtime, ws, 'RUNNING');
    h.fake.remove('services', 'team', 'fragile-service');
    h.fake.remove('configmaps', 'team', 'fragile-hooks');
    const repaired = await h.runtime.observe(ws);
    assert.equal(repaired.status, 'RUNNING');
    assert.ok(!repaired.conditions?.some((c) => c.reason === 'ServiceMissing'), JSON.stringify(repaired.conditions));
    const said = repaired.conditions?.find((c) => c.type === 'Repaired');
    assert.match(said?.message ?? '', /recreated service fragile-service \(it had been deleted\); recreated configmap fragile-hooks/);
    assert.ok(h.fake.get('services', 'team', 'fragile-service'));
    assert.ok(h.fake.get('configmaps', 'team', 'fragile-hooks'));

    const svc = h.fake.get('services', 'team', 'fragile-service') as any;
    h.fake.put('services', { ...svc, spec: { ...svc.spec, selector: { app: 'someone-else' } } });
    const ing = h.fake.get('ingresses', 'team', 'wsm-ingress') as any;
    h.fake.put('ingresses', { ...ing, spec: { rules: [{ host: 'kept.example.com' }] } });
    const sts = h.fake.get('statefulsets', 'team', 'fragile') as any;
    h.fake.put('statefulsets', { ...sts, spec: { ...sts.spec, replicas: 0 } });
    const again = await h.runtime.observe(ws);
    assert.match(again.conditions?.find((c) => c.type === 'Repaired')?.message ?? '', /restored service fragile-service .*restored path \/fragile on ingress wsm-ingress \(it had been removed\); scaled statefulset fragile back to 1 replicas \(found 0\)/);
    assert.deepEqual((h.fake.get('services', 'team', 'fragile-service') as any).spec.selector, { app: 'fragile' });
    assert.equal((h.fake.get('statefulsets', 'team', 'fragile') as any).spec.replicas, 1);
    assert.ok(ingressPaths(h.fake.get('ingresses', 'team', 'wsm-ingress')).includes('/fragile'));

    // Nothing drifted: looking writes nothing.
    const from = h.fake.requests.length;
    await applyUntil(h.runtime, ws, 'RUNNING');
    await h.runtime.observe(ws);
    assert.deepEqual(h.fake.requests.slice(from).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`), []);

    h.fake.remove('statefulsets', 'team', 'fragile');
    assert.equal((await h.runtime.observe(ws)).status, 'UNAVAILABLE', 'a StatefulSet deleted by hand is reported, not recreated by a look');
    await applyUntil(h.runtime, ws, 'RUNNING');
    assert.ok(h.fake.get('statefulsets', 'team', 'fragile'));
  });

  test('what wsm itself scaled down (a fatal post-start) is not scaled back by the repair', async () => {
    const ws = workspace('halted');
    await applyUntil(h.runtime, ws, 'RUNNING');
    await h.runtime.apply({ ...ws, desired: 'stopped' }); // what the controller does, the workspace staying desired running
    const seen = await h.runtime.observe(ws);
    assert.equal((h.fake.get('statefulsets', 'team', 'halted') as any).spec.replicas, 0);
    assert.ok(!seen.conditions?.some((c) => c.type === 'Repaired'), JSON.stringify(seen.conditions));
  });

  test('a spec not applied yet is left to apply: a look does not repair against it', async () => {
    const ws = workspace('newer');
    await applyUntil(h.runtime, ws, 'RUNNING');
    h.fake.remove('services', 'team', 'newer-service');
    const seen = await h.runtime.observe({ ...ws, generation: 2, env: [] });
    assert.ok(seen.conditions?.some((c) => c.reason === 'ServiceMissing'));
    assert.equal(h.fake.get('services', 'team', 'newer-service'), undefined);
  });

  test('a new runtime instance (a control-plane restart) converges without rewriting anything', async () => {
    const ws = workspace('steady', { env: [{ name: 'X', value: '1' }] });
    await applyUntil(h.runtime, ws, 'RUNNING');
    const restarted = h.newRuntime();
    assert.ok((await restarted.listInstances()).includes('steady'));
    const from = h.fake.requests.length;
    const observed = await restarted.apply(ws);
    assert.equal(observed.status, 'RUNNING');
    const writes = h.fake.requests.slice(from).filter((r) => r.method !== 'GET');
    assert.deepEqual(writes.map((r) => `${r.method} ${r.path}`), []);

    // And it picks up a spec change made while it was away.
    await applyUntil(restarted, { ...ws, generation: 2, env: [] }, 'RUNNING');
    assert.deepEqual(containerOf(h.fake, 'team', 'steady').env, []);
  });

  test('delete with retention Retain keeps the claim; with deleteVolume or Delete it goes', async () => {
    const keep = workspace('keeper');
    await applyUntil(h.runtime, keep, 'RUNNING');
    await h.runtime.remove(keep, { deleteVolume: false });
    assert.equal(h.fake.get('statefulsets', 'team', 'keeper'), undefined);
    assert.equal(h.fake.get('services', 'team', 'keeper-service'), undefined);
    await eventually(() => h.fake.get('pods', 'team', 'keeper-0') === undefined, 'pod gone');
    assert.ok(h.fake.get('persistentvolumeclaims', 'team', 'mage-data-keeper-0'), 'Retain keeps the volume');
    assert.equal((await h.runtime.observe(keep)).status, 'UNAVAILABLE');
    await h.runtime.remove(keep, { deleteVolume: true });
    assert.equal(h.fake.get('persistentvolumeclaims', 'team', 'mage-data-keeper-0'), undefined);

    const drop = workspace('dropper', { storage: { access_mode: 'ReadWriteOnce', request_size: '1Gi', retention_policy: 'Delete', mount_path: '/home/src' }, hooks: { pre_start: { path: 'x', content: Buffer.from('true') } } });
    await applyUntil(h.runtime, drop, 'RUNNING');
    assert.equal((h.fake.get('statefulsets', 'team', 'dropper')!.spec as Obj).persistentVolumeClaimRetentionPolicy.whenDeleted, 'Delete');
    await h.runtime.remove(drop, { deleteVolume: false });
    await eventually(() => h.fake.get('persistentvolumeclaims', 'team', 'mage-data-dropper-0') === undefined, 'claim deleted');
    assert.equal(h.fake.get('configmaps', 'team', 'dropper-hooks'), undefined);
    // Removing what is already gone succeeds.
    await h.runtime.remove(drop, { deleteVolume: true });
  });

  test('a workspace namespace overrides the default one', async () => {
    const ws = workspace('elsewhere', { namespace: 'other' });
    await applyUntil(h.runtime, ws, 'RUNNING');
    assert.ok(h.fake.get('statefulsets', 'other', 'elsewhere'));
    assert.equal(h.fake.get('statefulsets', 'team', 'elsewhere'), undefined);
  });
});
