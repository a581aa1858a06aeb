// The fake API server rejects what the real one rejects, for the kinds of objects wsm sends: the same
// cases go to the fake and, when a real control plane is given (WSM_TEST_KUBECONFIG; always in CI), to
// the real API server, and each must be refused there with the same field named, or accepted by both.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { buildService, buildStatefulSet } from '../../../src/runtimes/kubernetes/manifests.js';
import { FakeKubeApi } from '../../support/fake-kube-api/index.js';
import { adminClients, realClusterSkip, testNamespace, type TestNamespace } from './real-cluster/cluster.js';
import { workspace } from './helpers.js';

type Obj = Record<string, any>;
const defaults = { serviceType: 'ClusterIP' as const };

function ingress(name: string, spec: Obj): Obj {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name }, spec };
}
const backend = { service: { name: 'a-service', port: { number: 6789 } } };
const path = (extra: Obj = {}) => ({ path: '/a', pathType: 'Prefix', backend, ...extra });

/** An object and the field the server must name in its 422, or undefined when it must be accepted. */
interface Case {
  what: string;
  object: (ns: string) => Obj;
  rejects?: string;
}

const CASES: Case[] = [
  { what: 'an Ingress rule with an empty path list', object: () => ingress('i-empty', { rules: [{ http: { paths: [] } }] }), rejects: 'spec.rules[0].http.paths: Required value' },
  { what: 'an Ingress without rules or default backend', object: () => ingress('i-none', { rules: [] }), rejects: 'spec: Invalid value' },
  { what: 'an Ingress path without pathType', object: () => ingress('i-type', { rules: [{ http: { paths: [path({ pathType: undefined })] } }] }), rejects: 'spec.rules[0].http.paths[0].pathType: Required value' },
  { what: 'an Ingress path without backend', object: () => ingress('i-backend', { rules: [{ http: { paths: [path({ backend: undefined })] } }] }), rejects: 'spec.rules[0].http.paths[0].backend' },
  { what: 'a relative Ingress path', object: () => ingress('i-rel', { rules: [{ http: { paths: [path({ path: 'a' })] } }] }), rejects: 'spec.rules[0].http.paths[0].path' },
  { what: 'an Ingress rule with neither host nor http (what wsm leaves after the last path)', object: () => ingress('i-bare', { rules: [{}] }) },
  { what: 'an Ingress rule with only a host', object: () => ingress('i-host', { rules: [{ host: 'ws.example.com' }] }) },
  { what: 'an upper-case name', object: () => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Hooks' } }), rejects: 'metadata.name' },
  { what: 'a label value with a space', object: () => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lbl', labels: { app: 'a b' } } }), rejects: 'metadata.labels' },
  { what: 'a label key with two slashes', object: () => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lbl2', labels: { 'a/b/c': 'x' } } }), rejects: 'metadata.labels' },
  { what: 'a ConfigMap key with a slash', object: () => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keys' }, data: { 'a/b': 'x' } }), rejects: 'data[a/b]' },
  { what: 'a Service without ports', object: () => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'noports' }, spec: { selector: { app: 'x' } } }), rejects: 'spec.ports: Required value' },
  { what: 'a Service named with a leading digit', object: () => ({ ...buildService(workspace('svc'), '', defaults), metadata: { name: '1-service' } }), rejects: 'metadata.name' },
  { what: 'the Service wsm builds', object: (ns) => buildService(workspace('good'), ns, defaults) },
  { what: 'the StatefulSet wsm builds', object: (ns) => buildStatefulSet(workspace('good', { hooks: { pre_start: { path: 'p', content: Buffer.from('true') } } }), ns, defaults) },
  // Found by running these cases on the real server: it does not check a StatefulSet's containers on the
  // write (the pod is refused later, when the StatefulSet controller creates it), only the template's labels.
  {
    what: 'a StatefulSet mounting a volume it does not declare, with two containers of one name and an env name holding "="',
    object: (ns) => {
      const sts = buildStatefulSet(workspace('lax'), ns, defaults) as Obj;
      const c = sts.spec.template.spec.containers[0];
      c.volumeMounts.push({ name: 'wsm-hooks', mountPath: '/app/hooks' });
      c.env = [{ name: 'A=B', value: 'y' }];
      sts.spec.template.spec.initContainers = [{ ...c }];
      return sts;
    },
  },
  {
    what: 'a StatefulSet whose pod template has a label value with a space',
    object: (ns) => {
      const sts = buildStatefulSet(workspace('badlabel'), ns, defaults) as Obj;
      sts.spec.template.metadata.labels.team = 'a b';
      return sts;
    },
    rejects: 'spec.template.labels',
  },
  // The annotations the server reads as pod settings are checked on the write (what a change plan's dry run finds).
  {
    what: 'a StatefulSet whose pod template names a seccomp profile that does not exist',
    object: (ns) => buildStatefulSet(workspace('seccomp', { container: { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'bogus' } } }), ns, defaults),
    rejects: 'spec.template.annotations.seccomp.security.alpha.kubernetes.io/pod: Invalid value',
  },
  {
    what: 'a StatefulSet whose pod template names an AppArmor profile wrongly',
    object: (ns) => buildStatefulSet(workspace('apparmor', { container: { annotations: { 'container.apparmor.security.beta.kubernetes.io/apparmor-container': 'bogus' } } }), ns, defaults),
    rejects: 'spec.template.annotations[container.apparmor.security.beta.kubernetes.io/apparmor-container]: Invalid value',
  },
  {
    what: 'a StatefulSet whose pod template asks for the default seccomp profile',
    object: (ns) => buildStatefulSet(workspace('seccomp-ok', { container: { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default' } } }), ns, defaults),
  },
  {
    what: 'a StatefulSet named longer than 63 characters',
    object: (ns) => ({ ...buildStatefulSet(workspace('long'), ns, defaults), metadata: { name: 'a'.repeat(64) } }),
    rejects: 'metadata.name',
  },
  {
    what: 'a StatefulSet whose selector does not match its template',
    object: (ns) => {
      const sts = buildStatefulSet(workspace('mismatch'), ns, defaults) as Obj;
      sts.spec.selector = { matchLabels: { app: 'other' } };
      return sts;
    },
    rejects: 'spec.template.metadata.labels',
  },
];

/** StatefulSet updates the real server forbids (fields fixed at creation). */
const IMMUTABLE: { what: string; change: (spec: Obj) => void }[] = [
  { what: 'selector', change: (s) => (s.selector = { matchLabels: { app: 'other' } }) },
  { what: 'serviceName', change: (s) => (s.serviceName = 'other-service') },
  { what: 'volumeClaimTemplates', change: (s) => (s.volumeClaimTemplates[0].spec.resources.requests.storage = '9Gi') },
];

async function outcome(write: () => Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await write();
    return { code: 201, message: '' };
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : (e.body as Obj | undefined);
    return { code: e.code ?? 0, message: String(body?.message ?? err) };
  }
}

function suite(target: string, setUp: () => Promise<{ kc: KubeConfig; namespace: string; close(): Promise<void> }>, skip: string | false) {
  describe(`${target} API server: what is rejected`, { skip }, () => {
    let kc: KubeConfig;
    let namespace: string;
    let close: () => Promise<void>;
    let client: KubernetesObjectApi;
    before(async () => {
      ({ kc, namespace, close } = await setUp());
      client = KubernetesObjectApi.makeApiClient(kc);
    });
    after(async () => close?.());

    for (const c of CASES) {
      test(`${c.rejects ? 'rejects' : 'accepts'} ${c.what}`, async () => {
        const obj = c.object(namespace);
        const result = await outcome(() => client.create({ ...obj, metadata: { ...obj.metadata, namespace } } as KubernetesObject));
        if (!c.rejects) {
          assert.equal(result.code, 201, result.message);
          return;
        }
        assert.equal(result.code, 422, `expected 422, got ${result.code} ${result.message}`);
        assert.ok(result.message.includes(c.rejects), `the message names ${c.rejects}: ${result.message}`);
      });
    }

    for (const c of IMMUTABLE) {
      test(`rejects a StatefulSet update of ${c.what}`, async () => {
        const name = `imm-${c.what.toLowerCase()}`;
        await client.create(buildStatefulSet(workspace(name), namespace, defaults) as KubernetesObject);
        // Read, change, replace; again on 409, as the StatefulSet controller writes the status meanwhile.
        let result = { code: 409, message: '' };
        for (let attempt = 0; attempt < 5 && result.code === 409; attempt++) {
          const current = (await client.read({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace } })) as Obj;
          c.change(current.spec);
          result = await outcome(() => client.replace(current as KubernetesObject));
        }
        assert.equal(result.code, 422, result.message);
        assert.match(result.message, /spec: Forbidden: updates to statefulset spec for fields other than/);
      });
    }
  });
}

suite(
  'the fake',
  async () => {
    const fake = await FakeKubeApi.start();
    return { kc: fake.kubeConfig('conf'), namespace: 'conf', close: () => fake.close() };
  },
  false,
);

suite(
  'the real',
  async () => {
    const admin = adminClients();
    const ns: TestNamespace = await testNamespace(admin, 'conf');
    return { kc: admin.kc, namespace: ns.name, close: () => ns.dispose() };
  },
  realClusterSkip(),
);
