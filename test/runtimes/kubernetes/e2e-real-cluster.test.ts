// The behavioural cases again, against a real cluster. Opt-in: KUBECONFIG set and WSM_K8S_E2E=1.
// WSM_K8S_E2E_NAMESPACE picks the namespace (default: the context's); WSM_K8S_E2E_IMAGE the image
// (default busybox, kept alive with `sleep`, since only the pod's life cycle is under test).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppsV1Api, CoreV1Api, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import { KubernetesRuntime } from '../../../src/runtimes/kubernetes/index.js';
import { workspace as baseWorkspace } from './helpers.js';
import type { RuntimeWorkspace } from '../../../src/core/runtime.js';

const enabled = Boolean(process.env.KUBECONFIG) && process.env.WSM_K8S_E2E === '1';
const skip = enabled ? false : 'real-cluster suite: set KUBECONFIG and WSM_K8S_E2E=1 to run it';
if (skip) console.log(`skipped: ${skip}`);

const suffix = Date.now().toString(36);
const image = process.env.WSM_K8S_E2E_IMAGE ?? 'busybox:1.36';

function workspace(name: string, overrides: Partial<RuntimeWorkspace> = {}): RuntimeWorkspace {
  return baseWorkspace(`e2e-${name}-${suffix}`, { image, container: { command: ['sh', '-c', 'sleep 100000'] }, storage: { access_mode: 'ReadWriteOnce', request_size: '1Gi', retention_policy: 'Delete', mount_path: '/home/src' }, ...overrides });
}

async function until(runtime: KubernetesRuntime, ws: RuntimeWorkspace, status: string, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const o = await runtime.apply(ws);
    if (o.status === status) return o;
    if (Date.now() > deadline) assert.fail(`${ws.name} did not become ${status}: ${JSON.stringify(o)}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

describe('KubernetesRuntime against a real cluster', { skip }, () => {
  let runtime: KubernetesRuntime;
  let kc: KubeConfig;
  const created: RuntimeWorkspace[] = [];
  before(() => {
    kc = new KubeConfig();
    kc.loadFromDefault();
    runtime = new KubernetesRuntime({ kubeConfig: kc, namespace: process.env.WSM_K8S_E2E_NAMESPACE, ingressName: `wsm-e2e-${suffix}` });
  });
  after(async () => {
    for (const ws of created) await runtime.remove(ws, { deleteVolume: true }).catch(() => undefined);
    await kc.makeApiClient(NetworkingV1Api).deleteNamespacedIngress({ name: `wsm-e2e-${suffix}`, namespace: runtime.namespace }).catch(() => undefined);
    await runtime.close();
  });

  test('create, stop, resume, patch env (with removal), delete', async () => {
    const ws = workspace('life', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] });
    created.push(ws);
    const running = await until(runtime, ws, 'RUNNING');
    assert.equal(running.instance_name, `${ws.name}-0`);
    await until(runtime, { ...ws, generation: 2, desired: 'stopped' }, 'STOPPED');
    await until(runtime, { ...ws, generation: 3 }, 'RUNNING');
    await until(runtime, { ...ws, generation: 4, env: [{ name: 'A', value: '9' }] }, 'RUNNING');
    const pod = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ name: `${ws.name}-0`, namespace: runtime.namespace });
    assert.deepEqual(pod.spec?.containers[0]?.env?.map((e) => [e.name, e.value]), [['A', '9']]);
    await runtime.remove(ws, { deleteVolume: true });
    await assert.rejects(kc.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ name: ws.name, namespace: runtime.namespace }));
  });

  test('add_to_ingress twice leaves one path', async () => {
    const ws = workspace('ing', { ingress: { enabled: true } });
    created.push(ws);
    await runtime.apply(ws);
    await runtime.apply(ws);
    const ing = await kc.makeApiClient(NetworkingV1Api).readNamespacedIngress({ name: `wsm-e2e-${suffix}`, namespace: runtime.namespace });
    const paths = (ing.spec?.rules ?? []).flatMap((r) => r.http?.paths ?? []).filter((p) => p.path === `/${ws.name}`);
    assert.equal(paths.length, 1);
  });

  test('a pod that cannot pull its image is PENDING with ImagePullBackOff or ErrImagePull', async () => {
    const ws = workspace('pull', { image: 'registry.invalid/wsm/does-not-exist:1' });
    created.push(ws);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const o = await runtime.apply(ws);
      if (o.conditions?.some((c) => c.reason === 'ImagePullBackOff' || c.reason === 'ErrImagePull')) {
        assert.equal(o.status, 'PENDING');
        break;
      }
      if (Date.now() > deadline) assert.fail(`no image pull condition: ${JSON.stringify(o)}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  });
});
