// How soon a workspace that has not settled is looked at again: at once-ish while it moves (each pass
// changed something), then less and less often while passes change nothing, capped, with jitter so
// that many stuck workspaces spread out. Events (a request, an engine's report) still wake it at once.
import { backoffDelay, type BackoffPolicy } from '../lib/backoff.js';

export class UnsettledBackoff {
  /** Passes in a row that changed nothing, per workspace. */
  private readonly idlePasses = new Map<string, number>();

  constructor(private readonly policy: BackoffPolicy) {}

  /** The delay before the next look; `progressed` starts the doubling afresh. */
  next(name: string, progressed: boolean): number {
    const passes = progressed ? 1 : (this.idlePasses.get(name) ?? 0) + 1;
    this.idlePasses.set(name, passes);
    // A workspace on the move is looked at on time; jitter spreads only the ones that are stuck.
    return passes === 1 ? this.policy.baseMs : backoffDelay(this.policy, passes);
  }

  /** Settled or gone: the next time it is unsettled starts short again. */
  forget(name: string): void {
    this.idlePasses.delete(name);
  }
}
