// A runtime that does nothing and succeeds at once. Only the benchmark scenarios that isolate the
// control plane use it (and say so in their output): with it, every figure is wsm's own cost.
import type { ObservedInstance, Runtime, RuntimeWorkspace } from '../src/core/runtime.js';
import type { ClusterType } from '../src/core/types.js';

export class NoopRuntime implements Runtime {
  readonly supportsIngress = false;

  constructor(readonly clusterType: ClusterType = 'local') {}

  async apply(ws: RuntimeWorkspace): Promise<ObservedInstance> {
    return this.observe(ws);
  }

  async observe(ws: RuntimeWorkspace): Promise<ObservedInstance> {
    return {
      status: ws.desired === 'running' ? 'RUNNING' : 'STOPPED',
      generation: ws.generation,
      instance_name: ws.name,
      instance_type: 'noop',
    };
  }

  async remove(): Promise<void> {}

  async close(): Promise<void> {}
}
