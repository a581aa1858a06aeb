// The proxy's way to Kubernetes workspaces. In a cluster: the Service's DNS name. From outside: the API
// server's service proxy, tested against the real API server (WSM_TEST_KUBECONFIG) with wsm's own
// ServiceAccount and the Role it ships. There is no kubelet, so no pod runs and the Service has no
// endpoint: what can be shown honestly is that a request through the proxy reaches the API server's
// service proxy for that workspace's Service, authenticated and allowed by the Role, and that the API
// server's own answer (no endpoint yet) comes back. That the workspace then gets the path is not shown.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { KubeConfig } from '@kubernetes/client-node';
import type { WorkspaceRecord } from '../../src/core/types.js';
import type { Store } from '../../src/store/store.js';
import type { Authenticator, Principal } from '../../src/server/auth.js';
import { ProxyAddressing } from '../../src/proxy/addressing.js';
import { kubeUpstreams } from '../../src/proxy/kube-upstream.js';
import { startProxyServer, type ProxyServer } from '../../src/proxy/server.js';
import { ProxyTickets } from '../../src/proxy/sessions.js';
import { upstreamsByClusterType } from '../../src/proxy/upstream.js';
import { DEFAULT_WAKE_SETTINGS } from '../../src/proxy/wake.js';
import { adminClients, realClusterSkip, testNamespace, type AdminClients, type TestNamespace } from '../runtimes/kubernetes/real-cluster/cluster.js';
import { proxyGet } from './helpers.js';

const owner: Principal = { actor: 'token:owner', role: 'owner', grants: new Map() };

function runningK8s(name: string, namespace: string): WorkspaceRecord {
  return {
    name,
    uid: `uid-${name}`,
    cluster_type: 'k8s',
    desired_state: 'running',
    spec: { namespace, lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 } } },
    observed: { status: 'RUNNING', ip: '10.96.0.10:6789' },
  } as unknown as WorkspaceRecord;
}

function kubeconfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'the-kube-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'team' }],
    currentContext: 'x',
  });
  return kc;
}

test('in a cluster, a Kubernetes workspace is reached at its Service\'s DNS name, with no credentials added', async () => {
  const kube = kubeUpstreams(kubeconfig('https://10.0.0.1:6443'), 'service', 'team');
  await kube.refresh();
  const up = kube.upstreamOf(runningK8s('nb', 'data'))!;
  assert.equal(up.origin, 'http://nb-service.data.svc:6789');
  assert.equal(up.pathPrefix, '');
  assert.deepEqual(up.headers, {});
  assert.equal(kube.upstreamOf({ ...runningK8s('nb', 'data'), desired_state: 'stopped' } as WorkspaceRecord), undefined);
});

test('from outside, through the API server\'s service proxy path, with the kubeconfig\'s token', async () => {
  const kube = kubeUpstreams(kubeconfig('https://10.0.0.1:6443/'), 'api-server', 'team');
  await kube.refresh();
  const up = kube.upstreamOf({ ...runningK8s('nb', 'data'), spec: { lifecycle: {} } } as unknown as WorkspaceRecord)!;
  assert.equal(up.origin, 'https://10.0.0.1:6443');
  assert.equal(up.pathPrefix, '/api/v1/namespaces/team/services/nb-service:6789/proxy', 'no namespace of its own: the default one');
  assert.deepEqual(up.headers, { authorization: 'Bearer the-kube-token' });
  assert.equal(kube.tls.rejectUnauthorized, false);
});

describe('through the real API server\'s service proxy', { skip: realClusterSkip() }, () => {
  let admin: AdminClients;
  let ns: TestNamespace;
  let proxy: ProxyServer;
  let proxyUrl: string;
  const name = `pk-${Math.random().toString(36).slice(2, 7)}`;
  const missing = `${name}-gone`;

  before(async () => {
    admin = adminClients();
    ns = await testNamespace(admin, 'proxy');
    // The Service wsm makes (runtimes/kubernetes/manifests.ts): port 6789, selecting the workspace's pod, which never runs here.
    await admin.core.createNamespacedService({
      namespace: ns.name,
      body: { metadata: { name: `${name}-service` }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 6789, targetPort: 6789 as never }] } },
    });
    const kube = kubeUpstreams(ns.wsmConfig, 'api-server', ns.name);
    await kube.refresh();
    const workspaces = new Map([name, missing].map((w) => [w, runningK8s(w, ns.name)]));
    let port = 0;
    proxy = await startProxyServer({
      listen: { host: '127.0.0.1', port: 0 },
      addressing: new ProxyAddressing({ mode: 'path' }, () => `http://127.0.0.1:${port}`),
      apiUrl: () => 'http://127.0.0.1:1',
      store: { getWorkspace: async (w: string) => workspaces.get(w) } as unknown as Store,
      auth: { verify: async (secret: string) => (secret === 'wsm-owner' ? owner : undefined) } as unknown as Authenticator,
      tickets: new ProxyTickets(),
      activity: { record: async () => undefined },
      resume: async () => undefined,
      wake: DEFAULT_WAKE_SETTINGS,
      upstreamOf: upstreamsByClusterType({ k8s: kube.upstreamOf }),
      tls: kube.tls,
      logger: pino({ level: 'silent' }),
      authFailures: { limit: 0, windowSeconds: 60 },
    });
    port = proxy.port!;
    proxyUrl = proxy.addressing.baseUrl;
  });

  after(async () => {
    await proxy?.close();
    await ns?.dispose();
  });

  test('a request reaches the service proxy of that workspace\'s Service, allowed by wsm\'s Role; the API server says it has no endpoint yet', async () => {
    const res = await proxyGet(`${proxyUrl}/${name}/notebooks?x=1`, { 'OAUTH-TOKEN': 'wsm-owner' });
    // Without the Role's services/proxy rule this is a 403 naming the ServiceAccount; without the token, a 401.
    assert.equal(res.status, 503, res.text);
    const status = res.json();
    assert.equal(status.kind, 'Status');
    assert.match(status.message, new RegExp(`no endpoints available for service "${name}-service"`));
  });

  test('a workspace whose Service is missing: the API server\'s 404 names that Service in that namespace', async () => {
    const res = await proxyGet(`${proxyUrl}/${missing}/`, { 'OAUTH-TOKEN': 'wsm-owner' });
    assert.equal(res.status, 404, res.text);
    assert.match(res.json().message, new RegExp(`services "${missing}-service" not found`));
  });

  test('the workspace is not "ready" through the API server while the Service has no endpoint (a wake keeps waiting)', async () => {
    const kube = kubeUpstreams(ns.wsmConfig, 'api-server', ns.name);
    await kube.refresh();
    assert.equal(await kube.upstreamOf(runningK8s(name, ns.name))!.ready(5_000), false);
  });
});
