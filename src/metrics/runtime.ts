// A Runtime that times every call into the one it wraps and counts its failures and event-stream
// restarts, by runtime and call. It offers exactly the optional calls the wrapped runtime offers, so
// the controller's checks (`runtime.usage`, `runtime.readPostStart`, ...) see no difference.
import type { ClusterType } from '../core/types.js';
import type { Runtime } from '../core/runtime.js';
import type { Families } from './families.js';

export function instrumentRuntime(inner: Runtime, families: Families): Runtime {
  const runtime = inner.clusterType;
  const timed = <A extends unknown[], R>(call: string, fn: (...args: A) => Promise<R>): ((...args: A) => Promise<R>) => {
    const duration = families.runtimeDuration.labels(runtime, call);
    const errors = families.runtimeErrors.labels(runtime, call);
    // Created now, so a call that never failed still shows its error counter at 0.
    errors.inc(0);
    return async (...args: A) => {
      const began = performance.now();
      try {
        return await fn(...args);
      } catch (err) {
        errors.inc();
        throw err;
      } finally {
        duration.observe((performance.now() - began) / 1000);
      }
    };
  };
  const bound = <K extends keyof Runtime>(key: K) => (inner[key] as (...a: unknown[]) => unknown).bind(inner);

  const wrapped: Runtime = {
    clusterType: inner.clusterType,
    supportsIngress: inner.supportsIngress,
    apply: timed('apply', bound('apply') as Runtime['apply']),
    remove: timed('remove', bound('remove') as Runtime['remove']),
    observe: timed('observe', bound('observe') as Runtime['observe']),
    close: () => inner.close(),
  };
  // Readiness' check, not work the controller asks for: passed through untimed.
  if (inner.ping) wrapped.ping = inner.ping.bind(inner);
  if (inner.dryRunApply) wrapped.dryRunApply = timed('dry_run_apply', bound('dryRunApply') as NonNullable<Runtime['dryRunApply']>);
  if (inner.listInstances) wrapped.listInstances = timed('list_instances', bound('listInstances') as NonNullable<Runtime['listInstances']>);
  if (inner.exec) wrapped.exec = timed('exec', bound('exec') as NonNullable<Runtime['exec']>);
  if (inner.readPostStart) wrapped.readPostStart = timed('read_post_start', bound('readPostStart') as NonNullable<Runtime['readPostStart']>);
  if (inner.httpGet) wrapped.httpGet = timed('http_get', bound('httpGet') as NonNullable<Runtime['httpGet']>);
  if (inner.usage) wrapped.usage = timed('usage', bound('usage') as NonNullable<Runtime['usage']>);
  if (inner.watch) {
    const watch = inner.watch.bind(inner);
    wrapped.watch = (onChange, onRestart) =>
      watch(onChange, (reason) => {
        families.watchRestarts.labels(runtime, reason).inc();
        onRestart?.(reason);
      });
  }
  return wrapped;
}

/** Every runtime of the map, instrumented, under the same keys. */
export function instrumentRuntimes(runtimes: Map<ClusterType, Runtime>, families: Families): Map<ClusterType, Runtime> {
  return new Map([...runtimes].map(([type, runtime]) => [type, instrumentRuntime(runtime, families)]));
}
