// Shared set-up for the Kubernetes runtime tests: a fake API server, a runtime pointed at it, workspaces.
import assert from 'node:assert/strict';
import type { RuntimeWorkspace } from '../../../src/core/runtime.js';
import { KubernetesRuntime, type KubernetesRuntimeOptions } from '../../../src/runtimes/kubernetes/index.js';
import { FakeKubeApi, type FakeKubeApiOptions } from '../../support/fake-kube-api/index.js';

export function workspace(name: string, overrides: Partial<RuntimeWorkspace> = {}): RuntimeWorkspace {
  return {
    name,
    generation: 1,
    desired: 'running',
    container: {},
    image: 'mageai/mageai:0.9.76',
    env: [{ name: 'MAGE_ENV', value: 'dev' }],
    lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 } },
    storage: { access_mode: 'ReadWriteOnce', request_size: '2Gi', retention_policy: 'Retain', mount_path: '/home/src' },
    ingress: { enabled: false },
    hooks: {},
    ...overrides,
  };
}

export interface Harness {
  fake: FakeKubeApi;
  runtime: KubernetesRuntime;
  newRuntime(options?: Partial<KubernetesRuntimeOptions>): KubernetesRuntime;
  close(): Promise<void>;
}

export async function harness(options: Partial<KubernetesRuntimeOptions> = {}, fakeOptions: FakeKubeApiOptions = {}): Promise<Harness> {
  const fake = await FakeKubeApi.start(fakeOptions);
  const runtimes: KubernetesRuntime[] = [];
  const newRuntime = (extra: Partial<KubernetesRuntimeOptions> = {}) => {
    const r = new KubernetesRuntime({ kubeConfig: fake.kubeConfig('team'), requestTimeoutMs: 2000, watchRetryMs: { initial: 50, max: 200 }, ...options, ...extra });
    runtimes.push(r);
    return r;
  };
  const runtime = newRuntime();
  return {
    fake,
    runtime,
    newRuntime,
    async close() {
      for (const r of runtimes) await r.close();
      await fake.close();
    },
  };
}

/** Polls until `check` returns a value that is not undefined/false; generous bound, no timing assertions. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Applies until the runtime reports `status` (apply is what the controller calls repeatedly). */
export async function applyUntil(runtime: KubernetesRuntime, ws: RuntimeWorkspace, status: string) {
  return eventually(async () => {
    const observed = await runtime.apply(ws);
    return observed.status === status ? observed : undefined;
  }, `${ws.name} to be ${status}`);
}

/** Fails the test if any object the runtime sent was rejected by schema validation. */
export function assertNoInvalidWrites(fake: FakeKubeApi): void {
  assert.deepEqual(fake.invalidWrites.map((w) => `${w.method} ${w.path}: ${w.problems.join('; ')}`), []);
}

type Obj = Record<string, any>;
export const podSpecOf = (fake: FakeKubeApi, ns: string, name: string): Obj => (fake.get('statefulsets', ns, name)!.spec as Obj).template.spec;
export const containerOf = (fake: FakeKubeApi, ns: string, name: string): Obj => podSpecOf(fake, ns, name).containers[0];
