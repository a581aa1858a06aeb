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
  /** Shutting down: serving what still arrives, but load balancers should send no more. */
  draining?: boolean;
  runtimes: Partial<Record<ClusterType, RuntimeReachability>>;
  /** Whether this replica leads (runs the controller), and in which term; never a cause of unreadiness. */
  leader?: { leading: boolean; term?: number };
}

/** Who leads, as this replica knows it now. */
export interface LeaderView {
  readonly leading: boolean;
  readonly term: number | undefined;
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
  private leadership?: LeaderView;
  private isDraining = false;

  constructor(
    private readonly store: Pick<Store, 'unreadyReason'>,
    private readonly runtimes: Map<ClusterType, Runtime>,
    private readonly options: ReadinessOptions = { timeoutMs: 2_000, reuseMs: 1_000 },
  ) {}

  /** Where the answer's `leader` is read from (at each answer: it is not kept with the rest). */
  watchLeadership(view: LeaderView): void {
    this.leadership = view;
  }

  /** From now on every answer is "draining" (unready), whatever the store says. */
  drain(): void {
    this.isDraining = true;
  }

  get draining(): boolean {
    return this.isDraining;
  }

  async check(): Promise<Readiness> {
    if (this.isDraining) {
      return { ready: false, draining: true, reason: 'draining: this replica is shutting down; send requests to another', runtimes: {}, leader: { leading: false } };
    }
    const now = Date.now();
    if (!this.last || now - this.last.at >= this.options.reuseMs) this.last = { at: now, answer: this.checkNow() };
    const answer = await this.last.answer;
    const view = this.leadership;
    if (!view) return answer;
    return { ...answer, leader: { leading: view.leading, ...(view.term === undefined ? {} : { term: view.term }) } };
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
