// Readiness: the store answers and has every migration this build knows applied. Engines are checked
// too, but an engine that is down (Docker stopped, the API server away) does not make a replica
// unready: reads and the console must keep working, and the controller waits the engine out. The
// answer is kept for a moment, so probes and scrapes arriving together cost one check.
import type { ClusterType } from '../core/types.js';
import type { Runtime } from '../core/runtime.js';
import type { Store } from '../store/store.js';

export interface RuntimeReachability {
  reachable: boolean;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  /** Why not ready; absent when ready. */
  reason?: string;
  runtimes: Partial<Record<ClusterType, RuntimeReachability>>;
}

export interface ReadinessOptions {
  /** Longest wait for the store and for each engine. */
  timeoutMs: number;
  /** How long one answer is reused. */
  reuseMs: number;
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export class ReadinessChecker {
  private last?: { at: number; answer: Promise<Readiness> };

  constructor(
    private readonly store: Pick<Store, 'unreadyReason'>,
    private readonly runtimes: Map<ClusterType, Runtime>,
    private readonly options: ReadinessOptions = { timeoutMs: 2_000, reuseMs: 1_000 },
  ) {}

  check(): Promise<Readiness> {
    const now = Date.now();
    if (!this.last || now - this.last.at >= this.options.reuseMs) this.last = { at: now, answer: this.checkNow() };
    return this.last.answer;
  }

  private async checkNow(): Promise<Readiness> {
    const [reason, ...engines] = await Promise.all([
      this.store.unreadyReason(this.options.timeoutMs),
      ...[...this.runtimes].map(async ([type, runtime]) => [type, await this.reach(runtime)] as const),
    ]);
    return { ready: reason === undefined, ...(reason === undefined ? {} : { reason }), runtimes: Object.fromEntries(engines) };
  }

  /** The engine's cheapest request (ping); a runtime without one has no engine to lose. */
  private async reach(runtime: Runtime): Promise<RuntimeReachability> {
    if (!runtime.ping) return { reachable: true };
    try {
      await withTimeout(runtime.ping(AbortSignal.timeout(this.options.timeoutMs)), this.options.timeoutMs, `the ${runtime.clusterType} engine`);
      return { reachable: true };
    } catch (err) {
      return { reachable: false, error: err instanceof Error ? err.message : String(err) };
    }
  }
}
