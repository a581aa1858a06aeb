// The real Kubernetes control plane CI starts (scripts/ci/start-kube.sh exports WSM_TEST_KUBECONFIG, its admin
// kubeconfig, and WSM_TEST_KUBE_DIR, where start-cluster.sh keeps its processes). A namespace per test, with
// wsm's own ServiceAccount bound to deploy/kubernetes/role.yaml, and a kubeconfig holding a token of that
// account: wsm runs with exactly the Role it ships, so a missing permission fails a test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { get as httpsGet } from 'node:https';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, NetworkingV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { eventually } from '../helpers.js';

const DEPLOY = join(import.meta.dirname, '../../../../deploy/kubernetes');

/**
 * Why the suite does not run here, or false. In CI (CI=true) it always runs: without the variable the
 * suite's set-up fails instead of skipping, so a CI that lost its cluster cannot pass silently.
 */
export function realClusterSkip(): string | false {
  if (process.env.WSM_TEST_KUBECONFIG || process.env.CI === 'true') return false;
  return 'real-cluster suite: set WSM_TEST_KUBECONFIG (scripts/ci/start-kube.sh prints it) to run it';
}

export function adminConfig(): KubeConfig {
  const path = process.env.WSM_TEST_KUBECONFIG;
  assert.ok(path, 'WSM_TEST_KUBECONFIG is not set: CI must start the control plane (scripts/ci/start-kube.sh) and run this suite');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export interface AdminClients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  net: NetworkingV1Api;
}

export function adminClients(kc = adminConfig()): AdminClients {
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), net: kc.makeApiClient(NetworkingV1Api) };
}

function manifest(file: string): any {
  return parse(readFileSync(join(DEPLOY, file), 'utf8'));
}

export interface TestNamespace {
  name: string;
  /** A kubeconfig file for wsm's ServiceAccount, with this namespace as its context's namespace. */
  kubeconfigPath: string;
  /** The same, loaded. */
  wsmConfig: KubeConfig;
  dispose(): Promise<void>;
}

let counter = 0;

/** A fresh namespace with the ServiceAccount, Role and RoleBinding of deploy/kubernetes, and the account's token. */
export async function testNamespace(admin: AdminClients, tag: string): Promise<TestNamespace> {
  const name = `wsm-${tag}-${process.pid.toString(36)}${(counter++).toString(36)}-${Date.now().toString(36).slice(-4)}`;
  await admin.core.createNamespace({ body: { metadata: { name, labels: { 'wsm-test': 'true' } } } });
  const rbac = admin.kc.makeApiClient(RbacAuthorizationV1Api);
  const account = manifest('serviceaccount.yaml');
  await admin.core.createNamespacedServiceAccount({ namespace: name, body: account });
  await rbac.createNamespacedRole({ namespace: name, body: manifest('role.yaml') });
  await rbac.createNamespacedRoleBinding({ namespace: name, body: manifest('rolebinding.yaml') });
  const token = await admin.core.createNamespacedServiceAccountToken({
    name: account.metadata.name,
    namespace: name,
    body: { spec: { expirationSeconds: 7200, audiences: [] } },
  });
  const server = admin.kc.getCurrentCluster()!.server;
  const dir = mkdtempSync(join(tmpdir(), 'wsm-kube-sa-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: test\n  cluster: {server: "${server}", insecure-skip-tls-verify: true}`,
    'users:',
    `- name: wsm\n  user: {token: "${token.status!.token}"}`,
    'contexts:',
    `- name: wsm\n  context: {cluster: test, user: wsm, namespace: ${name}}`,
    'current-context: wsm',
    '',
  ].join('\n');
  writeFileSync(kubeconfigPath, text, { mode: 0o600 });
  const wsmConfig = new KubeConfig();
  wsmConfig.loadFromFile(kubeconfigPath);
  return {
    name,
    kubeconfigPath,
    wsmConfig,
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
      await admin.core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}

/** The fast suite's eventually(), with the longer bound a real API server and controller-manager need. */
export function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  return eventually(check, what, timeoutMs);
}

/** Whether a read answered 404. */
export async function gone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return true;
    throw err;
  }
}

function kubeDir(): string {
  const dir = process.env.WSM_TEST_KUBE_DIR;
  assert.ok(dir, 'WSM_TEST_KUBE_DIR is not set: it is where start-cluster.sh keeps the API server pid (scripts/ci/start-kube.sh exports it)');
  return dir;
}

/** GET /readyz; the test cluster's certificate is self-signed (its kubeconfig skips verification too). */
function readyz(admin: AdminClients): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsGet(
      `${admin.kc.getCurrentCluster()!.server}/readyz`,
      { rejectUnauthorized: false, headers: { Authorization: `Bearer ${admin.kc.getCurrentUser()!.token}` }, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** The kube-apiserver started from this cluster's directory: found by its executable's path, not a name. */
function apiServerProcess(): { pid: number; argv: string[] } | undefined {
  const exe = join(kubeDir(), 'bin', 'kube-apiserver');
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((a) => a.length > 0);
      if (argv[0] === exe && running(Number(entry))) return { pid: Number(entry), argv };
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function running(pid: number): boolean {
  try {
    // A zombie (exited, not yet reaped by whoever started it) is not running.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Stops the kube-apiserver process (SIGTERM; SIGKILL if it is still shutting down after 5 s: its graceful
 * shutdown waits for open watches) and returns a function that starts it again with the same command line and waits
 * until it is ready. etcd keeps the objects meanwhile.
 */
export async function stopApiServer(admin: AdminClients): Promise<() => Promise<void>> {
  const pidFile = join(kubeDir(), 'apiserver.pid');
  const found = apiServerProcess();
  assert.ok(found, `no kube-apiserver of ${kubeDir()} is running`);
  const { pid, argv } = found;
  const startAgain = async () => {
    const log = join(kubeDir(), 'apiserver.log');
    const child = spawn('/bin/sh', ['-c', 'exec "$@" >>"$0" 2>&1', log, ...argv], { detached: true, stdio: 'ignore' });
    child.unref();
    writeFileSync(pidFile, `${child.pid}\n`);
    await until(() => readyz(admin), 'the API server to be ready again', 90_000);
  };
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5_000;
  while (running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (running(pid)) process.kill(pid, 'SIGKILL');
  await until(() => !running(pid), 'the API server to exit', 10_000).catch(async (err) => {
    await startAgain();
    throw err;
  });
  return startAgain;
}
