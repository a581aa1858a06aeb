// A runtime that does nothing and succeeds at once. Only the benchmark scenarios that isolate the
// control plane use it (and say so in their output): with it, every figure is wsm's own cost.
// `rebooted` plays a host just rebooted: nothing runs until wsm starts it (each start is then
// remembered), so every desired-running workspace needs its restart.
import type { ObservedInstance, Runtime, RuntimeWorkspace } from '../src/core/runtime.js';
import type { ClusterType } from '../src/core/types.js';

export class NoopRuntime implements Runtime {
  readonly supportsIngress = false;
  /** Rebooted: the workspaces started since; otherwise unused (everything desired running runs). */
  private readonly started = new Set<string>();

  constructor(readonly clusterType: ClusterType = 'local', private readonly rebooted = false) {}

  async apply(ws: RuntimeWorkspace): Promise<ObservedInstance> {
    if (ws.desired === 'running') this.started.add(ws.name);
    else this.started.delete(ws.name);
    return this.observe(ws);
  }

  async observe(ws: RuntimeWorkspace): Promise<ObservedInstance> {
    const runs = ws.desired === 'running' && (!this.rebooted || this.started.has(ws.name));
    return {
      status: runs ? 'RUNNING' : 'STOPPED',
      generation: ws.generation,
      instance_name: ws.name,
      instance_type: 'noop',
    };
  }

  async remove(): Promise<void> {}

  async close(): Promise<void> {}
}
