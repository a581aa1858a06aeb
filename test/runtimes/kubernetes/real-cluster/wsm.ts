// A wsm server on the Kubernetes runtime, pointed by KUBECONFIG at the real API server as its own
// ServiceAccount (the path users run: the official client, the kubeconfig loaded from the environment,
// the Role of deploy/kubernetes), in a namespace of its own, with a test kubelet reporting its pods.
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../support/server.js';
import { adminClients, testNamespace, until, type AdminClients, type TestNamespace } from './cluster.js';
import { TestKubelet } from './kubelet.js';

export interface RealWsm {
  admin: AdminClients;
  ns: TestNamespace;
  srv: TestServer;
  kubelet: TestKubelet;
  /** The workspace as the API shows it. */
  ws(name: string): Promise<any>;
  /** Waits until the workspace, as the API shows it, passes `check`. */
  waitFor(name: string, check: (ws: any) => boolean, what: string, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export const IMAGE = 'busybox:1.36';

export async function startRealWsm(tag: string, env: Record<string, string> = {}): Promise<RealWsm> {
  const admin = adminClients();
  const ns = await testNamespace(admin, tag);
  const kubelet = new TestKubelet(admin.core, ns.name).start();
  let srv: TestServer;
  try {
    srv = await startTestServer({
      clusterType: 'k8s',
      // A long resync: what is repaired or noticed in these tests is noticed through the watches.
      env: { KUBECONFIG: ns.kubeconfigPath, WSM_RESYNC_SECONDS: '3600', WSM_DEFAULT_IMAGE: IMAGE, ...env },
    });
  } catch (err) {
    await kubelet.stop();
    await ns.dispose();
    throw err;
  }
  const ws = async (name: string) => {
    const res = await srv.request('GET', `/api/workspaces/${name}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.workspace;
  };
  return {
    admin,
    ns,
    srv,
    kubelet,
    ws,
    waitFor: async (name, check, what, timeoutMs = 60_000) => {
      let last: any;
      try {
        return await until(async () => {
          last = await ws(name);
          return check(last) ? last : undefined;
        }, `${name}: ${what}`, timeoutMs);
      } catch (err) {
        (err as Error).message += `; the workspace last showed ${JSON.stringify({ status: last?.instance?.status, message: last?.status_message, conditions: last?.conditions })}`;
        throw err;
      }
    },
    async close() {
      try {
        await srv.close();
      } finally {
        await kubelet.stop();
        await ns.dispose();
      }
    },
  };
}

export const condition = (ws: any, type: string) => (ws.conditions as any[]).find((c) => c.type === type);

/** POST /api/workspaces on Kubernetes; asserts 201. */
export async function createWorkspace(w: RealWsm, name: string, containerConfig = '', extra: Record<string, unknown> = {}): Promise<any> {
  const res = await w.srv.request('POST', '/api/workspaces', {
    body: { workspace: { name, cluster_type: 'k8s', container_config: `image: ${IMAGE}\n${containerConfig}`, ...extra } },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.workspace;
}

/** PUT an action; asserts 200 and returns the operation it started. */
export async function act(w: RealWsm, name: string, workspace: Record<string, unknown>): Promise<any> {
  const res = await w.srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.operation;
}

/** Waits for an operation to settle and returns it. */
export async function settled(w: RealWsm, name: string, id: string, timeoutMs = 60_000): Promise<any> {
  return until(async () => {
    const res = await w.srv.request('GET', `/api/workspaces/${name}/operations`);
    if (res.status !== 200) return undefined;
    const op = (res.body.operations as any[]).find((o) => o.id === id);
    return op && (op.state === 'succeeded' || op.state === 'failed') ? op : undefined;
  }, `operation ${id} of ${name} to settle`, timeoutMs);
}
